/**
 * KairosCluster's arguments (the public contract) and their validation at construction. Grouped
 * like a variables file: what to boot, where, the cluster's shape, access, the escape hatch, waits.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CloudConfig, User, ValidationIssue } from "../../kairos/cloudconfig/model";
import { DEFAULT_ADMIN_USER } from "../../kairos/cluster-config";
import { MAX_CLUSTER_NAME_LENGTH, validateClusterSpec, type ClusterSpec } from "../../kairos/roles/plan";
import { validateLibvirtTarget, type LibvirtTargetArgs } from "./targets/libvirt";
import { validateMediaTarget, type MediaTargetArgs } from "./targets/media";
import { validateSshTarget, type SshTargetArgs } from "./targets/ssh";
import type { ResolvedTimeouts } from "./targets/types";
import { validateOsImageRef } from "../../kairos/upgrade";

export type { LibvirtTargetArgs, LibvirtNetworkArgs } from "./targets/libvirt";
export type { SshTargetArgs, SshTargetHost } from "./targets/ssh";
export type { MediaTargetArgs } from "./targets/media";

/** The Kairos image every node boots. `KairosImage.clusterImage()` fits here as is. */
export interface ClusterImageArgs {
  /**
   * `disk`: a pre-installed raw or qcow2 Kairos image; the node boots it directly (no installer).
   * `iso`: a Kairos live ISO; each node installs itself to its disk (`install.auto`) and reboots.
   */
  kind: "disk" | "iso";
  /** Local file. Exactly one of `path` and `url`. Relative paths resolve from the working directory. */
  path?: string;
  /** http(s) URL of the image, downloaded and checked against `sha256`. Exactly one of `path` and `url`. */
  url?: string;
  /** SHA-256 (64 hex) of the file at `url`. With `url`, exactly one of `sha256` and `checksumUrl`. */
  sha256?: string;
  /**
   * URL of a `sha256sum` file that names the image (Kairos releases publish `<iso>.sha256` beside each
   * ISO); the digest is read from it at create time. With `url`, exactly one of `sha256` and `checksumUrl`.
   */
  checksumUrl?: string;
  /** File format. @default - detected (`qemu-img info`) */
  format?: "qcow2" | "raw" | "iso";
}

/**
 * Where the nodes run: `libvirt` VMs, machines booted into the Kairos live ISO reached over `ssh`,
 * or boot `media` written to a folder (no connection: no readiness wait, no kubeconfig).
 */
export type ClusterTargetArgs = LibvirtTargetArgs | SshTargetArgs | MediaTargetArgs;

/** k3s settings; every field may be computed (an Output). */
export interface ClusterK3sArgs {
  /** k3s release the image carries (checked, not installed: Kairos bakes k3s into the image), e.g. "v1.36.3+k3s1". */
  version?: pulumi.Input<string>;
  /** Extra k3s server arguments, e.g. ["--disable=traefik"]. `--cluster-init`, `--server`, `--token` are ours. */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /** Extra k3s agent arguments. */
  agentArgs?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Virtual IP for the API, announced by kube-vip on the servers; becomes the API endpoint. Explicit
   * mode only. When it is an Output, the joining nodes wait for the first server as if it were unset.
   */
  vip?: pulumi.Input<string>;
  /** Interface carrying the VIP. @default "eth0" */
  vipInterface?: pulumi.Input<string>;
}

/** {@link ClusterK3sArgs} with every value known. */
export interface ResolvedK3sArgs {
  version?: string;
  args?: string[];
  agentArgs?: string[];
  vip?: string;
  vipInterface?: string;
}

/** p2p mode: roles elected at boot over edgevpn instead of fixed by the plan. */
export interface ClusterP2pArgs {
  /** Turns on p2p mode: roles elected at boot over edgevpn (docs/kairos-notes.md §4). */
  enabled: true;
  /** Ledger bucket separating clusters that share a network token. @default the cluster name */
  networkId?: string;
  /** Control planes beyond the first. @default servers - 1 */
  haMasterNodes?: number;
}

