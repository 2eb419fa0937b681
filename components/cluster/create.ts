/**
 * KairosCluster's builder (internal to the package): secrets, target, role plan, one rendered cloud-config per node,
 * the nodes (the first server first when its address is the endpoint), readiness and outputs.
 */
import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { mergeCloudConfig, type CloudConfig, type User, type ValidationIssue } from "../../kairos/cloudconfig";
import { buildNodeConfigs, configDigest, DEFAULT_ADMIN_USER, type BootMode } from "../../kairos/cluster-config";
import { fillEndpoint, nodeName, nodesAwaitingEndpoint, planRoles, rolloutPredecessors, type NodePlan, type NodeRole } from "../../kairos/roles";
import { kubeconfigContextName } from "../../kairos/scripts";
import { ClusterReady } from "../../providers/readiness";
import { NodeConfig, type NodeOsInfo } from "../../providers/lifecycle";
import { KAIROS_OPERATOR_CHART, NODEOPUPGRADE_API_VERSION, NODEOPUPGRADE_KIND, nodeOpUpgradeSpec, nodeOpUpgradeWaitAnnotations } from "../../kairos/upgrade";
import { ClusterSecrets } from "../cluster-secrets";
import {
  clusterSpecOf, KairosClusterArgsError, knownNow, nodeExtraConfigIssues, resolvedK3sIssues, resolveTimeouts, validateClusterArgs, validateImage, validateInputArgs, vipGiven,
  type ClusterImageArgs, type KairosClusterArgs, type ResolvedK3sArgs,
} from "./args";
import { createLibvirtTarget, type LibvirtTargetArgs } from "./targets/libvirt";
import { createMediaTarget, type MediaTargetArgs } from "./targets/media";
import { createSshTarget, type SshTargetArgs } from "./targets/ssh";
import type { NodeTarget, ResolvedImage, TargetContext, TargetNode } from "./targets/types";

/** One node as the `nodes` output shows it. */
export interface ClusterNodeInfo {
  name: string;
  role: NodeRole;
  address: string;
  macAddress: string;
  domainName: string;
}

export interface ClusterParts {
  nodes: pulumi.Output<ClusterNodeInfo[]>;
  nodeOs: pulumi.Output<Record<string, NodeOsInfo>>;
  apiEndpoint: pulumi.Output<string>;
  kubeconfig: pulumi.Output<string>;
  networkToken: pulumi.Output<string>;
  k3sToken: pulumi.Output<string>;
  sshPrivateKey: pulumi.Output<string>;
  sshPublicKey: pulumi.Output<string>;
  cloudConfigs: pulumi.Output<Record<string, string>>;
  kubernetesProvider: k8s.Provider | undefined;
}

/** One node's rendered config, and the digest of its k3s settings (their change re-runs Kairos' k3s bootstrap). */
interface RenderedNode {
  text: string;
  k3sDigest: string;
}

interface Skeleton {
  name: string;
  role: NodeRole;
  index: number;
  group: "server" | "agent" | "node";
}

const DRY_TOKEN = "dry-run-token-0000000000";

/** Names, roles and which nodes need the endpoint, known at construction (tokens don't change them). */
function skeleton(cluster: string, a: KairosClusterArgs): { nodes: Skeleton[]; awaiting: Set<string> } {
  const spec = clusterSpecOf(cluster, a);
  if (spec.mode === "p2p") {
    const total = spec.servers + spec.agents;
    return { nodes: Array.from({ length: total }, (_, i) => ({ name: nodeName(cluster, "node", i), role: "auto" as NodeRole, index: i, group: "node" as const })), awaiting: new Set() };
  }
  const plan = planRoles({ ...spec, k3sToken: DRY_TOKEN });
  return {
    nodes: plan.map((p) => ({ name: p.name, role: p.role, index: p.index, group: p.role === "agent" ? "agent" : "server" })),
    awaiting: new Set(nodesAwaitingEndpoint(plan)),
  };
}

