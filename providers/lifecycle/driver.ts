/**
 * Day-2 changes to a running node, knowing nothing of Pulumi: one node at a time, it leaves
 * Kubernetes' scheduling (cordon, drain, via a server over SSH), takes its change (a new config in
 * /oem, where Kairos reads it at every boot; for changed k3s settings also the bootstrap sentinel
 * removed; new hardware settings take a power cycle), restarts, and comes back (a new boot, SSH,
 * Ready in `kubectl get nodes`), then is uncordoned. Every wait is bounded and a failure names the
 * node, the step and the cause (docs/kairos-notes.md §13).
 */
import { createHash } from "crypto";
import {
  BOOT_ID_COMMAND, OEM_CONFIG_DIGEST_COMMAND, REBOOT_COMMAND, RESET_K3S_BOOTSTRAP_COMMAND, WRITE_OEM_CONFIG_COMMAND,
  K3S_NODES_COMMAND, POWEROFF_COMMAND, cordonAndDrainCommand, kubeletReady, parseNodes, shellQuote, uncordonCommand, deleteNodeCommand,
} from "../../kairos/scripts";
import {
  BOOT_STATE_COMMAND, K3S_VERSION_COMMAND, KAIROS_RELEASE_COMMAND, expectedRelease, parseBootState, parseK3sVersion,
  parseKairosImageRef, parseKairosRelease, releaseMismatch, upgradeCommand,
} from "../../kairos/upgrade";
import { Connection, describeStall, domainStall, serialTail, virsh, virshOrMissing } from "../libvirt/driver";
import { ProgressLog, stderrLog } from "../progress";
import { PermanentError, retryUntil } from "../retry";
import { ConnectOptions, SshAuthError, SshTarget, describeTarget, sshExec, sshRun } from "../ssh/client";
import { restartPollBounds } from "../ssh/waits";

/** A node as the day-2 operations reach it. */
export interface NodeAccess {
  name: string;
  address: string;
  /** @default 22 */
  port?: number;
}

export interface ClusterAccess {
  adminUser: string;
  /** The admin user's private key. Secret. */
  privateKey: string;
  /** The key before a rotation, for nodes that do not have the new one yet (refused logins are retried with it). Secret. */
  previousPrivateKey?: string;
  /** The servers, in plan order: kubectl runs on the first reachable one other than the node at hand. */
  servers: NodeAccess[];
}

export interface DrainOptions {
  /** Bound of `kubectl drain`, in seconds. */
  timeoutSeconds: number;
  /** `kubectl drain --force`: also delete pods no controller recreates. */
  force: boolean;
}

/** What one node's change consists of. */
export interface NodeChange {
  /** A new cloud-config for /oem (secret), or undefined. */
  config?: string;
  /** The node's k3s settings changed: remove the bootstrap sentinel so the next boot applies them. */
  k3sChanged?: boolean;
  /** How the node restarts: a guest reboot, a power cycle (new hardware settings, libvirt), or not at all (staged). */
  restart: "reboot" | "powercycle" | "none";
  /**
   * A new OS image (A/B): `kairos-agent upgrade` writes it to the passive system (and with
   * `recovery` then to the recovery system); the restart boots it, and the node must come back
   * from the active system with the release the image's tag promises.
   */
  upgrade?: { image: string; recovery: boolean };
}

/** The OS a node reports: /etc/kairos-release, its boot state and its k3s version. */
export interface NodeOs {
  kairosVersion?: string;
  flavor?: string;
  /** KAIROS_SOFTWARE_VERSION: the Kubernetes distribution's version the image ships. */
  softwareVersion?: string;
  /** `kairos-agent state get boot`: active_boot, passive_boot (a fallback), recovery_boot, ... */
  bootState?: string;
  /** `k3s --version`. */
  k3sVersion?: string;
}

const OS_PROBE_COMMAND = `${KAIROS_RELEASE_COMMAND} 2>/dev/null; echo @@kairos@@; ${BOOT_STATE_COMMAND} 2>/dev/null; echo @@kairos@@; ${K3S_VERSION_COMMAND} 2>/dev/null; true`;

export interface NodeOsReading {
  os: NodeOs;
  /** The release file's keys as they are. */
  release: Record<string, string>;
}

/** Reads what OS `node` runs (one SSH session). */
export async function readNodeOs(c: ClusterAccess, node: NodeAccess): Promise<NodeOsReading> {
  return nodeOsOf((await withKey(c, node, (t) => sshRun(t, OS_PROBE_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 60_000 }))).stdout);
}