/** The cluster's secrets: what you bring instead of having it generated, and the rotation trigger. */
export interface ClusterSecretsOptions {
  /** Any value; changing it regenerates the secrets you did not supply, and replaces every node. */
  rotate?: pulumi.Input<string>;
  /** Bring your own edgevpn token (secret). @default - generated */
  networkToken?: pulumi.Input<string>;
  /** Bring your own k3s token (secret). @default - generated */
  k3sToken?: pulumi.Input<string>;
  /** Bring your own ed25519 admin key (OpenSSH, unencrypted; secret). @default - generated */
  sshPrivateKey?: pulumi.Input<string>;
}

/** How changes that restart nodes go through the cluster (config, hardware settings). */
export interface ClusterRolloutArgs {
  /** Agents restarted at the same time (servers always go one at a time). @default 1 */
  maxUnavailable?: number;
  /** Bound of `kubectl drain` per node, in seconds. @default 300 */
  drainTimeoutSeconds?: number;
  /** `kubectl drain --force`: also delete pods no controller would recreate. @default false */
  forceDrain?: boolean;
}

/** How an `osImage` change is carried out. */
export interface ClusterUpgradeArgs {
  /**
   * `ssh`: pulumi-kairos upgrades each node over SSH (cordon, drain, `kairos-agent upgrade`, reboot,
   * Ready, release checked, uncordon), rolling like a config change; it needs nothing in the
   * cluster and works when the API cannot be reached from here. `operator`: a kairos-operator
   * NodeOpUpgrade is created through `kubernetesProvider` and waited for (the operator must run in
   * the cluster, or set `operator.install`). @default "ssh"
   */
  mode?: "ssh" | "operator";
  /** Also upgrade the recovery system (after the active one). @default false */
  recovery?: boolean;
  /**
   * Lift the refusals that only suspect a mistake (another flavor, repository, board model, UKI
   * switch) and the refusal to upgrade while a node is not Ready. Never lifts a k3s minor skip or
   * downgrade, a distribution or architecture change. @default false
   */
  force?: boolean;
  /** operator mode. */
  operator?: {
    /** Install the kairos-operator (its pinned Helm chart) through `kubernetesProvider`. @default false */
    install?: boolean;
    /** Bound of the wait for the NodeOpUpgrade to complete, in seconds. @default 3600 */
    timeoutSeconds?: number;
  };
}

/** Bounds of the waits in `pulumi up`, in seconds. */
export interface ClusterTimeoutsArgs {
  /** Wait for each VM's address, in seconds. @default 300 */
  addressSeconds?: number;
  /** Wait for SSH as the admin user on every node (includes first boot / install), in seconds. @default 900 */
  sshSeconds?: number;
  /** Wait for the k3s API, every node Ready and the kubeconfig, in seconds. @default 900 */
  readySeconds?: number;
}

