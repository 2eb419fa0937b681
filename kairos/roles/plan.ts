/**
 * k3s role planning: which node runs what, and the k3s / p2p blocks of its cloud-config.
 * Pure: no I/O, no clock, no randomness. The component calls it at preview time.
 *
 * Two modes (docs/kairos-notes.md §4, §6):
 * - `explicit` (recommended, §12): we choose the roles. Kairos adds no `--cluster-init`, `--server`
 *   or kube-vip on this path (§6), so the planner writes them: with more than one server the first
 *   runs `--cluster-init` (embedded etcd) and the others `--server=https://<endpoint>:6443`, all share
 *   K3S_TOKEN; agents get K3S_URL and K3S_TOKEN. With a VIP every server gets `--tls-san=<vip>` and
 *   a kube-vip manifest (./kube-vip.ts).
 * - `p2p`: provider-kairos and edgevpn elect roles at boot (§4.2); every node gets the same `p2p`
 *   block (network token, network id, `minimum_nodes` = all nodes, `auto.ha.master_nodes`).
 *
 * Node names (the hostname and the resource name): explicit `<cluster>-server-<i>` and
 * `<cluster>-agent-<i>`; p2p `<cluster>-node-<i>`, since the p2p leader, not the plan, decides which
 * nodes become control planes. `i` counts from 0 within its group and equals `NodePlan.index`.
 *
 * The endpoint (first server's address) is often unknown at plan time (a VM's DHCP lease). Then
 * join URLs carry ENDPOINT_PLACEHOLDER and `fillEndpoint` puts the address in later.
 */
import { isIP } from "net";
import type { K3sConfig, KubeVipConfig, P2PConfig, StageStep, ValidationIssue } from "../cloudconfig/model";
import { decodeNetworkToken } from "../edgevpn/token";
import { KUBE_VIP_DEFAULT_INTERFACE, KUBE_VIP_MANIFEST_PATH, KUBE_VIP_VERSION, kubeVipManifest } from "./kube-vip";

/** What to build. Counts are node counts; addresses are IPs or DNS names without scheme or port. */
export interface ClusterSpec {
  /** Cluster name: a DNS label, at most 40 characters (node names append `-server-<i>`). */
  cluster: string;
  /**
   * Control-plane nodes. explicit: at least 1, and odd when more than 1 (embedded etcd quorum).
   * p2p: the number of control planes the leader should elect (1 + `haMasterNodes`).
   */
  servers: number;
  /** Worker nodes (k3s agents), 0 or more. */
  agents: number;
  /** `explicit`: roles fixed by this plan (recommended). `p2p`: elected at boot over edgevpn. */
  mode: "explicit" | "p2p";
  /**
   * The first server's IP or DNS name: joining servers use it, and agents too when there is no `vip`.
   * @default - ENDPOINT_PLACEHOLDER, to be replaced with `fillEndpoint` once the first server has an address.
   */
  endpoint?: string;
  /** Virtual IP for the API server, announced by kube-vip; added as `--tls-san`. */
  vip?: string;
  /** Network interface carrying the VIP on the servers. @default "eth0" */
  vipInterface?: string;
  /** p2p only: extra control planes beyond the first (`p2p.auto.ha.master_nodes`). @default servers - 1 */
  haMasterNodes?: number;
  k3s?: {
    /** Extra k3s server arguments, appended after ours. `--cluster-init`, `--server`, `--token` are ours. */
    args?: string[];
    /** Extra k3s agent arguments. */
    agentArgs?: string[];
    /**
     * k3s release the image carries, e.g. `v1.36.3+k3s1`. Checked here, not rendered: on Kairos the
     * k3s version is baked into the image (KairosImage), not chosen by cloud-config.
     */
    version?: string;
  };
  /** p2p: the edgevpn network token (secret). Required in p2p mode, ignored in explicit mode. */
  networkToken?: string;
  /** explicit: the shared k3s token (secret). Required when nodes join (servers > 1 or agents > 0); ignored in p2p. */
  k3sToken?: string;
  /** p2p: ledger bucket separating clusters on one network token. @default the cluster name */
  networkId?: string;
}

/** `init` = first of several servers (`--cluster-init`); `auto` = p2p, elected at boot. */
export type NodeRole = "init" | "server" | "agent" | "auto";

