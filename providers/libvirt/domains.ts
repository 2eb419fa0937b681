/**
 * Domains: define + start from the pure XML builder, read back (state, MAC), wait for an address
 * (DHCP lease, then guest agent, then ARP), read the serial console log, destroy + undefine
 * (with the UEFI nvram).
 *
 * Serial console: the domain's `<serial><log file=…>` is written by virtlogd on the hypervisor host.
 * For a local URI it is read directly; for `qemu+ssh://` it is read with `tail` over ssh with the
 * URI's user, port and key; other remote transports have no way to read it (the diagnostics say so).
 */
import * as fs from "fs";
import { DomainSpec, VolumeRef, buildDomainXml, cidataCdromXml } from "../../kairos/libvirt";
import { Clock, retryUntil } from "../retry";
import { run } from "../exec";
import { Connection, defineAndStart, parseTable, virsh, virshOrMissing, virshWithXml } from "./virsh";
import { isLocalUri, parseLibvirtUri, sshArgvFor } from "./uri";

/** Where a domain's serial console is logged on the hypervisor host. */
export function serialLogPath(domain: string): string {
  return `/var/log/libvirt/qemu/${domain}-serial.log`;
}

export interface DomainInfo {
  name: string;
  /** `running`, `shut off`, `paused`, … as virsh domstate reports it. */
  state: string;
  /** MAC of the first interface. */
  mac?: string;
  uuid: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The domain by name or UUID; `undefined` only when libvirt says it does not exist. */
export async function readDomain(conn: Connection, ref: string): Promise<DomainInfo | undefined> {
  const st = await virshOrMissing(conn, ["domstate", ref]);
  if (!st) return undefined;
  // domuuid takes a name or id, domname an id or UUID.
  const uuid = UUID.test(ref) ? ref.toLowerCase() : (await virsh(conn, ["domuuid", ref])).stdout.trim();
  const name = (await virsh(conn, ["domname", uuid])).stdout.trim(); // domname takes an id or UUID, not a name
  const ifs = parseTable((await virsh(conn, ["domiflist", ref])).stdout);
  // columns: Interface Type Source Model MAC
  const mac = ifs.find((r) => r.length >= 5)?.[4];
  return { name, state: st.stdout.trim(), mac, uuid };
}

/** Defines and starts the domain; if starting fails, removes the definition and rethrows. */
export async function createDomain(conn: Connection, spec: DomainSpec): Promise<DomainInfo> {
  return defineAndStart(conn, {
    noun: "domain", name: spec.name, xml: buildDomainXml(spec), define: "define", start: "start",
    read: () => readDomain(conn, spec.name), remove: () => deleteDomain(conn, spec.name),
  });
}

/**
 * Stops (hard) and undefines the domain `ref` (name or UUID: a UUID deletes only that very domain),
 * removing nvram; removes the serial log and libvirt's qemu log (named after `opts.name`, default
 * `ref`). Already gone = success; any other failure is thrown.
 */
export async function deleteDomain(conn: Connection, ref: string, opts: { serialLogFile?: string; name?: string } = {}): Promise<void> {
  let present = true;
  try {
    present = (await virshOrMissing(conn, ["destroy", ref])) !== undefined;
  } catch (e) {
    if (!/not running/i.test((e as { stderr?: string }).stderr ?? "")) throw e;
  }
  if (present) await virshOrMissing(conn, ["undefine", ref, "--nvram"]);
  if (opts.serialLogFile) await removeHostFile(conn, opts.serialLogFile);
  // libvirt keeps its per-domain qemu log after undefine; the domain is gone, so is its log.
  await removeHostFile(conn, qemuLogPath(opts.name ?? ref));
}

/**
 * Rewrites a defined domain's persistent definition (same name and UUID): new vCPUs or memory take
 * effect at its next start (a guest reboot keeps the running qemu), which the caller arranges.
 */
export async function redefineDomain(conn: Connection, spec: DomainSpec & { uuid: string }): Promise<void> {
  await virshWithXml(conn, "define", buildDomainXml(spec));
}

/**
 * Points the domain's cidata cdrom at another volume in its persistent definition (from its next
 * start). The running guest keeps the old medium: a Kairos node has read cidata once and ignores it
 * (docs/kairos-notes.md §8.3), and a guest that mounted it would refuse a live swap (the tray is
 * locked). qemu keeps the old volume's file open, so deleting that volume afterwards is harmless.
 */
export async function swapCidata(conn: Connection, domain: string, ref: VolumeRef): Promise<void> {
  await virshWithXml(conn, "update-device", cidataCdromXml(ref), [domain], ["--config"]);
}

/** Starts a defined domain that is not running (a domain stopped outside Pulumi). */
export async function startDomain(conn: Connection, domain: string): Promise<void> {
  await virsh(conn, ["start", domain]);
}

/** libvirt's own per-domain qemu log on the hypervisor host (qemu:///system). */
export function qemuLogPath(domain: string): string {
  return `/var/log/libvirt/qemu/${domain}.log`;
}

async function removeHostFile(conn: Connection, file: string): Promise<void> {
  if (isLocalUri(conn.uri)) fs.rmSync(file, { force: true });
  else if (parseLibvirtUri(conn.uri).transport.includes("ssh")) await run(sshArgvFor(conn.uri, ["rm", "-f", "--", file]), { timeoutMs: 30_000, allowFailure: true });
}

/** The last `lines` lines of a log file on the hypervisor host (the serial console, libvirt's qemu log). */
export async function hostFileTail(conn: Connection, file: string, lines = 40, what = "serial log"): Promise<string> {
  if (isLocalUri(conn.uri)) {
    if (!fs.existsSync(file)) return `(${what} ${file} does not exist yet)`;
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  }
  if (parseLibvirtUri(conn.uri).transport.includes("ssh")) {
    const r = await run(sshArgvFor(conn.uri, ["tail", "-n", String(lines), "--", file]), { timeoutMs: 30_000, allowFailure: true });
    return r.exitCode === 0 ? r.stdout : `(could not read ${what} ${file} over ssh: ${r.stderr.trim()})`;
  }
  return `(${what} ${file} is on the remote host; the ${parseLibvirtUri(conn.uri).transport} transport offers no way to read it)`;
}

/** The last `lines` lines of the serial console log on the hypervisor host. */
export function serialTail(conn: Connection, file: string, lines = 40): Promise<string> {
  return hostFileTail(conn, file, lines, "serial log");
}

/** Why a domain cannot make progress; `undefined` while it runs. */
export interface DomainStall {
  /** `virsh domstate --reason`, e.g. "paused (unknown)", "shut off (crashed)"; "missing" when gone. */
  state: string;
  /** The KVM failure line from libvirt's qemu log (e.g. "KVM internal error. Suberror: 1"), if any. */
  kvmError?: string;
}

/** KVM failures as qemu logs them (accel/kvm: "KVM internal error. Suberror: N", "kvm run failed ..."). */
const KVM_ERROR = /KVM internal error[^\n]*|kvm run failed[^\n]*|KVM: entry failed[^\n]*/i;

/**
 * KVM failures that kill qemu before the guest runs, so `virsh start` itself fails ("process exited
 * while connecting to monitor"): seen on nested hosts as "failed to set MSR 0x10a to 0x69" followed
 * by an assertion in qemu's kvm code.
 */
const KVM_START_ERROR = /failed to set MSR[^\n]*|failed to initiali[sz]e KVM[^\n]*|kvm_[a-z_]+: Assertion[^\n]*|KVM internal error[^\n]*/i;

/** The KVM failure line in the error of a start under kvm, if that is why it failed. */
export function kvmStartError(message: string): string | undefined {
  return KVM_START_ERROR.exec(message)?.[0].trim();
}

/**
 * Whether the domain still runs: `undefined` when running (or blocked on I/O, or in a guest reboot),
 * else its state and reason and, for a paused or crashed guest, the KVM error line of its qemu log.
 * A paused guest does not resume by itself, so every wait on a domain gives up at once on a stall.
 */
export async function domainStall(conn: Connection, name: string): Promise<DomainStall | undefined> {
  const r = await virshOrMissing(conn, ["domstate", name, "--reason"]);
  if (!r) return { state: "missing" };
  const state = r.stdout.trim();
  if (/^(running|blocked|in shutdown)\b/.test(state)) return undefined;
  const log = await hostFileTail(conn, qemuLogPath(name), 60, "qemu log");
  const kvm = KVM_ERROR.exec(log)?.[0].trim();
  return { state, ...(kvm ? { kvmError: kvm } : {}) };
}

/** A stall as a sentence: "domain 'x' is paused (unknown): KVM internal error. Suberror: 1". */
export function describeStall(name: string, s: DomainStall): string {
  if (s.state === "missing") return `domain '${name}' does not exist`;
  return `domain '${name}' is ${s.state}${s.kvmError ? `: ${s.kvmError} (libvirt's qemu log)` : ""}`;
}

/** Address sources in the order tried: DHCP lease, then guest agent, then the host's ARP table. */
export const ADDRESS_SOURCES = ["lease", "agent", "arp"] as const;
export type AddressSource = (typeof ADDRESS_SOURCES)[number];

/** Pure: first IPv4 address (without prefix) in `virsh -q domifaddr` output, skipping loopback. */
export function parseDomifaddr(text: string): string | undefined {
  for (const row of parseTable(text)) {
    const i = row.indexOf("ipv4");
    if (i >= 0 && row[i + 1]) {
      const ip = row[i + 1].split("/")[0];
      if (!ip.startsWith("127.")) return ip;
    }
  }
  return undefined;
}

export async function domainAddress(conn: Connection, name: string, source: AddressSource): Promise<string | undefined> {
  const r = await virsh(conn, ["domifaddr", name, "--source", source], { timeoutMs: 30_000, allowFailure: true });
  if (r.exitCode !== 0) {
    if (/failed to get domain/.test(r.stderr)) throw new Error(`domain '${name}' is gone`);
    return undefined;
  }
  return parseDomifaddr(r.stdout);
}

export interface WaitForAddressOptions {
  /** @default 120000 (ms) */
  timeoutMs?: number;
  /** @default 2000 (ms) */
  intervalMs?: number;
  clock?: Clock;
  serialLogFile?: string;
  onProgress?: (elapsedMs: number) => void;
  /** @default 15000 (ms) */
  progressEveryMs?: number;
}

/**
 * Polls lease, agent, then ARP each round until one yields an IPv4 address. Times out with an error
 * naming every source tried and the last 40 lines of the serial console; gives up at once, with the
 * same diagnostics, when the domain is paused, shut off, crashed or gone (`WaitAbortedError`).
 */
export async function waitForAddress(conn: Connection, name: string, opts: WaitForAddressOptions = {}): Promise<{ address: string; source: AddressSource }> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const errors: Partial<Record<AddressSource, string>> = {};
  return retryUntil(
    async () => {
      for (const source of ADDRESS_SOURCES) {
        try {
          const address = await domainAddress(conn, name, source);
          if (address) return { address, source };
          errors[source] = "no IPv4 address yet";
        } catch (e) {
          errors[source] = e instanceof Error ? e.message : String(e);
        }
      }
      return undefined;
    },
    {
      what: `an IPv4 address for domain '${name}' on ${conn.uri} (tried virsh domifaddr --source lease, --source agent, --source arp)`,
      timeoutMs,
      intervalMs: opts.intervalMs ?? 2000,
      clock: opts.clock,
      onProgress: opts.onProgress ? (ms) => opts.onProgress!(ms) : undefined,
      progressEveryMs: opts.progressEveryMs,
      abortIf: async () => {
        const stall = await domainStall(conn, name);
        return stall && describeStall(name, stall);
      },
      diagnostics: async () => {
        const tried = ADDRESS_SOURCES.map((s) => `  --source ${s}: ${errors[s] ?? "not tried"}`).join("\n");
        const console = opts.serialLogFile
          ? `last 40 lines of the serial console (${opts.serialLogFile}):\n${await serialTail(conn, opts.serialLogFile, 40)}`
          : "(no serial log configured)";
        return `address sources tried:\n${tried}\n${console}`;
      },
    },
  );
}