/** Arguments of {@link KairosCluster}: `image` and `target` are required. */
export interface KairosClusterArgs {
  /** Cluster name: a DNS label, at most 40 characters; node names are `<name>-server-<i>`. @default the resource name */
  clusterName?: string;
  /** What every node boots. */
  image: pulumi.Input<ClusterImageArgs>;
  /** Where the nodes run, discriminated by `kind`. */
  target: ClusterTargetArgs;
  /** Control-plane nodes: 1 or an odd number (embedded etcd). p2p: control planes to elect. @default 1 */
  servers?: number;
  /** Worker nodes. @default 0 */
  agents?: number;
  /** k3s settings (may be an Output, as may each field). */
  k3s?: pulumi.Input<ClusterK3sArgs>;
  /** p2p mode. @default - explicit mode (recommended: roles fixed by the plan) */
  p2p?: ClusterP2pArgs;
  /** Admin user created on every node (group admin, passwordless sudo, SSH keys only). @default "kairos-admin" */
  adminUser?: string;
  /** More users for every node (may be an Output, e.g. a secret password hash). */
  users?: pulumi.Input<User[]>;
  /** Extra public keys for the admin user, besides the cluster's generated one. */
  sshAuthorizedKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Raw cloud-config merged over ours on every node (lists appended, other values replace ours).
   * May be an Output (a secret stays secret). A change reaches running nodes as `configChange` says
   * (by default written to /oem and rebooted, one node at a time).
   */
  extraConfig?: pulumi.Input<CloudConfig>;
  /**
   * Raw cloud-config per node name (e.g. `{ "demo-agent-1": {...} }`), merged after `extraConfig`.
   * May be an Output. Changing a node's entry touches that node only.
   */
  nodeExtraConfig?: pulumi.Input<Record<string, pulumi.Input<CloudConfig>>>;
  /** Owned cloud-config paths (e.g. "hostname") that extraConfig may change anyway. @default [] */
  allowOverride?: string[];
  /** Secrets: generated once and kept in state unless supplied or rotated. */
  secrets?: ClusterSecretsOptions;
  /**
   * How a changed cloud-config reaches running nodes (Talos' apply modes are the model):
   * `reboot`: written to the node's /oem over SSH, then the node is drained and rebooted, one node
   * at a time (Kairos reads /oem at every boot; a reboot is how any config change takes effect).
   * `staged`: written to /oem only; it takes effect at the node's next reboot (see `pendingReboot`
   * in the node's NodeConfig). `reinstall`: the node is rebuilt from a fresh disk (all changed
   * nodes at once). Kairos reads cidata only once, so a new cidata volume alone would change nothing.
   * @default "reboot"
   */
  configChange?: "reboot" | "staged" | "reinstall";
  /** Rolling of node restarts. */
  rollout?: ClusterRolloutArgs;
  /**
   * The OS image the nodes should run: the OCI reference of a Kairos image, e.g.
   * `quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1`, or a KairosImage's
   * pushed reference. A tag (or digest) is required. A change upgrades the running nodes in place,
   * the Kairos way (A/B: the new image goes to the passive system and the node reboots into it; the
   * previous one stays for fallback), servers first one at a time, then agents `maxUnavailable` at a
   * time; never a rebuild. A node added later (or rebuilt) whose release differs from the tag's is
   * upgraded as it joins. May be an Output. @default - not managed: nodes run what they were installed from
   */
  osImage?: pulumi.Input<string>;
  /** How an `osImage` change is carried out. */
  upgrade?: ClusterUpgradeArgs;
  timeouts?: ClusterTimeoutsArgs;
}

export const DEFAULT_TIMEOUTS: ResolvedTimeouts = { addressSeconds: 300, sshSeconds: 900, readySeconds: 900 };

/** One error carrying every problem, one per line (field, value, what is accepted). */
export class KairosClusterArgsError extends Error {
  constructor(readonly cluster: string, readonly issues: readonly ValidationIssue[]) {
    super([`KairosCluster ${cluster}: invalid arguments (${issues.length} problem${issues.length === 1 ? "" : "s"})`,
      ...issues.map((i) => `  - ${i.path}: ${i.value} is not valid; expected ${i.expected}`)].join("\n"));
    this.name = "KairosClusterArgsError";
  }
}

const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));
const isPlain = (v: unknown) => !pulumi.Output.isInstance(v) && !(v instanceof Promise);

/** `v` itself when nothing in it is an Output or a Promise (deeply), else `undefined`: known at construction. */
export function knownNow<T>(v: pulumi.Input<T> | undefined): T | undefined {
  const plain = (x: unknown): boolean => isPlain(x) && (Array.isArray(x) ? x.every(plain) : x === null || typeof x !== "object" || Object.values(x).every(plain));
  return plain(v) ? (v as T) : undefined;
}

/** Maps planner paths onto the component's fields. */
const SPEC_PATHS: Record<string, string> = {
  cluster: "clusterName", vip: "k3s.vip", vipInterface: "k3s.vipInterface", haMasterNodes: "p2p.haMasterNodes", networkId: "p2p.networkId", mode: "p2p.enabled",
};

/**
 * The role planner's spec for these args (tokens left out: they come from ClusterSecrets). `k3s` is
 * the resolved value; by default the args' own when known now.
 */