/** One node: its name and the role-specific blocks of its cloud-config. */
export interface NodePlan {
  /** Node name and hostname, see the module comment. */
  name: string;
  /** Position within its group (servers, agents or p2p nodes), from 0. */
  index: number;
  role: NodeRole;
  k3s?: K3sConfig;
  "k3s-agent"?: K3sConfig;
  p2p?: P2PConfig;
  kubevip?: KubeVipConfig;
  /** yip stages, e.g. the boot step writing the kube-vip manifest. */
  stages?: Record<string, StageStep[]>;
}

/**
 * Stands for the endpoint until it is known. A reserved `.invalid` name (RFC 2606): if it ever
 * reached a node unfilled, k3s would fail to resolve it rather than reach some other host.
 */
export const ENDPOINT_PLACEHOLDER = "endpoint.kairos.invalid";
/** k3s API (supervisor) port. */
export const K3S_API_PORT = 6443;
/** Sanity bound on nodes per plan. */
export const MAX_NODES = 10000;
export const MAX_CLUSTER_NAME_LENGTH = 40;

/** The plan's input is wrong; `issues` lists every problem, the message one per line. */
export class ClusterSpecError extends Error {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[], what = "cluster spec") {
    super(
      [`invalid ${what} (${issues.length} problem${issues.length === 1 ? "" : "s"})`,
        ...issues.map((i) => `  - ${i.path}: ${i.value} is not valid; expected ${i.expected}`)].join("\n"),
    );
    this.name = "ClusterSpecError";
    this.issues = issues;
  }
}

const SECRET = "<secret>";
const show = (v: unknown): string => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
const K3S_VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;
/** Linux interface names: up to 15 characters (IFNAMSIZ - 1), no '/' or whitespace. */
const IFACE = /^[A-Za-z0-9._-]{1,15}$/;
const NETWORK_ID = /^[A-Za-z0-9._-]{1,63}$/;
/** Arguments the planner owns; a user copy would contradict ours. */
const OWNED_ARGS = ["--cluster-init", "--server", "-s", "--token", "-t", "--token-file", "--agent-token"];

/** Is `s` an IPv4/IPv6 address or a DNS name (no scheme, no port)? */
export function isHost(s: unknown): s is string {
  return typeof s === "string" && (isIP(s) !== 0 || (DNS_NAME.test(s) && !/^[0-9.]+$/.test(s)));
}