function resolveImage(image: pulumi.Input<ClusterImageArgs>): ResolvedImage {
  const img = pulumi.output(image).apply((i) => {
    const issues = validateImage(i);
    if (issues.length) throw new KairosClusterArgsError("(image)", issues);
    return i;
  });
  return {
    kind: img.apply((i) => i.kind),
    path: img.apply((i) => (i.path === undefined ? undefined : path.resolve(i.path))) as pulumi.Output<string>,
    url: img.apply((i) => i.url) as pulumi.Output<string>,
    sha256: img.apply((i) => i.sha256) as pulumi.Output<string>,
    checksumUrl: img.apply((i) => i.checksumUrl) as pulumi.Output<string>,
    format: img.apply((i) => i.format),
  };
}

/** The arguments that may be Outputs, resolved. */
interface ResolvedArgs {
  users?: User[];
  sshAuthorizedKeys?: string[];
  extraConfig?: CloudConfig;
  nodeExtraConfig?: Record<string, CloudConfig>;
}

function createTarget(a: KairosClusterArgs, image: ResolvedImage, ctx: TargetContext): NodeTarget {
  const counts = { servers: a.servers ?? 1, agents: a.agents ?? 0, mode: a.p2p ? ("p2p" as const) : ("explicit" as const) };
  switch (a.target.kind) {
    case "libvirt":
      return createLibvirtTarget(a.target as LibvirtTargetArgs, image, ctx);
    case "ssh":
      return createSshTarget(a.target as SshTargetArgs, image, ctx, counts);
    case "media":
      return createMediaTarget(a.target as MediaTargetArgs, image, ctx, { ...counts, vip: vipGiven(a) });
  }
}

/** How a node is drained before a restart or before it leaves (`rollout`). */
const drainOf = (a: KairosClusterArgs) => ({ timeoutSeconds: a.rollout?.drainTimeoutSeconds ?? 300, force: a.rollout?.forceDrain ?? false });

/**
 * One NodeConfig per node: the config and hardware settings as applied to the running node. A
 * change is applied in place (drain, /oem, restart, Ready, uncordon), and the resources are
 * chained in rollout order (servers first, one at a time; then agents, maxUnavailable at a time),
 * so the engine rolls it and stops at the first failure.
 */
function createNodeConfigs(
  name: string, parent: pulumi.ComponentResource, a: KairosClusterArgs, nodes: Skeleton[], created: Record<string, TargetNode>,
  texts: Record<string, pulumi.Output<string>>, k3sDigests: Record<string, pulumi.Output<string>>, ready: pulumi.Resource,
  access: { adminUser: string; privateKey: pulumi.Output<string>; timeouts: { sshSeconds: number; readySeconds: number }; secretsDigest: pulumi.Output<string> },
): NodeConfig[] {
  const p2p = a.p2p !== undefined;
  const servers = nodes.filter((n) => p2p || n.group === "server").map((n) => created[n.name]);
  const serverAccess = pulumi.all(servers.map((s) => pulumi.all([s.address, s.sshPort]).apply(([address, port]) =>
    ({ name: s.name, address: address ?? "", ...(port && port !== 22 ? { port } : {}) }))));
  const order = rolloutPredecessors(nodes.map((n) => ({ name: n.name, group: p2p || n.group === "server" ? "server" as const : "agent" as const })), a.rollout?.maxUnavailable ?? 1);
  const made = new Map<string, NodeConfig>();
  const mode = a.configChange === "staged" ? "staged" : "reboot";
  for (const n of nodes) {
    const t = created[n.name];
    const before = order.get(n.name);
    made.set(n.name, new NodeConfig(`${n.name}-config`, {
      node: n.name,
      address: t.address.apply((x) => x ?? ""),
      port: t.sshPort?.apply((x) => x ?? 22),
      adminUser: access.adminUser,
      privateKey: access.privateKey,
      cloudConfig: texts[n.name],
      configDigest: pulumi.unsecret(texts[n.name].apply(configDigest)),
      // configChange "reinstall" rebuilds the node instead: its NodeConfig only follows.
      k3sDigest: k3sDigests[n.name],
      ...(t.restartDigest ? { restartDigest: t.restartDigest } : {}),
      secretsDigest: access.secretsDigest,
      ...(t.libvirt ? { machineId: t.libvirt.apply((l) => l.domain) } : {}),
      servers: serverAccess,
      mode: a.configChange === "reinstall" ? "reinstall" : mode,
      drain: drainOf(a),
      readySeconds: access.timeouts.sshSeconds + access.timeouts.readySeconds,
      ...(t.libvirt ? { libvirt: t.libvirt } : {}),
      ...(t.consoleLogFile ? { consoleLogFile: t.consoleLogFile.apply((f) => f ?? "") } : {}),
      ...(a.osImage !== undefined ? {
        osImage: a.osImage,
        upgrade: { by: a.upgrade?.mode ?? "ssh", recovery: a.upgrade?.recovery ?? false, force: a.upgrade?.force ?? false },
      } : {}),
    }, { parent, dependsOn: [ready, ...t.ready, ...(before ? [made.get(before)!] : [])] }));
  }
  return [...made.values()];
}

