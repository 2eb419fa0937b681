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
import { SshTarget, describeTarget, sshExec, connect } from "./client";

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
  return retryUntil(async () => {
    const r = await sshExec(target, "true", { connectTimeoutMs: attemptMs, timeoutMs: attemptMs, retryAuthFailures: opts.retryAuthFailures, notYetHostKey: opts.notYetHostKey });
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
