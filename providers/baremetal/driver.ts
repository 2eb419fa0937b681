/**
 * Bare-metal node driver: installs Kairos on a machine booted into the live ISO, over SSH, and
 * checks or resets it later. Knows nothing of Pulumi; the dynamic provider `require()`s it.
 *
 * Host keys. A live ISO generates fresh host keys on every boot and the installed system generates
 * its own on first boot, so one machine legitimately presents two keys: `hostKeyLive` (pinned by
 * `host.hostKey` or recorded on first contact) guards the install session, `hostKey` (pinned by
 * `host.installedHostKey` or recorded on first contact after the reboot) guards every later
 * connection; a different key later is a `HostKeyMismatchError`, never a silent accept. A given
 * `host.installedHostKey` wins over the recorded `hostKey` (spec.ts pinnedHostKey), so a machine
 * reinstalled outside Pulumi is re-pinned by changing that input.
 */
import {
  INSTALL_CONFIG_FILE, MAKE_PRIVATE_DIR_COMMAND, RESET_COMMAND, manualInstallCommand, removePrivateDirCommand,
} from "../../kairos/scripts";
import { PermanentError, Clock, systemClock, retryUntil } from "../retry";
import {
  HostKeyMismatchError, SshCommandError, formatHostKey, parseHostKey, SshDisconnectedError, SshTarget, describeTarget, sshExec, sshRun, sshUpload, waitForSsh, waitForSshDown,
} from "../ssh";
import {
  BareMetalNodeInputs, BareMetalNodeOutputs, DEFAULT_DEVICE, DEFAULT_LIVE_USER, DEFAULT_TIMEOUTS, checkInputs, configDigest,
  formatIssue, pinnedHostKey,
} from "./spec";

export interface DriverOptions {
  /** Progress and warnings, e.g. pulumi.log. Default: nothing. */
  log?: { info(msg: string): void; warn(msg: string): void };
  clock?: Clock;
  /** Pause between wait attempts in ms. Default 2000. */
  intervalMs?: number;
}

type Installed = Pick<BareMetalNodeOutputs, "address" | "hostKeyLive" | "hostKey" | "installedAt" | "configDigest" | "reachable">;

function liveTarget(i: BareMetalNodeInputs): SshTarget {
  return {
    host: i.host.address, port: i.host.port ?? 22, user: i.host.user ?? DEFAULT_LIVE_USER,
    password: i.host.password || undefined, privateKey: i.host.privateKey || undefined, hostKey: i.host.hostKey || undefined,
  };
}

/** The installed system as the cluster admin: pinned to `host.installedHostKey` if given, else to `recorded` when known. */
export function adminTarget(i: BareMetalNodeInputs, recorded?: string): SshTarget {
  return { host: i.host.address, port: i.host.port ?? 22, user: i.adminUser, privateKey: i.adminPrivateKey, hostKey: pinnedHostKey(i.host, recorded) };
}

function assertValid(i: BareMetalNodeInputs): void {
  const issues = checkInputs(i);
  if (issues.length) throw new PermanentError(`invalid bare-metal node inputs:\n  ${issues.map(formatIssue).join("\n  ")}`);
}

/**
 * Installs the node: log in to the live system, upload the cloud-config into a fresh 0700
 * directory as a 0600 file, run `kairos-agent manual-install --device <d> --reboot <file>` with
 * sudo, wait for the reboot, and log in to the installed system as the admin with the cluster key.
 * A failed install throws with the remote stderr and removes the uploaded file.
 */
