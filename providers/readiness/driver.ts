/**
 * Cluster readiness, over SSH, knowing nothing of Pulumi: SSH as the admin user on every node, then
 * the k3s API answering with every expected node Ready (via a server), then the kubeconfig pointed at
 * the API endpoint. Explicit mode reads k3s' file on the first server; p2p mode asks the p2p daemon
 * (`kairos get-kubeconfig --api http://127.0.0.1:8080`, docs/kairos-notes.md §4.5). Every wait is one bounded
 * `retryUntil`; a timeout carries the last error and the tail of the node's serial console when
 * its log file is readable here (local libvirt).
 */
import * as fs from "fs";
import { isIP } from "net";
import { X509Certificate } from "crypto";
import {
  K3S_NODES_COMMAND, type Readiness, describeReadiness, k3sServerUrl, kubeconfigClientCertificate, nameKubeconfig, nodesReadiness, parseNodes,
} from "../../kairos/scripts";
import { Clock, PermanentError, retryUntil } from "../retry";
import { ProgressLog, stderrLog } from "../progress";
import { SshTarget, describeTarget, sshExec } from "../ssh/client";
import { describeStall, domainStall } from "../libvirt/domains";
import { fetchKubeconfig, waitForK3sReady, waitForSsh } from "../ssh/waits";

export interface ReadinessNode {
  /** Node name = k3s node name (the hostname we render). */
  name: string;
  /** Address reachable over SSH from here. */
  address: string;
  /** @default 22 */
  port?: number;
  /** Serial console log readable here, for timeout diagnostics. */
  consoleLogFile?: string;
  /** The node's libvirt domain: a wait involving the node ends at once when it stops running. */
  libvirt?: { uri: string; domain: string };
  /** `server` runs the API (and kubectl for the others); `node`: p2p, elected. @default first node server */
  role?: "server" | "agent" | "node";
}

export interface ClusterReadyInputs {
  /** `explicit`: roles fixed, kubeconfig from the first server; `p2p`: roles elected, kubeconfig from the p2p daemon. */
  mode: "explicit" | "p2p";
  adminUser: string;
  /** OpenSSH private key of the admin user. Secret. */
  privateKey: string;
  /** Every node, in plan order; explicit mode: the first is the first server. */
  nodes: ReadinessNode[];
  /** API endpoint host (VIP or first server's address). Required in explicit mode; p2p: optional override. */
  endpoint?: string;
  /** Bound of the SSH wait (all nodes in parallel), in seconds. */
  sshTimeoutSeconds: number;
  /** Bound of the k3s-Ready wait plus the kubeconfig wait, in seconds. */
  readyTimeoutSeconds: number;
  /** Pause between attempts, in ms. @default 2000 */
  intervalMs?: number;
  /** Name of the kubeconfig's cluster, user and context (k3s calls them `default`). @default "default" */
  contextName?: string;
  /** How a node leaving the cluster is drained. @default 300 s, no force */
  drain?: { timeoutSeconds: number; force: boolean };
}

export interface ClusterReadyOutputs {
  /** Admin kubeconfig, server rewritten to the endpoint. Secret. */
  kubeconfig: string;
  /** `https://<endpoint>:6443`, or the kubeconfig's server in p2p mode. */
  apiEndpoint: string;
  /** SSH host key seen per node (`"<type> <base64>"`). */
  hostKeys: Record<string, string>;
  /** k3s nodes that were Ready. */
  readyNodes: string[];
  /** When the kubeconfig's client certificate expires (ISO 8601), when it can be read. */
  certExpiresAt?: string;
}

/** When the kubeconfig's client certificate expires; undefined when it holds none that parses. */
export function clientCertExpiry(kubeconfig: string): Date | undefined {
  const b64 = kubeconfigClientCertificate(kubeconfig);
  if (!b64) return undefined;
  try {
    return new Date(new X509Certificate(Buffer.from(b64, "base64")).validTo);
  } catch {
    return undefined;
  }
}

/** Days before expiry from which a refresh warns about the kubeconfig's client certificate. */
export const CERT_WARN_DAYS = 30;

export interface ReadinessRunOptions {
  clock?: Clock;
  /** Progress lines (never secrets). @default stderr (providers/progress.ts) */
  log?: ProgressLog;
  /** How often progress is reported, in ms. @default 15000 */
  progressEveryMs?: number;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));