/**
 * `upgrade.mode` "operator": a kairos-operator NodeOpUpgrade per image (its name carries the image's
 * digest, so a new image is a new object: the operator reads a spec once), waited for until
 * Completed; with `operator.install`, the operator's pinned chart first.
 */
function createOperatorUpgrade(name: string, cluster: string, parent: pulumi.ComponentResource, a: KairosClusterArgs, provider: k8s.Provider, after: pulumi.Resource[]): void {
  const operator = a.upgrade?.operator?.install
    ? [new k8s.helm.v3.Release(`${name}-kairos-operator`, {
      chart: KAIROS_OPERATOR_CHART.chart, version: KAIROS_OPERATOR_CHART.version, namespace: "kairos-operator-system", createNamespace: true,
    }, { parent, provider, dependsOn: after })]
    : [];
  const timeoutSeconds = a.upgrade?.operator?.timeoutSeconds ?? 3600;
  const make = (image: string) => {
    const suffix = createHash("sha256").update(image).digest("hex").slice(0, 10);
    return new k8s.apiextensions.CustomResource(`${name}-upgrade-${suffix}`, {
      apiVersion: NODEOPUPGRADE_API_VERSION,
      kind: NODEOPUPGRADE_KIND,
      metadata: { name: `${cluster}-upgrade-${suffix}`, namespace: "default", annotations: nodeOpUpgradeWaitAnnotations(timeoutSeconds) },
      spec: nodeOpUpgradeSpec({
        image, concurrency: a.rollout?.maxUnavailable ?? 1, stopOnFailure: true, upgradeRecovery: a.upgrade?.recovery ?? false, force: a.upgrade?.force ?? false,
      }, "upgrade"),
    }, { parent, provider, dependsOn: [...after, ...operator] });
  };
  // Its name needs the image: known now in the usual case; from an Output, it is registered once
  // that resolves (so a preview with an unknown image does not show it).
  if (typeof a.osImage === "string") make(a.osImage);
  else pulumi.output(a.osImage!).apply(make);
}