export function clusterSpecOf(cluster: string, a: KairosClusterArgs, k3s: ResolvedK3sArgs | undefined = knownNow<ResolvedK3sArgs>(a.k3s as never)): ClusterSpec {
  const p2p = a.p2p !== undefined;
  return {
    cluster, servers: a.servers ?? 1, agents: a.agents ?? 0, mode: p2p ? "p2p" : "explicit",
    vip: k3s?.vip, vipInterface: k3s?.vipInterface,
    k3s: k3s === undefined ? undefined : { args: k3s.args, agentArgs: k3s.agentArgs, version: k3s.version },
    haMasterNodes: a.p2p?.haMasterNodes, networkId: a.p2p?.networkId ?? (p2p ? cluster : undefined),
  };
}

/**
 * The planner's problems with these args, at the component's field paths. Tokens come from
 * ClusterSecrets at run time; only the shape is checked here.
 */
export function specIssues(cluster: string, a: KairosClusterArgs, k3s?: ResolvedK3sArgs): ValidationIssue[] {
  const spec = clusterSpecOf(cluster, a, k3s ?? knownNow<ResolvedK3sArgs>(a.k3s as never));
  return validateClusterSpec(spec)
    .filter((i) => i.path !== "k3sToken" && i.path !== "networkToken")
    .map((i) => ({ ...i, path: SPEC_PATHS[i.path] ?? i.path }));
}

/** Every problem with the image value (field paths `image.*`). */
export function validateImage(img: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const i = img as Record<string, unknown> | undefined;
  if (!i || typeof i !== "object") return [{ path: "image", value: show(img), expected: '{ kind: "disk" | "iso", path } or { kind, url, sha256 }' }];
  if (i.kind !== "disk" && i.kind !== "iso") issues.push({ path: "image.kind", value: show(i.kind), expected: '"disk" (pre-installed raw/qcow2) or "iso" (live ISO that installs)' });
  const hasPath = i.path !== undefined, hasUrl = i.url !== undefined;
  if (hasPath === hasUrl) issues.push({ path: "image.path", value: show(i.path), expected: "exactly one of image.path (local file) and image.url" });
  if (hasPath && (typeof i.path !== "string" || i.path === "")) issues.push({ path: "image.path", value: show(i.path), expected: "a file path" });
  if (hasUrl) {
    if (typeof i.url !== "string" || !/^https?:\/\/\S+$/.test(i.url)) issues.push({ path: "image.url", value: show(i.url), expected: "an http(s) URL" });
    if (i.sha256 !== undefined && i.checksumUrl !== undefined) issues.push({ path: "image.checksumUrl", value: show(i.checksumUrl), expected: "unset when image.sha256 is set (exactly one of them)" });
    else if (i.checksumUrl !== undefined) {
      if (typeof i.checksumUrl !== "string" || !/^https?:\/\/\S+$/.test(i.checksumUrl)) issues.push({ path: "image.checksumUrl", value: show(i.checksumUrl), expected: "an http(s) URL of a sha256sum file" });
    } else if (typeof i.sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(i.sha256)) issues.push({ path: "image.sha256", value: show(i.sha256), expected: "the 64-hex SHA-256 of the file at image.url, or set image.checksumUrl" });
  }
  if (i.format !== undefined && !["qcow2", "raw", "iso"].includes(i.format as string)) issues.push({ path: "image.format", value: show(i.format), expected: '"qcow2", "raw" or "iso"' });
  if (i.kind === "iso" && (i.format === "qcow2" || i.format === "raw")) issues.push({ path: "image.format", value: show(i.format), expected: 'iso with image.kind "iso" (use kind "disk" for raw/qcow2)' });
  return issues;
}