const isHostLike = (s: unknown): s is string => typeof s === "string" && (isIP(s) !== 0 || NAME.test(s));

/** Every problem in the known inputs, as `{ property, reason }` for a provider's check. Unknown values are skipped by the caller. */
export function validateReadyInputs(i: Partial<Record<keyof ClusterReadyInputs, unknown>>): Array<{ property: string; reason: string }> {
  const out: Array<{ property: string; reason: string }> = [];
  const bad = (property: string, value: string, expected: string) => out.push({ property, reason: `${property}: ${value} is not valid; expected ${expected}` });
  if (i.mode !== undefined && i.mode !== "explicit" && i.mode !== "p2p") bad("mode", show(i.mode), '"explicit" or "p2p"');
  if (i.adminUser !== undefined && (typeof i.adminUser !== "string" || !USER.test(i.adminUser))) bad("adminUser", show(i.adminUser), "a Linux user name");
  if (i.privateKey !== undefined && (typeof i.privateKey !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(i.privateKey))) {
    bad("privateKey", "<secret>", "an OpenSSH or PEM private key");
  }
  if (i.nodes !== undefined) {
    if (!Array.isArray(i.nodes) || i.nodes.length === 0) bad("nodes", show(i.nodes), "at least one node");
    else {
      (i.nodes as unknown[]).forEach((n, k) => {
        const node = (n ?? {}) as Record<string, unknown>;
        if (typeof node.name !== "string" || !NAME.test(node.name)) bad(`nodes[${k}].name`, show(node.name), "a node name");
        if (!isHostLike(node.address)) bad(`nodes[${k}].address`, show(node.address), "an IP address or DNS name the node is reachable at (none was found: did the node get an address?)");
        if (node.port !== undefined && !(Number.isInteger(node.port) && (node.port as number) >= 1 && (node.port as number) <= 65535)) bad(`nodes[${k}].port`, show(node.port), "a TCP port 1-65535");
      });
    }
  }
  if (i.mode === "explicit" && i.endpoint === undefined) bad("endpoint", "undefined", 'the API address (VIP or first server) in mode "explicit"');
  if (i.endpoint !== undefined && i.endpoint !== "" && !isHostLike(i.endpoint)) bad("endpoint", show(i.endpoint), "an IP address or DNS name without scheme or port");
  for (const f of ["sshTimeoutSeconds", "readyTimeoutSeconds"] as const) {
    const v = i[f];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 1 && v <= 86_400)) bad(f, show(v), "a number of seconds from 1 to 86400");
  }
  return out;
}

/** The last `lines` lines of a readable local file, or "" (remote hypervisor, not yet written). */
export function consoleTail(file: string | undefined, lines = 40): string {
  if (!file) return "";
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString("utf8").split(/\r?\n/).filter((l) => l.trim() !== "").slice(-lines).join("\n");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}

/**
 * Console tails for a timeout. `focus`, when it names nodes (the last listing's missing and
 * NotReady ones), narrows them to those: a refused join shows on the joining node's console, not
 * on the server's.
 */
function diagnosticsFor(nodes: readonly ReadinessNode[], focus?: () => ReadonlyMap<string, string> | undefined): () => string {
  return () => {
    const unready = focus?.();
    const shown = unready && unready.size > 0 ? nodes.filter((n) => unready.has(n.name)) : nodes;
    return shown
      .map((n) => ({ n, tail: consoleTail(n.consoleLogFile) }))
      .filter((x) => x.tail)
      .map((x) => `last serial console lines of ${x.n.name}${unready?.has(x.n.name) ? ` (${unready.get(x.n.name)})` : ""} (${x.n.consoleLogFile}):\n${x.tail}`)
      .join("\n");
  };
}

/** The expected nodes a listing found missing or not Ready, with what was seen. */
function unreadyOf(r: Readiness): Map<string, string> {
  return new Map([...r.missing.map((m) => [m, "missing"] as [string, string]), ...r.notReady.map((n) => [n.name, n.status] as [string, string])]);
}

/**
 * For the waits on `nodes`: the first node whose libvirt domain stopped running (paused, shut off,
 * crashed, gone), as a sentence, so the wait fails at once instead of at its timeout.
 */