/** What OS_PROBE_COMMAND printed. */
function nodeOsOf(out: string): NodeOsReading {
  const [releaseText = "", boot = "", k3s = ""] = out.split("@@kairos@@");
  const release = parseKairosRelease(releaseText);
  const os: NodeOs = {
    kairosVersion: release.KAIROS_VERSION, flavor: release.KAIROS_FLAVOR, softwareVersion: release.KAIROS_SOFTWARE_VERSION,
    bootState: parseBootState(boot), k3sVersion: parseK3sVersion(k3s),
  };
  return { os: JSON.parse(JSON.stringify(os)) as NodeOs, release };
}

/** The nodes Kubernetes does not list Ready (cordoned but Ready counts as Ready), via a server. */
export async function notReadyNodes(c: ClusterAccess, node: NodeAccess): Promise<string[]> {
  const via = kubectlVia(c, node);
  const r = await withKey(c, via, (t) => sshExec(t, K3S_NODES_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 60_000 }));
  if (r.code !== 0) throw new NodeChangeError(node.name, "listing the nodes", `${K3S_NODES_COMMAND} on ${via.name} exited with ${r.code}: ${r.stderr.trim().split("\n").slice(-2).join(" ")}`);
  return parseNodes(r.stdout).filter((n) => !kubeletReady(n.status)).map((n) => `${n.name} (${n.status})`);
}

/**
 * The nodes still not Ready after waiting up to `settleSeconds` for them; empty once all are. The
 * step before restarted a node, and nodes that lost their server meanwhile report again only
 * seconds later, so a single listing would stop a rollout for nothing lasting.
 */
