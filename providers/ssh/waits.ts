/**
 * The node waits, over SSH: SSH answering, SSH gone (a reboot started), every expected k3s node
 * Ready, and the kubeconfig. Each is one bounded `retryUntil` (time and attempts) with progress
 * callbacks and caller-supplied diagnostics (e.g. a serial-console tail) appended on timeout.
 */
import {
  KubeconfigMode, K3S_LOCAL_SERVER, K3S_NODES_COMMAND, NodeStatus, Readiness, describeReadiness, kubeconfigCommand, nodesReadiness,
  parseNodes, rewriteKubeconfigServer,
} from "../../kairos/scripts";
import { PermanentError, RetryOptions, retryUntil } from "../retry";
import { ConnectOptions, SshConnectTimeoutError, SshTarget, describeTarget, sshExec, connect } from "./client";

/**
 * Bound of the TCP connect in a poll of a machine that may be down (ConnectOptions.tcpConnectTimeoutMs):
 * well above a connect's time to any machine we manage, well below the SYN retransmits it cuts short.
 */
const POLL_TCP_CONNECT_MS = 3000;

/** First bound of a poll's whole connect and login; about ten times what it takes an emulated guest. */
const POLL_LOGIN_MS = 5000;

/**
 * Connect bounds for the polls of one wait on a machine that may be restarting. A connection made
 * just before the machine resets hangs (no FIN, no RST) until its bound, and a SYN sent while it is
 * down is retransmitted only after 1, 3 and 7 s: short bounds see the new boot sooner. Each login
 * that times out raises the next bound by POLL_LOGIN_MS, up to `maxMs`, so a slow machine still gets in.
 */
export function restartPollBounds(maxMs: number): { next(): ConnectOptions; failed(e: unknown): void } {
  let stalls = 0;
  return {
    next: () => ({ tcpConnectTimeoutMs: POLL_TCP_CONNECT_MS, connectTimeoutMs: Math.min(maxMs, POLL_LOGIN_MS * (1 + stalls)) }),
    failed: (e) => {
      if (e instanceof SshConnectTimeoutError && e.phase === "ssh") stalls++;
    },
  };
}

/** retryUntil's bounds, progress and diagnostics (providers/retry.ts; `what` is set per wait), plus: */
export interface WaitOptions extends Omit<RetryOptions, "what"> {
  /** Bound of one connection attempt (and of one remote command) in milliseconds. Default 15000. */
  attemptTimeoutMs?: number;
}

function retryOpts(what: string, o: WaitOptions) {
  return {
    what, timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, maxAttempts: o.maxAttempts, clock: o.clock,
    onProgress: o.onProgress, progressEveryMs: o.progressEveryMs, diagnostics: o.diagnostics, abortIf: o.abortIf,
  };
}

export interface SshWaitOptions extends WaitOptions {
  /** Keep retrying when credentials are refused (a host still rebooting into them). Default false. */
  retryAuthFailures?: boolean;
  /** Host key of the system being replaced: while it is presented, keep waiting (see ConnectOptions). */
  notYetHostKey?: string;
}

/**
 * Waits until a login succeeds and `true` runs. Resolves with the host key presented
 * (`"<type> <base64>"`). A host-key mismatch fails at once; so do refused credentials unless
 * `retryAuthFailures`.
 */
export async function waitForSsh(target: SshTarget, opts: SshWaitOptions): Promise<{ hostKey: string }> {
  const attemptMs = opts.attemptTimeoutMs ?? 15_000;
  const bounds = restartPollBounds(attemptMs);
  return retryUntil(async () => {
    const r = await sshExec(target, "true", {
      ...bounds.next(), timeoutMs: attemptMs, retryAuthFailures: opts.retryAuthFailures, notYetHostKey: opts.notYetHostKey,
    }).catch((e: unknown) => { bounds.failed(e); throw e; });
    if (r.code !== 0) throw new Error(`'true' exited with ${r.code} on ${describeTarget(target)}`);
    return { hostKey: r.hostKey };
  }, retryOpts(`SSH on ${describeTarget(target)}`, opts));
}

/**
 * Waits until the system that answered as `target` is gone: the connection is refused, times out,
 * presents another host key or refuses these credentials (a reboot into the installed system).
 */