function stalledDomain(nodes: readonly ReadinessNode[]): (() => Promise<string | undefined>) | undefined {
  const watched = nodes.filter((n) => n.libvirt);
  if (watched.length === 0) return undefined;
  return async () => {
    for (const n of watched) {
      const stall = await domainStall({ uri: n.libvirt!.uri }, n.libvirt!.domain).catch(() => undefined);
      if (stall) return `node ${n.name}: ${describeStall(n.libvirt!.domain, stall)}`;
    }
    return undefined;
  };
}

function targetOf(i: ClusterReadyInputs, n: ReadinessNode, hostKeys?: Record<string, string>): SshTarget {
  return { host: n.address, port: n.port ?? 22, user: i.adminUser, privateKey: i.privateKey, hostKey: hostKeys?.[n.name] };
}

/** Waits for the whole cluster; resolves with the kubeconfig and what was seen. */
export async function waitClusterReady(i: ClusterReadyInputs, o: ReadinessRunOptions = {}): Promise<ClusterReadyOutputs> {
  const issues = validateReadyInputs(i as never);
  if (issues.length) throw new PermanentError(issues.map((x) => x.reason).join("\n"));
  const log = o.log ?? stderrLog;
  const base = { clock: o.clock, intervalMs: i.intervalMs, progressEveryMs: o.progressEveryMs };
  const progress = (what: string) => (ms: number, attempt: number, last?: string) =>
    log.info(`still waiting for ${what} (${Math.round(ms / 1000)} s, attempt ${attempt}${last ? `, last: ${last.split("\n")[0]}` : ""})`);

  // 1. SSH as the admin user, every node in parallel, each bounded.
  const sshMs = i.sshTimeoutSeconds * 1000;
  const hostKeys: Record<string, string> = {};
  await Promise.all(i.nodes.map(async (n) => {
    const r = await waitForSsh(targetOf(i, n), {
      ...base, timeoutMs: sshMs, onProgress: progress(`SSH as ${i.adminUser} on ${n.name} (${n.address})`),
      diagnostics: diagnosticsFor([n]), abortIf: stalledDomain([n]),
    });
    hostKeys[n.name] = r.hostKey;
  }));
  log.info(`SSH answers on ${i.nodes.length} node(s)`);

  // 2. k3s API + every node Ready, then 3. the kubeconfig: one shared deadline.
  const clock = o.clock;
  const now = () => (clock ? clock.now() : Date.now());
  const deadline = now() + i.readyTimeoutSeconds * 1000;
  const left = () => Math.max(1000, deadline - now());
  const names = i.nodes.map((n) => n.name);
  let unready: Map<string, string> | undefined;
  const onReadiness = (r: Readiness) => { unready = unreadyOf(r); };
  const diagnostics = diagnosticsFor(i.nodes, () => unready);
  const abortIf = stalledDomain(i.nodes);
  let via: ReadinessNode;
  if (i.mode === "explicit") {
    via = i.nodes[0];
    await waitForK3sReady(targetOf(i, via, hostKeys), names, {
      ...base, timeoutMs: left(), onProgress: progress(`k3s nodes Ready via ${via.name}`), diagnostics, abortIf, onReadiness,
    });
  } else {
    via = await readyViaAnyNode(i, hostKeys, names, { ...base, timeoutMs: left(), onProgress: progress("k3s nodes Ready via any node"), diagnostics, abortIf, onReadiness });
  }
  log.info(`${names.length} k3s node(s) Ready (via ${via.name})`);
  const endpoint = i.endpoint || undefined;
  const kubeconfig = await fetchKubeconfig(targetOf(i, via, hostKeys), {
    ...base, timeoutMs: left(), mode: i.mode, endpoint, onProgress: progress(`the kubeconfig from ${via.name}`), diagnostics, abortIf,
  });
  const server = /^\s*server:\s*(\S+)/m.exec(kubeconfig)?.[1] ?? "";
  const apiEndpoint = endpoint ? k3sServerUrl(endpoint) : server;
  const named = i.contextName ? nameKubeconfig(kubeconfig, i.contextName) : kubeconfig;
  const expires = clientCertExpiry(named);
  return { kubeconfig: named, apiEndpoint, hostKeys, readyNodes: names, ...(expires ? { certExpiresAt: expires.toISOString() } : {}) };
}