export async function notReadyAfterSettling(c: ClusterAccess, node: NodeAccess, o: { settleSeconds: number; intervalMs?: number; log?: ProgressLog }): Promise<string[]> {
  const intervalMs = o.intervalMs ?? 2000;
  const deadline = Date.now() + o.settleSeconds * 1000;
  const maxAttempts = Math.ceil((o.settleSeconds * 1000) / intervalMs) + 1;
  for (let attempt = 1; ; attempt++) {
    const notReady = await notReadyNodes(c, node);
    if (notReady.length === 0 || attempt >= maxAttempts || Date.now() >= deadline) return notReady;
    if (attempt === 1) (o.log ?? stderrLog).info(`${node.name}: waiting up to ${o.settleSeconds} s for ${notReady.join(", ")} to be Ready`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const tail = (text: string, lines: number) => text.trim().split("\n").slice(-lines).join("\n");

export interface ApplyOptions {
  drain: DrainOptions;
  /** Bound of the node's way back (boot, SSH, Ready), in seconds. */
  readySeconds: number;
  /** The node's libvirt domain, for a power cycle and for failing at once when it stops. */
  libvirt?: { uri: string; domain: string };
  /** Serial console readable here, for diagnostics. */
  consoleLogFile?: string;
  log?: ProgressLog;
  /** Bound of each `kairos-agent upgrade` (it pulls the image), in seconds. @default 1800 */
  upgradeSeconds?: number;
  /** Poll interval, in ms. @default 1000 */
  intervalMs?: number;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function targetOf(c: ClusterAccess, n: NodeAccess): SshTarget {
  return { host: n.address, port: n.port ?? 22, user: c.adminUser, privateKey: c.privateKey };
}

/**
 * Runs `fn` against `n` with the cluster's key, and once more with the previous key when the
 * login is refused: during a key rotation, nodes not yet rolled only know the old one.
 */
async function withKey<T>(c: ClusterAccess, n: NodeAccess, fn: (t: SshTarget) => Promise<T>): Promise<T> {
  try {
    return await fn(targetOf(c, n));
  } catch (e) {
    if (!(e instanceof SshAuthError) || !c.previousPrivateKey || c.previousPrivateKey === c.privateKey) throw e;
    return fn({ ...targetOf(c, n), privateKey: c.previousPrivateKey });
  }
}

/** Where kubectl runs for `node`: the first server that is not `node` itself, else `node` (a lone server). */
export function kubectlVia(c: ClusterAccess, node: NodeAccess): NodeAccess {
  return c.servers.find((s) => s.name !== node.name) ?? c.servers.find((s) => s.name === node.name) ?? node;
}

/** A failure of one step on one node: the message says which node, which step, and why. */
export class NodeChangeError extends PermanentError {
  constructor(readonly node: string, readonly step: string, cause: string) {
    super(`node ${node}: ${step} failed: ${cause}`);
    this.name = "NodeChangeError";
  }
}

async function step<T>(node: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof NodeChangeError) throw e;
    throw new NodeChangeError(node, what, (e as Error).message);
  }
}

/** The kernel's id of the current boot: it changes with every boot, so a restart is seen even when SSH comes back fast. */
async function bootId(t: SshTarget, connect: ConnectOptions = { connectTimeoutMs: 15_000 }): Promise<string> {
  return (await sshRun(t, BOOT_ID_COMMAND, { ...connect, timeoutMs: 15_000 })).stdout.trim();
}

/**
 * The boot id, and when it is not `before` (a new boot) also the OS that boot runs, in one session:
 * after an upgrade the release and boot state are fixed at boot, and a login is slow on an emulated guest.
 */
async function bootIdAndOs(t: SshTarget, before: string, connect: ConnectOptions): Promise<{ id: string; booted?: NodeOsReading }> {
  const command = `id=$(${BOOT_ID_COMMAND}) && echo "$id" && if [ "$id" != ${shellQuote(before)} ]; then ${OS_PROBE_COMMAND}; fi`;
  const out = (await sshRun(t, command, { ...connect, timeoutMs: 60_000 })).stdout;
  const id = out.slice(0, out.indexOf("\n")).trim();
  return id === before ? { id } : { id, booted: nodeOsOf(out.slice(out.indexOf("\n") + 1)) };
}

/** What the node reported once back: its OS, read for an upgrade's image check (so the caller need not read it again). */
export interface NodeChangeResult {
  os?: NodeOs;
}

/**
 * Applies `change` to `node` (one node; the caller rolls them). Resolves when the node is back,
 * Ready and uncordoned; on a failure the node is left as it is (cordoned, maybe down) and the error
 * names the node and the step.
 */
export async function applyNodeChange(c: ClusterAccess, node: NodeAccess, change: NodeChange, o: ApplyOptions): Promise<NodeChangeResult> {
  const log = o.log ?? stderrLog;
  const t = targetOf(c, node);
  const viaNode = kubectlVia(c, node);
  const onVia = <T>(fn: (t: SshTarget) => Promise<T>) => withKey(c, viaNode, fn);
  const intervalMs = o.intervalMs ?? 1000;
  const restarts = change.restart !== "none";

  // Steps share SSH sessions where they can: on an emulated guest each login costs seconds.
  if (restarts) {
    log.info(`${node.name}: cordon and drain (via ${viaNode.name})`);
    await step(node.name, "cordon and drain", () => onVia((v) => sshRun(v, cordonAndDrainCommand(node.name, o.drain), { timeoutMs: (o.drain.timeoutSeconds + 120) * 1000 })));
  }
  let before: string | undefined;
  if (change.config !== undefined) {
    log.info(`${node.name}: writing the new config to /oem`);
    const config = change.config;
    // The node is not restarted yet: it may know only the previous key.
    await step(node.name, "writing the config to /oem", () => withKey(c, node, async (n) => {
      const then = [WRITE_OEM_CONFIG_COMMAND, OEM_CONFIG_DIGEST_COMMAND, ...(change.k3sChanged ? [RESET_K3S_BOOTSTRAP_COMMAND] : []), BOOT_ID_COMMAND];
      const [written, boot] = (await sshRun(n, then.join(" && "), { input: config, timeoutMs: 60_000 })).stdout.trim().split("\n").map((l) => l.trim());
      if (written !== sha256(config)) throw new Error(`the file in /oem has sha256 ${written || "(none)"}, expected ${sha256(config)}`);
      before = boot;
    }));
  }
  if (!restarts) return {};
  if (change.upgrade) {
    const { image, recovery } = change.upgrade;
    for (const system of recovery ? [false, true] : [false]) {
      const command = upgradeCommand({ image, recovery: system });
      // The boot id rides along in the first upgrade's session when not read yet: one login less.
      const withBootId = before === undefined;
      log.info(`${node.name}: kairos-agent upgrade${system ? " of the recovery system" : ""} to ${image}`);
      await step(node.name, `kairos-agent upgrade${system ? " --recovery" : ""}`, () => withKey(c, node, async (n) => {
        const r = await sshExec(n, withBootId ? `${BOOT_ID_COMMAND} && ${command}` : command, { timeoutMs: (o.upgradeSeconds ?? 1800) * 1000 });
        const printed = withBootId ? r.stdout.slice(r.stdout.indexOf("\n") + 1) : r.stdout;
        if (r.code !== 0) {
          throw new Error(`${command} exited with ${r.code}; it printed:\n${tail(`${printed}\n${r.stderr}`, 20)}\n`
            + `The node is cordoned and still runs its previous image; nodes before it in the rollout are upgraded, none after it was touched.`);
        }
        if (withBootId) before = r.stdout.split("\n")[0].trim();
      }));
    }
  }

  before ??= await step(node.name, "reading the boot id", () => withKey(c, node, (n) => bootId(n)));
  if (change.restart === "powercycle") {
    if (!o.libvirt) throw new NodeChangeError(node.name, "power cycle", "the node has no libvirt domain to power cycle");
    log.info(`${node.name}: power cycle (new hardware settings)`);
    await step(node.name, "power cycle", () => powerCycle({ uri: o.libvirt!.uri }, o.libvirt!.domain, o.readySeconds * 1000));
  } else {
    log.info(`${node.name}: reboot`);
    await step(node.name, "reboot", () => withKey(c, node, async (n) => {
      // The connection may drop before the command returns: that is the reboot.
      await sshExec(n, REBOOT_COMMAND, { timeoutMs: 30_000 }).catch((e) => { if (e instanceof SshAuthError) throw e; });
    }));
  }

  const deadline = Date.now() + o.readySeconds * 1000;
  const left = () => Math.max(1000, deadline - Date.now());
  const abortIf = o.libvirt ? async () => {
    const stall = await domainStall({ uri: o.libvirt!.uri }, o.libvirt!.domain).catch(() => undefined);
    return stall && describeStall(o.libvirt!.domain, stall);
  } : undefined;
  const diagnostics = async () => (o.consoleLogFile && o.libvirt
    ? `last 40 lines of the serial console (${o.consoleLogFile}):\n${await serialTail({ uri: o.libvirt.uri }, o.consoleLogFile, 40)}`
    : "");
  // With an upgrade, the session that sees the new boot also reads what that boot runs (checked once Ready).
  const bounds = restartPollBounds(15_000);
  const { booted } = await step(node.name, "coming back from the restart", () => retryUntil(async () => {
    const connect = bounds.next();
    const seen = await (change.upgrade ? bootIdAndOs(t, before!, connect) : bootId(t, connect).then((id) => ({ id, booted: undefined })))
      .catch((e: unknown) => { bounds.failed(e); throw e; });
    if (seen.id === before) throw new Error(`still the same boot (${seen.id})`);
    return seen; // an object: retryUntil takes undefined as "not yet"
  }, {
    what: `${node.name} to boot again (a new boot id over SSH on ${describeTarget(t)})`, timeoutMs: left(), intervalMs, abortIf, diagnostics,
    onProgress: (ms) => log.info(`${node.name}: still waiting for the node to come back (${Math.round(ms / 1000)} s)`),
  }));
  // A new boot id came over SSH: the node answers, so no separate wait for SSH.
  log.info(`${node.name}: back; waiting until Ready (via ${viaNode.name})`);
  await step(node.name, "waiting until Ready", () => retryUntil(async () => {
    const r = await onVia((v) => sshExec(v, K3S_NODES_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 15_000 }));
    if (r.code !== 0) throw new Error(`${K3S_NODES_COMMAND} exited with ${r.code}: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
    const row = parseNodes(r.stdout).find((n) => n.name === node.name);
    if (!row) throw new Error(`${node.name} is not listed`);
    // Still cordoned here: Ready,SchedulingDisabled is Ready.
    if (!kubeletReady(row.status)) throw new Error(`${node.name} is ${row.status}`);
    return row;
  }, {
    what: `${node.name} to be Ready (via ${viaNode.name})`, timeoutMs: left(), intervalMs, abortIf, diagnostics,
    onProgress: (ms, _n, last) => log.info(`${node.name}: still waiting until Ready (${Math.round(ms / 1000)} s${last ? `: ${last}` : ""})`),
  }));
  if (change.upgrade) {
    const { image } = change.upgrade;
    await step(node.name, "checking the new image", async () => {
      const { os, release } = booted!;
      if (os.bootState !== "active_boot") {
        throw new Error(`the node came back from ${os.bootState ?? "an unknown boot state"}, not active_boot: ${image} did not boot and Kairos fell back to the previous image. `
          + "The node is Ready on its previous image and stays cordoned; nodes after it were not touched.");
      }
      const mismatch = releaseMismatch(expectedRelease(parseKairosImageRef(image)), release);
      if (mismatch) throw new Error(`${mismatch}, so the node does not run ${image}; it stays cordoned and nodes after it were not touched.`);
    });
  }
  await step(node.name, "uncordon", () => onVia((v) => sshRun(v, uncordonCommand(node.name), { timeoutMs: 60_000 })));
  log.info(`${node.name}: done`);
  return booted ? { os: booted.os } : {};
}

/** Graceful shutdown (bounded), else a hard stop; then start. The domain is addressed by UUID. */
async function powerCycle(conn: Connection, domain: string, timeoutMs: number): Promise<void> {
  await virsh(conn, ["shutdown", domain]);
  const off = await retryUntil(async () => {
    const st = await virshOrMissing(conn, ["domstate", domain]);
    if (!st) throw new PermanentError(`domain ${domain} is gone`);
    return /shut off/.test(st.stdout) ? true : undefined;
  }, { what: `domain ${domain} to shut down`, timeoutMs: Math.min(timeoutMs, 120_000), intervalMs: 1000 }).catch(() => false);
  if (!off) await virsh(conn, ["destroy", domain]);
  await virsh(conn, ["start", domain]);
}

/**
 * Takes `node` out of the cluster before its machine goes: cordon and drain (bounded; `force` as
 * asked) via a remaining server, power the node off, then `kubectl delete node` there (for an
 * embedded-etcd server this also removes its member). A node Kubernetes no longer lists is already out.
 */
export async function removeNode(c: ClusterAccess, node: NodeAccess, o: { drain: DrainOptions; log?: ProgressLog }): Promise<void> {
  const log = o.log ?? stderrLog;
  const candidates = c.servers.filter((s) => s.name !== node.name);
  if (candidates.length === 0) throw new NodeChangeError(node.name, "removal", "no other server is left to run kubectl on");
  // The first that answers: in p2p mode only the elected masters run the API.
  const errors: string[] = [];
  let viaNode: NodeAccess | undefined;
  let listed = false;
  for (const s of candidates) {
    const r = await withKey(c, s, (t) => sshExec(t, K3S_NODES_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 60_000 })).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
    if (r.code === 0) {
      viaNode = s;
      listed = parseNodes(r.stdout).some((n) => n.name === node.name);
      break;
    }
    errors.push(`${s.name}: ${(r.stderr.trim() || `exit ${r.code}`).split("\n").slice(-1)[0]}`);
  }
  if (!viaNode) throw new NodeChangeError(node.name, "listing the nodes", `no remaining server answered ${K3S_NODES_COMMAND} (${errors.join("; ")})`);
  const onVia = <T>(fn: (t: SshTarget) => Promise<T>) => withKey(c, viaNode!, fn);
  if (!listed) {
    log.info(`${node.name}: not a Kubernetes node any more; nothing to drain`);
    return;
  }
  log.info(`${node.name}: leaving the cluster: cordon, drain, power off, delete node (via ${viaNode.name})`);
  await step(node.name, "cordon and drain", () => onVia((v) => sshRun(v, cordonAndDrainCommand(node.name, o.drain), { timeoutMs: (o.drain.timeoutSeconds + 120) * 1000 })));
  // A deleted Node whose k3s still runs registers again (the kubelet recreates it): the machine
  // stops first, and its Node is deleted only once it no longer answers.
  await withKey(c, node, (t) => sshExec(t, POWEROFF_COMMAND, { connectTimeoutMs: 15_000, timeoutMs: 30_000 })).catch(() => undefined);
  await step(node.name, "waiting for the power-off", () => retryUntil(async () => {
    try {
      await withKey(c, node, (t) => sshExec(t, "true", { connectTimeoutMs: 5000, timeoutMs: 10_000 }));
      return undefined;
    } catch (e) {
      if (e instanceof SshAuthError) return undefined; // still up, refusing our keys
      return true;
    }
  }, { what: `${node.name} to power off (SSH no longer answering)`, timeoutMs: 180_000, intervalMs: 1000 }));
  await step(node.name, "delete node", () => onVia((v) => sshRun(v, deleteNodeCommand(node.name), { timeoutMs: 60_000 })));
  log.info(`${node.name}: removed from the cluster and powered off`);
}