/** @internal */
export function createCluster(name: string, parent: pulumi.ComponentResource, a: KairosClusterArgs): ClusterParts {
  const cluster = a.clusterName ?? name;
  const issues: ValidationIssue[] = validateClusterArgs(cluster, a);
  const sk = issues.length ? undefined : skeleton(cluster, a);
  // Its keys are known whenever the map itself is not an Output (its values may be).
  const extra = a.nodeExtraConfig;
  if (sk && extra && !pulumi.Output.isInstance(extra) && !(extra instanceof Promise)) issues.push(...nodeExtraConfigIssues(extra as Record<string, unknown>, sk.nodes.map((n) => n.name)));
  if (issues.length || !sk) throw new pulumi.ResourceError(new KairosClusterArgsError(cluster, issues).message, parent);

  // The arguments that may be Outputs, resolved once and checked as they would be at construction.
  // k3s apart: it steers the endpoint, which must not turn secret because a config fragment is.
  const k3sKnownNow = a.k3s === undefined || knownNow(a.k3s) !== undefined;
  const fail = (late: ValidationIssue[]) => {
    if (late.length) throw new pulumi.ResourceError(new KairosClusterArgsError(cluster, late).message, parent);
  };
  const k3s = pulumi.output(a.k3s as pulumi.Input<ResolvedK3sArgs> | undefined).apply((k) => {
    fail(k3sKnownNow ? [] : resolvedK3sIssues(cluster, a, k));
    return k;
  });
  const resolved: pulumi.Output<ResolvedArgs> = pulumi.output({
    users: a.users, sshAuthorizedKeys: a.sshAuthorizedKeys, extraConfig: a.extraConfig, nodeExtraConfig: a.nodeExtraConfig,
  } as pulumi.Inputs).apply((r) => {
    const v = r as ResolvedArgs;
    fail([...validateInputArgs(a, { sshAuthorizedKeys: v.sshAuthorizedKeys }), ...nodeExtraConfigIssues(v.nodeExtraConfig, sk.nodes.map((n) => n.name))]);
    return v;
  });

  const secrets = new ClusterSecrets(`${name}-secrets`, a.secrets ?? {}, { parent });
  const timeouts = resolveTimeouts(a.timeouts);
  const adminUser = a.adminUser ?? DEFAULT_ADMIN_USER;
  const ctx: TargetContext = {
    stack: pulumi.getStack(), cluster, parent, adminUser,
    adminPrivateKey: secrets.sshPrivateKey, adminPublicKey: secrets.sshPublicKey, timeouts, nodeNames: sk.nodes.map((n) => n.name),
  };
  const image = resolveImage(a.image);
  const target = createTarget(a, image, ctx);
  const mode = clusterSpecOf(cluster, a).mode;

  // Explicit mode: the endpoint is the first server's address. Known up front (an SSH host): plan
  // with it now; else plan with the placeholder and fill it in once the first server has a lease.
  const first = sk.nodes[0];
  const staticEndpoint = mode === "explicit" ? target.staticAddress(first.name, first.index, first.group) : undefined;
  const plan = pulumi.all([secrets.k3sToken, secrets.networkToken, k3s]).apply(([k3sToken, networkToken, k]) =>
    planRoles({ ...clusterSpecOf(cluster, a, k), endpoint: staticEndpoint, k3sToken, networkToken }));

  // Every node of a plan is rendered in one apply: an Output holding the whole plan must not be
  // unwrapped once per node (pulumi.all walks every value it is given; bench: plan).
  const renderAll = (plans: pulumi.Output<NodePlan[]>, names: readonly string[]): pulumi.Output<Record<string, RenderedNode>> =>
    pulumi.secret(pulumi.all([plans, secrets.sshPublicKey, pulumi.output(target.bootMode), resolved]).apply(([ps, pub, bootMode, r]) => {
      const byName = new Map(ps.map((p) => [p.name, p]));
      return Object.fromEntries(names.map((node) => {
        const extra = r.nodeExtraConfig?.[node] ? mergeCloudConfig(r.extraConfig ?? {}, r.nodeExtraConfig[node]) : r.extraConfig;
        const built = buildNodeConfigs({
          plan: [byName.get(node)!], adminUser, sshAuthorizedKeys: [pub, ...(r.sshAuthorizedKeys ?? [])], users: r.users,
          bootMode: bootMode as BootMode, installDevice: bootMode === "disk" ? undefined : target.installDevice,
          extraConfig: extra as CloudConfig | undefined, allowOverride: a.allowOverride,
        })[0];
        return [node, { text: built.text, k3sDigest: configDigest(JSON.stringify([built.config.k3s ?? null, built.config["k3s-agent"] ?? null])) }];
      }));
    }));

  const configChange = a.configChange ?? "reboot";
  // A digest of high-entropy tokens reveals nothing of them; plain, so diffs can show it changed.
  const secretsDigest = pulumi.unsecret(pulumi.all([secrets.k3sToken, secrets.networkToken]).apply(([k, n]) => configDigest(JSON.stringify([k, n]))));
  const created: Record<string, TargetNode> = {};
  const texts: Record<string, pulumi.Output<string>> = {};
  const k3sDigests: Record<string, pulumi.Output<string>> = {};
  const createAll = (group: Skeleton[], plans: pulumi.Output<NodePlan[]>, dependsOn: pulumi.Resource[]) => {
    const rendered = renderAll(plans, group.map((s) => s.name));
    for (const s of group) {
      const text = rendered.apply((t) => t[s.name].text);
      texts[s.name] = text;
      k3sDigests[s.name] = pulumi.unsecret(rendered.apply((t) => t[s.name].k3sDigest));
      created[s.name] = target.createNode(
        { name: s.name, role: s.role, index: s.index, group: s.group, cloudConfig: text, configDigest: pulumi.unsecret(text.apply(configDigest)), configChange, secretsDigest },
        { dependsOn },
      );
    }
    return rendered;
  };
  const needsEndpoint = staticEndpoint === undefined ? sk.awaiting : new Set<string>();
  const rendered = [createAll(sk.nodes.filter((n) => !needsEndpoint.has(n.name)), plan, [])];
  if (needsEndpoint.size > 0) {
    const firstNode = created[first.name];
    const endpoint = firstNode.address.apply((addr) => {
      if (!addr) throw new Error(`KairosCluster ${cluster}: ${first.name} has no address; the other nodes need it as their k3s endpoint`);
      return addr;
    });
    const filled = pulumi.all([plan, endpoint]).apply(([ps, addr]) => fillEndpoint(ps, addr));
    rendered.push(createAll(sk.nodes.filter((n) => needsEndpoint.has(n.name)), filled, firstNode.ready));
  }

  const nodeList = sk.nodes.map((s) => created[s.name]);
  const nodes = pulumi.all(nodeList.map((n) => pulumi.all([n.address, n.macAddress, n.domainName]).apply(([address, mac, dom]) => ({
    name: n.name, role: n.role, address: address ?? "", macAddress: mac ?? "", domainName: dom ?? "",
  }))));
  const cloudConfigs = pulumi.secret(pulumi.all(rendered).apply((parts) => {
    const all: Record<string, RenderedNode> = Object.assign({}, ...parts);
    return Object.fromEntries(sk.nodes.map((s) => [s.name, all[s.name].text]));
  }));

  let kubeconfig: pulumi.Output<string> = pulumi.secret("");
  let apiEndpoint: pulumi.Output<string> = pulumi.output("");
  let kubernetesProvider: k8s.Provider | undefined;
  let nodeConfigs: NodeConfig[] = [];
  if (target.connects) {
    const endpoint = mode === "p2p" ? undefined
      : pulumi.all([k3s, created[first.name].address]).apply(([k, addr]) => k?.vip ?? staticEndpoint ?? addr);
    const ready = new ClusterReady(`${name}-ready`, {
      mode,
      adminUser,
      privateKey: secrets.sshPrivateKey,
      nodes: pulumi.all(nodeList.map((n) => pulumi.all([n.address, n.sshPort, n.consoleLogFile, n.libvirt]).apply(([address, port, log, libvirt]) => ({
        name: n.name, address: address ?? "", role: mode === "p2p" ? "node" as const : n.role === "agent" ? "agent" as const : "server" as const,
        ...(port ? { port } : {}), ...(log ? { consoleLogFile: log } : {}), ...(libvirt ? { libvirt } : {}),
      })))),
      endpoint: endpoint as pulumi.Input<string> | undefined,
      sshTimeoutSeconds: timeouts.sshSeconds,
      readyTimeoutSeconds: timeouts.readySeconds,
      contextName: kubeconfigContextName(cluster),
      drain: drainOf(a),
    }, { parent, dependsOn: nodeList.flatMap((n) => n.ready) });
    kubeconfig = pulumi.secret(ready.kubeconfig);
    apiEndpoint = ready.apiEndpoint;
    // A stable identity: a renewed or renamed kubeconfig, or nodes joining, update the provider
    // instead of replacing it (and every workload created with it).
    kubernetesProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig, clusterIdentifier: kubeconfigContextName(cluster) }, { parent });
    nodeConfigs = createNodeConfigs(name, parent, a, sk.nodes, created, texts, k3sDigests, ready, { adminUser, privateKey: secrets.sshPrivateKey, timeouts, secretsDigest });
    if (a.osImage !== undefined && a.upgrade?.mode === "operator") createOperatorUpgrade(name, cluster, parent, a, kubernetesProvider, [ready]);
  }
  const nodeOs = pulumi.all(nodeConfigs.map((c, i) => c.os.apply((os) => [sk.nodes[i].name, os ?? {}] as const)))
    .apply((entries) => Object.fromEntries(entries) as Record<string, NodeOsInfo>);
  return {
    nodes, nodeOs, apiEndpoint, kubeconfig, cloudConfigs, kubernetesProvider,
    networkToken: pulumi.secret(secrets.networkToken), k3sToken: pulumi.secret(secrets.k3sToken),
    sshPrivateKey: pulumi.secret(secrets.sshPrivateKey), sshPublicKey: secrets.sshPublicKey,
  };
}