/** What a refresh sees of a running cluster. */
export interface ClusterProbe {
  /** Whether a server answered at all. */
  reachable: boolean;
  /** Expected nodes listed Ready. */
  readyNodes: string[];
  /** Expected nodes listed with another status, or not listed. */
  notReady: Array<{ name: string; status: string }>;
  /** The kubeconfig read again from the server (renewed client certificate), named and pointed at the endpoint. */
  kubeconfig?: string;
  certExpiresAt?: string;
  /** Why no server answered. */
  error?: string;
}

/** The nodes that can run kubectl: the servers, or the first node when no roles are given (explicit mode). */
export function kubectlCandidates(i: ClusterReadyInputs): ReadinessNode[] {
  const servers = i.nodes.filter((n) => n.role === "server" || n.role === "node");
  return servers.length ? servers : i.nodes.slice(0, 1);
}

/**
 * One look at the cluster for a refresh, bounded (one attempt per server, 15 s each): which nodes
 * are Ready, and the kubeconfig read again. Never waits for anything to get better. `hostKeys`:
 * the keys seen at create, pinned.
 */
export async function probeCluster(i: ClusterReadyInputs, hostKeys?: Record<string, string>): Promise<ClusterProbe> {
  const names = i.nodes.map((n) => n.name);
  const errors: string[] = [];
  for (const n of kubectlCandidates(i)) {
    const t = targetOf(i, n, hostKeys);
    try {
      const r = await sshExec(t, K3S_NODES_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 15_000 });
      if (r.code !== 0) {
        errors.push(`${n.name}: ${K3S_NODES_COMMAND} exited with ${r.code}`);
        continue;
      }
      const listed = new Map(parseNodes(r.stdout).map((x) => [x.name, x.status]));
      const readyNodes = names.filter((x) => listed.get(x) === "Ready");
      const notReady = names.filter((x) => listed.get(x) !== "Ready").map((x) => ({ name: x, status: listed.get(x) ?? "missing" }));
      let kubeconfig: string | undefined;
      try {
        const kc = await fetchKubeconfig(t, { timeoutMs: 15_000, maxAttempts: 1, mode: i.mode, endpoint: i.endpoint || undefined });
        kubeconfig = i.contextName ? nameKubeconfig(kc, i.contextName) : kc;
      } catch {
        // the node list is what matters; the kubeconfig stays as it was
      }
      const expires = kubeconfig ? clientCertExpiry(kubeconfig) : undefined;
      return { reachable: true, readyNodes, notReady, ...(kubeconfig ? { kubeconfig } : {}), ...(expires ? { certExpiresAt: expires.toISOString() } : {}) };
    } catch (e) {
      errors.push(`${n.name}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { reachable: false, readyNodes: [], notReady: [], error: errors.join("; ") };
}

/**
 * p2p: the leader elects the control planes at boot, so which node runs the API is not known here.
 * Each attempt asks the nodes in turn; the first whose `k3s kubectl` lists every node Ready wins.
 */
async function readyViaAnyNode(
  i: ClusterReadyInputs, hostKeys: Record<string, string>, names: string[],
  opts: {
    timeoutMs: number; intervalMs?: number; clock?: Clock; onProgress?: (ms: number, n: number, last?: string) => void; progressEveryMs?: number;
    diagnostics?: () => string; abortIf?: () => Promise<string | undefined>; onReadiness?: (r: Readiness) => void;
  },
): Promise<ReadinessNode> {
  const { onReadiness, ...retry } = opts;
  return retryUntil(async () => {
    const errors: string[] = [];
    for (const n of i.nodes) {
      const t = targetOf(i, n, hostKeys);
      try {
        const r = await sshExec(t, K3S_NODES_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 15_000 });
        if (r.code !== 0) {
          errors.push(`${n.name}: exit ${r.code}`);
          continue;
        }
        const readiness = nodesReadiness(parseNodes(r.stdout), names);
        onReadiness?.(readiness);
        if (readiness.ready) return n;
        errors.push(`${describeTarget(t)}: ${describeReadiness(readiness, names.length)}`);
      } catch (e) {
        if (e instanceof PermanentError) throw e;
        errors.push(`${n.name}: ${(e as Error).message}`);
      }
    }
    throw new Error(errors.join("; "));
  }, { what: `k3s nodes ${names.join(", ")} to be Ready (p2p, via any node)`, ...retry });
}