export async function installNode(i: BareMetalNodeInputs, opts: DriverOptions = {}): Promise<Installed> {
  assertValid(i);
  const log = opts.log ?? { info: () => undefined, warn: () => undefined };
  const clock = opts.clock ?? systemClock;
  const t = { ...DEFAULT_TIMEOUTS, ...(i.timeouts ?? {}) };
  const name = `${i.host.name} (${i.host.address})`;
  const waitOpts = (timeoutMs: number, what: string) => ({
    timeoutMs, intervalMs: opts.intervalMs, clock, progressEveryMs: 30_000,
    onProgress: (ms: number, _n: number, last?: string) => log.info(`${name}: still waiting for ${what} (${Math.round(ms / 1000)} s)${last ? ": " + last : ""}`),
  });

  // 1. The live system.
  const live = liveTarget(i);
  log.info(`${name}: connecting to the live system as ${describeTarget(live)}`);
  const { hostKey: hostKeyLive } = await waitForSsh(live, waitOpts(t.connectMs, "SSH on the live system"));
  if (!i.host.hostKey) log.warn(`${name}: live host key not pinned (host.hostKey); trusting the first key seen: ${hostKeyLive}`);
  const pinnedLive: SshTarget = { ...live, hostKey: hostKeyLive }; // the same machine for the whole session

  // 2. The config, private on the remote side.
  const dir = (await sshRun(pinnedLive, MAKE_PRIVATE_DIR_COMMAND, { timeoutMs: 60_000 })).stdout.trim();
  const cleanup = removePrivateDirCommand(dir); // also validates what mktemp printed
  const file = `${dir}/${INSTALL_CONFIG_FILE}`;
  await sshUpload(pinnedLive, file, i.cloudConfig, 0o600);

  // 3. Install; the reboot may cut the session before the exit status arrives.
  const command = manualInstallCommand(i.host.device ?? DEFAULT_DEVICE, file);
  log.info(`${name}: ${command}`);
  let rebooting = false;
  try {
    const r = await sshExec(pinnedLive, command, { timeoutMs: t.installMs });
    const detail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-40).join("\n");
    // A shell between sshd and the killed process reports the kill as exit code 128 + signal number.
    const killedBy = r.signal ?? (r.code === 137 ? "SIGKILL" : r.code === 143 ? "SIGTERM" : undefined);
    if (killedBy) {
      // A shutdown kills the session's processes (TERM, then KILL) and sshd may still report that
      // before the connection drops: a reboot if the system now goes down, a failure if it stays up.
      log.info(`${name}: manual-install was killed by signal ${killedBy}; checking whether the machine is rebooting`);
      try {
        await waitForSshDown(pinnedLive, { ...waitOpts(Math.min(t.rebootMs, 120_000), "the live system to go down"), intervalMs: Math.min(opts.intervalMs ?? 2000, 1000) });
      } catch {
        throw new PermanentError(`kairos-agent manual-install on ${name} was killed by signal ${killedBy} and the machine did not reboot: ${command}${detail ? "\n" + detail : ""}`);
      }
      rebooting = true;
    } else if (r.code !== 0) {
      await sshExec(pinnedLive, cleanup, { timeoutMs: 30_000 }).catch(() => undefined);
      throw new PermanentError(`kairos-agent manual-install failed on ${name} with exit code ${r.code}: ${command}${detail ? "\n" + detail : ""}`);
    }
  } catch (e) {
    if (!(e instanceof SshDisconnectedError)) throw e;
    rebooting = true;
  }
  if (!rebooting) {
    log.info(`${name}: install finished; waiting for the reboot`);
    await waitForSshDown(pinnedLive, { ...waitOpts(t.rebootMs, "the live system to go down"), intervalMs: Math.min(opts.intervalMs ?? 2000, 1000) });
  }

  // 4. The installed system, as the cluster admin.
  const admin = adminTarget(i);
  log.info(`${name}: waiting for the installed system (${describeTarget(admin)})`);
  // Until the new system is up, the live one (if still there) refuses the admin, or presents its own
  // key (shutdown may leave sshd listening a moment): keep trying in both cases. Unless the user
  // pinned the installed key to the live one, which then cannot tell them apart.
  const pinnedInstalled = i.host.installedHostKey ? formatHostKey(parseHostKey(i.host.installedHostKey)) : undefined;
  const notYetHostKey = pinnedInstalled === hostKeyLive ? undefined : hostKeyLive;
  const { hostKey } = await waitForSsh(admin, { ...waitOpts(t.rebootMs, "SSH on the installed system"), retryAuthFailures: true, notYetHostKey });
  if (!i.host.installedHostKey) log.warn(`${name}: installed host key not pinned (host.installedHostKey); recorded the first key seen: ${hostKey}`);
  return {
    address: i.host.address, hostKeyLive, hostKey, installedAt: new Date(clock.now()).toISOString(),
    configDigest: configDigest(i.cloudConfig), reachable: true,
  };
}

/**
 * Checks the installed node for `read`: reachable as the admin with the pinned host key (the input
 * if given, else the recorded one). A different host key throws (`HostKeyMismatchError`); anything
 * else unreachable returns false.
 */
export async function probeNode(state: BareMetalNodeOutputs, opts: { timeoutMs?: number } = {}): Promise<boolean> {
  try {
    const r = await sshExec(adminTarget(state, state.hostKey), "true", { connectTimeoutMs: opts.timeoutMs ?? 15_000, timeoutMs: opts.timeoutMs ?? 15_000 });
    return r.code === 0;
  } catch (e) {
    if (e instanceof HostKeyMismatchError) throw e;
    return false;
  }
}

/**
 * `kairos-agent reset --unattended --reboot` as the admin, pinned like probeNode. The reset
 * reboots the machine, so a dropped connection counts as done.
 */
export async function resetNode(state: BareMetalNodeOutputs, opts: DriverOptions & { timeoutMs?: number } = {}): Promise<void> {
  const target = adminTarget(state, state.hostKey);
  const timeoutMs = opts.timeoutMs ?? state.timeouts?.connectMs ?? 120_000;
  await retryUntil(async () => {
    try {
      await sshRun(target, RESET_COMMAND, { timeoutMs: Math.max(timeoutMs, 60_000) });
    } catch (e) {
      if (e instanceof SshCommandError) throw new PermanentError(e.message); // the node said no: don't retry
      if (!(e instanceof SshDisconnectedError)) throw e;
    }
    return true;
  }, { what: `${RESET_COMMAND} on ${state.host.name} (${describeTarget(target)})`, timeoutMs, intervalMs: opts.intervalMs, clock: opts.clock });
}