/** Every problem in the args known at construction, in field order. */
export function validateClusterArgs(cluster: string, a: KairosClusterArgs): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof a !== "object" || a === null) return [{ path: "(args)", value: show(a), expected: "an object with image and target" }];
  if (typeof cluster !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(cluster) || cluster.length > MAX_CLUSTER_NAME_LENGTH) {
    issues.push({ path: "clusterName", value: show(cluster), expected: `a DNS label (lower-case letters, digits, '-'), at most ${MAX_CLUSTER_NAME_LENGTH} characters; set clusterName when the resource name is not one` });
  }
  if (a.image === undefined) issues.push({ path: "image", value: "undefined", expected: '{ kind: "disk" | "iso", path } or { kind, url, sha256 }, or KairosImage.clusterImage()' });
  else if (isPlain(a.image)) issues.push(...validateImage(a.image));
  if (a.p2p !== undefined && (a.p2p as { enabled?: unknown }).enabled !== true) issues.push({ path: "p2p.enabled", value: show((a.p2p as { enabled?: unknown }).enabled), expected: "true (omit p2p for explicit mode)" });
  issues.push(...validateInputArgs(a, { k3s: knownNow<ResolvedK3sArgs>(a.k3s as never), sshAuthorizedKeys: knownNow<string[]>(a.sshAuthorizedKeys as never) }));
  issues.push(...specIssues(issues.some((x) => x.path === "clusterName") ? "x" : cluster, a));
  const adminUser = a.adminUser ?? DEFAULT_ADMIN_USER;
  if (typeof adminUser !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(adminUser) || adminUser === "root" || adminUser === "kairos") {
    issues.push({ path: "adminUser", value: show(adminUser), expected: 'a Linux user name other than "root" and "kairos"' });
  }
  const t = a.target as { kind?: unknown } | undefined;
  if (!t || typeof t !== "object") issues.push({ path: "target", value: show(t), expected: '{ kind: "libvirt", ... }, { kind: "ssh", hosts } or { kind: "media", outputDir }' });
  else if (t.kind === "libvirt") issues.push(...validateLibvirtTarget(a.target as LibvirtTargetArgs, (a.servers ?? 1) + (a.agents ?? 0)));
  else if (t.kind === "ssh") {
    issues.push(...validateSshTarget(a.target as SshTargetArgs, { servers: a.servers ?? 1, agents: a.agents ?? 0, mode: a.p2p ? "p2p" : "explicit" }));
  } else if (t.kind === "media") {
    issues.push(...validateMediaTarget(a.target as MediaTargetArgs, { servers: a.servers ?? 1, agents: a.agents ?? 0, mode: a.p2p ? "p2p" : "explicit", vip: vipGiven(a) }));
  } else issues.push({ path: "target.kind", value: show(t.kind), expected: '"libvirt", "ssh" or "media"' });
  if (a.configChange !== undefined && !["reboot", "staged", "reinstall"].includes(a.configChange)) {
    issues.push({ path: "configChange", value: show(a.configChange), expected: '"reboot", "staged" or "reinstall"' });
  }
  if (typeof a.osImage === "string") {
    const problem = validateOsImageRef("osImage", a.osImage);
    if (problem) issues.push({ path: "osImage", value: show(a.osImage), expected: `an OCI image reference (${problem.replace(/^.*? is not an OCI image reference: /, "")})` });
  }
  const u = a.upgrade ?? {};
  if (u.mode !== undefined && !["ssh", "operator"].includes(u.mode)) issues.push({ path: "upgrade.mode", value: show(u.mode), expected: '"ssh" or "operator"' });
  for (const f of ["recovery", "force"] as const) if (u[f] !== undefined && typeof u[f] !== "boolean") issues.push({ path: `upgrade.${f}`, value: show(u[f]), expected: "true or false" });
  if (u.operator?.install !== undefined && typeof u.operator.install !== "boolean") issues.push({ path: "upgrade.operator.install", value: show(u.operator.install), expected: "true or false" });
  const ot = u.operator?.timeoutSeconds;
  if (ot !== undefined && !(Number.isInteger(ot) && ot >= 60 && ot <= 86_400)) issues.push({ path: "upgrade.operator.timeoutSeconds", value: show(ot), expected: "a whole number of seconds from 60 to 86400" });
  if (u.mode === "operator" && (t as { kind?: unknown } | undefined)?.kind === "media") {
    issues.push({ path: "upgrade.mode", value: show(u.mode), expected: '"ssh": a media target has no running cluster to reach' });
  }
  const r = a.rollout ?? {};
  if (r.maxUnavailable !== undefined && !(Number.isInteger(r.maxUnavailable) && r.maxUnavailable >= 1)) issues.push({ path: "rollout.maxUnavailable", value: show(r.maxUnavailable), expected: "a whole number >= 1" });
  if (r.drainTimeoutSeconds !== undefined && !(Number.isInteger(r.drainTimeoutSeconds) && r.drainTimeoutSeconds >= 1 && r.drainTimeoutSeconds <= 86_400)) {
    issues.push({ path: "rollout.drainTimeoutSeconds", value: show(r.drainTimeoutSeconds), expected: "a whole number of seconds from 1 to 86400" });
  }
  if (r.forceDrain !== undefined && typeof r.forceDrain !== "boolean") issues.push({ path: "rollout.forceDrain", value: show(r.forceDrain), expected: "true or false" });
  for (const f of ["addressSeconds", "sshSeconds", "readySeconds"] as const) {
    const v = a.timeouts?.[f];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 1 && v <= 86_400)) issues.push({ path: `timeouts.${f}`, value: show(v), expected: "a number of seconds from 1 to 86400" });
  }
  return issues;
}