/** `https://<host>:6443`, IPv6 in brackets. */
export function apiUrl(host: string): string {
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${K3S_API_PORT}`;
}

export function nodeName(cluster: string, group: "server" | "agent" | "node", index: number): string {
  return `${cluster}-${group}-${index}`;
}

function checkCount(issues: ValidationIssue[], path: string, v: unknown, min: number): v is number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= MAX_NODES) return true;
  issues.push({ path, value: show(v), expected: `a whole number from ${min} to ${MAX_NODES}` });
  return false;
}

function checkArgs(issues: ValidationIssue[], path: string, args: unknown): void {
  if (args === undefined) return;
  if (!Array.isArray(args)) {
    issues.push({ path, value: show(args), expected: 'a list of k3s arguments, e.g. ["--disable=traefik"]' });
    return;
  }
  args.forEach((a, i) => {
    if (typeof a !== "string" || a.trim() === "" || /[\r\n]/.test(a)) {
      issues.push({ path: `${path}[${i}]`, value: show(a), expected: "a non-empty one-line string" });
      return;
    }
    const flag = a.trim().split(/[=\s]/)[0];
    if (OWNED_ARGS.includes(flag)) {
      issues.push({
        path: `${path}[${i}]`,
        value: /token/.test(flag) ? `${flag} ${SECRET}` : show(a),
        expected: `no ${flag}: the planner sets --cluster-init, --server and the token from servers, endpoint and k3sToken`,
      });
    }
  });
}

function checkSecret(issues: ValidationIssue[], path: string, v: unknown, needed: string | undefined): void {
  if (v === undefined) {
    if (needed) issues.push({ path, value: "undefined", expected: needed });
    return;
  }
  if (typeof v !== "string" || v === "" || /\s/.test(v)) {
    issues.push({ path, value: typeof v === "string" ? SECRET : show(typeof v), expected: "a non-empty string without whitespace" });
  }
}

/** Every problem in `spec`, in field order; `[]` when it can be planned. */
export function validateClusterSpec(spec: ClusterSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const s = spec as unknown as Record<string, any>;
  if (typeof s !== "object" || s === null) {
    return [{ path: "(spec)", value: show(s), expected: "a cluster spec object" }];
  }
  if (typeof s.cluster !== "string" || !DNS_LABEL.test(s.cluster) || s.cluster.length > MAX_CLUSTER_NAME_LENGTH) {
    issues.push({
      path: "cluster", value: show(s.cluster),
      expected: `a DNS label: lower-case letters, digits and '-', not starting or ending with '-', at most ${MAX_CLUSTER_NAME_LENGTH} characters`,
    });
  }
  const modeOk = s.mode === "explicit" || s.mode === "p2p";
  if (!modeOk) issues.push({ path: "mode", value: show(s.mode), expected: '"explicit" or "p2p"' });
  const serversOk = checkCount(issues, "servers", s.servers, 1);
  const agentsOk = checkCount(issues, "agents", s.agents, 0);
  if (serversOk && agentsOk && s.servers + s.agents > MAX_NODES) {
    issues.push({ path: "agents", value: show(s.agents), expected: `servers + agents at most ${MAX_NODES}` });
  }
  if (s.mode === "explicit" && serversOk && s.servers > 1 && s.servers % 2 === 0) {
    issues.push({
      path: "servers", value: show(s.servers),
      expected: `an odd number (1, 3, 5, ...): embedded etcd needs a majority; use ${s.servers - 1} or ${s.servers + 1}`,
    });
  }
  if (s.endpoint !== undefined && !isHost(s.endpoint)) {
    issues.push({ path: "endpoint", value: show(s.endpoint), expected: "an IPv4 or IPv6 address or a DNS name, without scheme or port" });
  }
  if (s.vip !== undefined && (typeof s.vip !== "string" || isIP(s.vip) === 0)) {
    issues.push({ path: "vip", value: show(s.vip), expected: "an IPv4 or IPv6 address (kube-vip announces it)" });
  }
  if (s.vipInterface !== undefined && (typeof s.vipInterface !== "string" || !IFACE.test(s.vipInterface))) {
    issues.push({ path: "vipInterface", value: show(s.vipInterface), expected: "a network interface name, 1-15 of [A-Za-z0-9._-], e.g. eth0" });
  }
  if (s.vipInterface !== undefined && s.vip === undefined) {
    issues.push({ path: "vipInterface", value: show(s.vipInterface), expected: "set only together with vip" });
  }
  if (s.k3s !== undefined && (typeof s.k3s !== "object" || s.k3s === null || Array.isArray(s.k3s))) {
    issues.push({ path: "k3s", value: show(s.k3s), expected: "a map (args, agentArgs, version)" });
  } else if (s.k3s !== undefined) {
    checkArgs(issues, "k3s.args", s.k3s.args);
    checkArgs(issues, "k3s.agentArgs", s.k3s.agentArgs);
    if (s.k3s.version !== undefined && (typeof s.k3s.version !== "string" || !K3S_VERSION.test(s.k3s.version))) {
      issues.push({ path: "k3s.version", value: show(s.k3s.version), expected: "a k3s release such as v1.36.3+k3s1" });
    }
  }
  if (s.mode === "explicit") {
    if (s.haMasterNodes !== undefined) {
      issues.push({ path: "haMasterNodes", value: show(s.haMasterNodes), expected: 'unset in mode "explicit" (set servers instead); it applies to mode "p2p"' });
    }
    const joins = serversOk && agentsOk && (s.servers > 1 || s.agents > 0);
    checkSecret(issues, "k3sToken", s.k3sToken, joins ? "a k3s token: nodes join the cluster (servers > 1 or agents > 0)" : undefined);
  }
  if (s.mode === "p2p") {
    checkP2p(issues, s, serversOk, agentsOk);
  }
  return issues;
}

function checkP2p(issues: ValidationIssue[], s: Record<string, any>, serversOk: boolean, agentsOk: boolean): void {
  if (s.networkToken === undefined) {
    issues.push({ path: "networkToken", value: "undefined", expected: 'an edgevpn network token (generateNetworkToken) in mode "p2p"' });
  } else {
    try {
      decodeNetworkToken(s.networkToken);
    } catch (e) {
      // NetworkTokenError names the token's field and never its value.
      issues.push({ path: "networkToken", value: SECRET, expected: `a valid edgevpn network token (${(e as Error).message})` });
    }
  }
  if (s.networkId !== undefined && (typeof s.networkId !== "string" || !NETWORK_ID.test(s.networkId))) {
    issues.push({ path: "networkId", value: show(s.networkId), expected: "1-63 of [A-Za-z0-9._-]" });
  }
  if (!serversOk || !agentsOk) return;
  if (s.haMasterNodes !== undefined) {
    if (!(typeof s.haMasterNodes === "number" && Number.isSafeInteger(s.haMasterNodes) && s.haMasterNodes >= 0)) {
      issues.push({ path: "haMasterNodes", value: show(s.haMasterNodes), expected: "a whole number >= 0 (extra control planes beyond the first)" });
      return;
    }
    if (s.haMasterNodes + 1 !== s.servers) {
      issues.push({
        path: "haMasterNodes", value: show(s.haMasterNodes),
        expected: `servers - 1 = ${s.servers - 1} (p2p control planes are 1 + haMasterNodes); leave it unset or change servers`,
      });
      return;
    }
  }
  if (s.servers > 1 && s.servers % 2 === 0) {
    issues.push({
      path: "servers", value: show(s.servers),
      expected: `an odd number of p2p control planes (1 + haMasterNodes) for etcd quorum; use ${s.servers - 1} or ${s.servers + 1}`,
    });
  }
  // One node in total is accepted: planP2p fixes its role to master (docs/kairos-notes.md §4.4).
}

/** Throws ClusterSpecError with every problem, or returns. */
export function assertValidClusterSpec(spec: ClusterSpec): void {
  const issues = validateClusterSpec(spec);
  if (issues.length > 0) throw new ClusterSpecError(issues);
}

/** The boot step that writes the kube-vip manifest (0600: it is cluster config, not public). */
function kubeVipStage(vip: string, iface: string): Record<string, StageStep[]> {
  return {
    boot: [{
      name: "kube-vip manifest for the API server VIP",
      files: [{ path: KUBE_VIP_MANIFEST_PATH, content: kubeVipManifest({ address: vip, interface: iface }), permissions: 0o600 }],
    }],
  };
}

function planExplicit(spec: ClusterSpec): NodePlan[] {
  const { cluster, servers, agents, vip } = spec;
  const iface = spec.vipInterface ?? KUBE_VIP_DEFAULT_INTERFACE;
  // Joining servers reach the first server directly (docs/kairos-notes.md §6 HA recipe): the VIP only exists
  // once kube-vip runs on a started server, so it must not gate the join. Agents prefer the VIP.
  const serverJoin = spec.endpoint ?? ENDPOINT_PLACEHOLDER;
  const agentJoin = vip ?? spec.endpoint ?? ENDPOINT_PLACEHOLDER;
  const tokenEnv = spec.k3sToken !== undefined ? { K3S_TOKEN: spec.k3sToken } : undefined;
  const userArgs = spec.k3s?.args ?? [];
  const plans: NodePlan[] = [];
  for (let i = 0; i < servers; i++) {
    const args = [
      ...(servers > 1 && i === 0 ? ["--cluster-init"] : []),
      // One argv element with '=', the form provider-kairos itself emits on the p2p path
      // (`provider-kairos internal/role/p2p/k3s.go`: "--server=https://%s:6443"); args are joined
      // with spaces into ExecStart, so "--server https://..." (docs/kairos-notes.md §3.6) would work as well.
      ...(i > 0 ? [`--server=${apiUrl(serverJoin)}`] : []),
      ...(vip !== undefined ? [`--tls-san=${vip}`] : []),
      ...userArgs,
    ];
    const k3s: K3sConfig = { enabled: true };
    if (args.length > 0) k3s.args = args;
    if (tokenEnv) k3s.env = { ...tokenEnv };
    const plan: NodePlan = { name: nodeName(cluster, "server", i), index: i, role: servers > 1 && i === 0 ? "init" : "server", k3s };
    if (vip !== undefined) plan.stages = kubeVipStage(vip, iface);
    plans.push(plan);
  }
  for (let i = 0; i < agents; i++) {
    const agent: K3sConfig = { enabled: true };
    if (spec.k3s?.agentArgs?.length) agent.args = [...spec.k3s.agentArgs];
    agent.env = { K3S_URL: apiUrl(agentJoin), ...(tokenEnv ?? {}) };
    plans.push({ name: nodeName(cluster, "agent", i), index: i, role: "agent", "k3s-agent": agent });
  }
  return plans;
}

function planP2p(spec: ClusterSpec): NodePlan[] {
  const total = spec.servers + spec.agents;
  const p2pBase: P2PConfig = { network_token: spec.networkToken, network_id: spec.networkId ?? spec.cluster };
  const kubevip: KubeVipConfig | undefined =
    spec.vip !== undefined
      ? { eip: spec.vip, interface: spec.vipInterface ?? KUBE_VIP_DEFAULT_INTERFACE, version: KUBE_VIP_VERSION }
      : undefined;
  const extras = (plan: NodePlan): NodePlan => {
    if (spec.k3s?.args?.length) plan.k3s = { args: [...spec.k3s.args] };
    if (spec.k3s?.agentArgs?.length) plan["k3s-agent"] = { args: [...spec.k3s.agentArgs] };
    if (kubevip) plan.kubevip = { ...kubevip };
    return plan;
  };
  if (total === 1) {
    // No election with one node: fix the role (docs/kairos-notes.md §4.4 "Single node: role: master"; §4.1:
    // `p2p.role` from `provider-kairos internal/provider/config/config.go` is fixed, never reassigned).
    // ⚠ edgevpn leases edgevpn0 IPs only once 2 nodes exist; with a VIP the master uses kubevip.eip.
    return [extras({ name: nodeName(spec.cluster, "node", 0), index: 0, role: "server", p2p: { ...p2pBase, role: "master" } })];
  }
  const masters = spec.haMasterNodes ?? spec.servers - 1;
  const p2p: P2PConfig = { ...p2pBase, minimum_nodes: total };
  if (masters > 0) p2p.auto = { ha: { enable: true, master_nodes: masters } };
  const plans: NodePlan[] = [];
  for (let i = 0; i < total; i++) {
    plans.push(extras({ name: nodeName(spec.cluster, "node", i), index: i, role: "auto", p2p: cloneData(p2p) }));
  }
  return plans;
}

/**
 * Plans every node of a cluster. Throws ClusterSpecError listing every problem (field, value,
 * accepted values; secrets shown as `<secret>`). Servers come first, then agents.
 */
export function planRoles(spec: ClusterSpec): NodePlan[] {
  assertValidClusterSpec(spec);
  return spec.mode === "explicit" ? planExplicit(spec) : planP2p(spec);
}

/**
 * Deep copy of plain data. Not structuredClone: its objects come from Node's main realm, and the
 * renderer (rightly) accepts only plain maps of the calling realm (jest runs tests in a vm context).
 */
function cloneData<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneData) as T;
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneData(x)])) as T;
  }
  return v;
}

/** Names of the nodes whose config still carries ENDPOINT_PLACEHOLDER. */
export function nodesAwaitingEndpoint(plans: readonly NodePlan[]): string[] {
  return plans.filter((p) => JSON.stringify([p.k3s, p["k3s-agent"]]).includes(ENDPOINT_PLACEHOLDER)).map((p) => p.name);
}

/**
 * The plans with ENDPOINT_PLACEHOLDER replaced by `endpoint` (IP or DNS name) in k3s arguments and
 * environment. Pure: returns new objects. Plans without the placeholder come back unchanged (copied).
 */
export function fillEndpoint(plans: readonly NodePlan[], endpoint: string): NodePlan[] {
  if (!isHost(endpoint)) {
    throw new ClusterSpecError([{ path: "endpoint", value: show(endpoint), expected: "an IPv4 or IPv6 address or a DNS name, without scheme or port" }]);
  }
  const placeholderUrl = apiUrl(ENDPOINT_PLACEHOLDER);
  const url = apiUrl(endpoint);
  const fill = (s: string) => s.split(placeholderUrl).join(url);
  const fillK3s = (k?: K3sConfig): K3sConfig | undefined => {
    if (!k) return k;
    const out: K3sConfig = cloneData(k);
    if (out.args) out.args = out.args.map(fill);
    if (out.env) out.env = Object.fromEntries(Object.entries(out.env).map(([n, v]) => [n, fill(v)]));
    return out;
  };
  return plans.map((p) => {
    const out: NodePlan = cloneData(p);
    if (p.k3s) out.k3s = fillK3s(p.k3s);
    if (p["k3s-agent"]) out["k3s-agent"] = fillK3s(p["k3s-agent"]);
    return out;
  });
}