export async function waitForSshDown(target: SshTarget, opts: WaitOptions): Promise<void> {
  const attemptMs = opts.attemptTimeoutMs ?? 5_000;
  await retryUntil(async () => {
    try {
      const { client } = await connect(target, { connectTimeoutMs: attemptMs });
      client.end();
    } catch {
      return true; // any failure to log in as before means that system is down
    }
    throw new Error(`${describeTarget(target)} still accepts the login`);
  }, retryOpts(`${describeTarget(target)} to go down (reboot)`, opts));
}

/**
 * Waits until `sudo k3s kubectl get nodes --no-headers` on `target` (a server node) lists every
 * name in `expectedNodeNames` with STATUS exactly `Ready`. Resolves with the parsed rows. A failing
 * kubectl (API not up yet) is retried; the timeout error carries the last readiness or error.
 */
export async function waitForK3sReady(
  target: SshTarget, expectedNodeNames: readonly string[], opts: WaitOptions & { onReadiness?: (r: Readiness) => void },
): Promise<NodeStatus[]> {
  if (expectedNodeNames.length === 0) throw new PermanentError("expectedNodeNames: [] is not valid; expected at least one node name");
  const attemptMs = opts.attemptTimeoutMs ?? 15_000;
  let lastOutput = "";
  const userDiagnostics = opts.diagnostics;
  return retryUntil(async () => {
    const r = await sshExec(target, K3S_NODES_COMMAND, { connectTimeoutMs: attemptMs, timeoutMs: attemptMs });
    lastOutput = r.stdout.trim();
    if (r.code !== 0) {
      throw new Error(`${K3S_NODES_COMMAND} exited with ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n")}`);
    }
    const nodes = parseNodes(r.stdout);
    const readiness = nodesReadiness(nodes, expectedNodeNames);
    opts.onReadiness?.(readiness);
    if (readiness.ready) return nodes;
    throw new Error(describeReadiness(readiness, expectedNodeNames.length));
  }, {
    ...retryOpts(`k3s nodes ${expectedNodeNames.join(", ")} to be Ready (via ${describeTarget(target)})`, opts),
    diagnostics: async () => {
      const parts: string[] = [];
      if (lastOutput) parts.push(`last '${K3S_NODES_COMMAND}' output:\n${lastOutput.split("\n").slice(-20).join("\n")}`);
      if (userDiagnostics) {
        const d = await userDiagnostics();
        if (d) parts.push(d);
      }
      return parts.join("\n");
    },
  });
}

export interface KubeconfigOptions extends WaitOptions {
  /**
   * `explicit`: read /etc/rancher/k3s/k3s.yaml on a server and point it at `endpoint`.
   * `p2p`: ask the p2p daemon (`kairos get-kubeconfig`), which already points at the master.
   */
  mode: KubeconfigMode;
  /** Address or DNS name clients use for the API (port 6443). Required for `explicit`. */
  endpoint?: string;
}

/**
 * Fetches the kubeconfig, retrying until the node has one. The result is a secret: it never
 * appears in errors (only its size does).
 */
export async function fetchKubeconfig(target: SshTarget, opts: KubeconfigOptions): Promise<string> {
  const command = kubeconfigCommand(opts.mode);
  if (opts.mode === "explicit" && !opts.endpoint) {
    throw new PermanentError("endpoint: undefined is not valid for mode \"explicit\"; expected the API address clients use (e.g. the first server's IP)");
  }
  const attemptMs = opts.attemptTimeoutMs ?? 15_000;
  return retryUntil(async () => {
    const r = await sshExec(target, command, { connectTimeoutMs: attemptMs, timeoutMs: attemptMs });
    if (r.code !== 0) throw new Error(`${command} exited with ${r.code}: ${r.stderr.trim().split("\n").slice(-5).join("\n")}`);
    if (!/^apiVersion:/m.test(r.stdout) || !/^clusters:/m.test(r.stdout)) {
      throw new Error(`${command} printed no kubeconfig yet (${r.stdout.length} bytes)`);
    }
    if (opts.mode === "explicit") return rewriteKubeconfigServer(r.stdout, opts.endpoint!);
    // p2p: kairosctl rewrote 127.0.0.1 itself; honour an explicit endpoint if one was given anyway.
    return opts.endpoint && r.stdout.includes(K3S_LOCAL_SERVER) ? rewriteKubeconfigServer(r.stdout, opts.endpoint) : r.stdout;
  }, retryOpts(`the kubeconfig (${command} via ${describeTarget(target)})`, opts));
}