/** The VIP when known now; "(computed)" when `k3s.vip` is set to an Output; else undefined. */
export function vipGiven(a: KairosClusterArgs): string | undefined {
  const k = a.k3s as ClusterK3sArgs | undefined;
  if (!k || !isPlain(k) || k.vip === undefined) return undefined;
  return typeof k.vip === "string" ? k.vip : "(computed)";
}

/** The arguments that may be Outputs, resolved (or known at construction). */
export interface ResolvedInputArgs {
  k3s?: ResolvedK3sArgs;
  sshAuthorizedKeys?: string[];
}

/**
 * Problems in the arguments that may be Outputs: checked at construction when known, else once
 * resolved (the render fails with the same message, at preview when the values are known then).
 * The k3s fields are checked by the planner (validateClusterSpec), which sees them when resolved.
 */
export function validateInputArgs(a: KairosClusterArgs, r: ResolvedInputArgs): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (a.p2p !== undefined && r.k3s?.vip !== undefined) issues.push({ path: "k3s.vip", value: show(r.k3s.vip), expected: "unset in p2p mode (set p2p.haMasterNodes; Kairos' p2p HA manages the API)" });
  (r.sshAuthorizedKeys ?? []).forEach((k, i) => {
    if (typeof k !== "string" || !/^(ssh-|ecdsa-|sk-|github:|gitlab:)/.test(k)) issues.push({ path: `sshAuthorizedKeys[${i}]`, value: show(typeof k === "string" ? k.slice(0, 40) : k), expected: 'an OpenSSH public key line ("ssh-ed25519 AAAA...") or "github:USER"' });
  });
  return issues;
}

/** `nodeExtraConfig` keys that are not node names of this cluster. */
export function nodeExtraConfigIssues(extra: Record<string, unknown> | undefined, nodeNames: readonly string[]): ValidationIssue[] {
  return Object.keys(extra ?? {}).filter((n) => !nodeNames.includes(n)).map((n) => ({
    path: `nodeExtraConfig.${n}`, value: "{...}",
    expected: `a node name of this cluster (${nodeNames.slice(0, 3).join(", ")}${nodeNames.length > 3 ? ", ..." : ""})`,
  }));
}

/** Problems with a `k3s` that was an Output at construction, once resolved (the same rules, the same paths). */
export function resolvedK3sIssues(cluster: string, a: KairosClusterArgs, k3s: ResolvedK3sArgs | undefined): ValidationIssue[] {
  return [
    ...validateInputArgs(a, { k3s }),
    ...specIssues(cluster, a, k3s).filter((i) => i.path.startsWith("k3s.")),
  ];
}

export function resolveTimeouts(t: ClusterTimeoutsArgs | undefined): ResolvedTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(Object.entries(t ?? {}).filter(([, v]) => v !== undefined)) };
}
