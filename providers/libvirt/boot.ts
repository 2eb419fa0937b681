/**
 * Booting a domain of the requested type, KVM included where KVM only looks usable.
 *
 * `/dev/kvm` can open and libvirt can offer kvm on a host whose KVM cannot run a guest (nested
 * virtualization: qemu logs "KVM internal error. Suberror: 1" at the guest's first unusual
 * instruction and the domain sits paused; or qemu dies while starting, "failed to set MSR ...").
 * So `auto` starts under kvm and watches the boot: a domain whose start fails with a KVM error, or
 * that pauses or crashes with one in its qemu log, is removed and started again under
 * qemu (software emulation), with a warning, and later domains on that URI in the same run go
 * straight to qemu. An explicit `kvm` fails at once instead, naming the cause and the fix.
 */
import { DomainSpec } from "../../kairos/libvirt";
import { WaitAbortedError, retryUntil } from "../retry";
import { AddressSource, DomainInfo, createDomain, deleteDomain, describeStall, domainStall, kvmStartError, serialTail, waitForAddress } from "./domains";
import { detectDomainType } from "./preflight";
import type { Connection } from "./virsh";
import { ProgressLog, stderrLog } from "../progress";

export type DomainTypeRequest = "auto" | "kvm" | "qemu";

export interface BootOptions {
  /** `auto`: kvm when usable here and it has not failed on this URI in this process, else qemu. */
  domainType: DomainTypeRequest;
  /** Wait for an IPv4 address (and watch the whole boot). @default true */
  waitForAddress?: boolean;
  /** @default 300000 */
  addressTimeoutMs?: number;
  /** Without the address wait, how long a kvm boot is watched for a KVM failure, in ms. @default 15000 */
  kvmWatchMs?: number;
  /** Warnings and progress lines. @default stderr (providers/progress.ts) */
  log?: ProgressLog;
  /** Poll interval of the waits, in ms. @default 2000 */
  intervalMs?: number;
  /** How often the address wait reports, in ms. @default 15000 */
  progressEveryMs?: number;
}

export interface BootedDomain {
  info: DomainInfo;
  type: "kvm" | "qemu";
  /** Set when `auto` fell back from kvm: why. */
  fallback?: string;
  address?: { address: string; source: AddressSource };
}

/** URIs whose KVM failed a guest in this process (the provider host lives for one `pulumi up`). */
const kvmFailed = new Map<string, string>();

/** Forgets what this process learned about KVM (tests). */
export function forgetKvmFailures(): void {
  kvmFailed.clear();
}

/** The error for a kvm that cannot run the guest when kvm was asked for by name. */
export function kvmUnusableMessage(name: string, uri: string, reason: string): string {
  return `domain '${name}' on ${uri} could not run under KVM: ${reason}. This host's KVM cannot run the guest ` +
    `(often nested virtualization); set the target's domainType: "qemu" (software emulation, slower) or "auto" (falls back by itself)`;
}

/**
 * Defines, starts and (by default) waits for the domain's address, as one step that either leaves
 * a running domain or nothing: every failure removes the domain before it is rethrown.
 */
export async function bootDomain(conn: Connection, spec: Omit<DomainSpec, "type">, opts: BootOptions): Promise<BootedDomain> {
  const log = opts.log ?? stderrLog;
  let type: "kvm" | "qemu" = opts.domainType === "auto" ? await detectDomainType(conn) : opts.domainType;
  let fallback: string | undefined;
  if (type === "kvm" && opts.domainType === "auto" && kvmFailed.has(conn.uri)) {
    type = "qemu";
    fallback = kvmFailed.get(conn.uri);
  }
  try {
    return { ...(await startAndWatch(conn, { ...spec, type }, opts)), type, ...(fallback ? { fallback } : {}) };
  } catch (e) {
    const kvm = e instanceof KvmFailedError ? e.reason : undefined;
    if (!kvm || type !== "kvm") throw e;
    if (opts.domainType === "kvm") throw new Error(kvmUnusableMessage(spec.name, conn.uri, kvm));
    fallback = `KVM failed a guest on ${conn.uri} (${kvm})`;
    kvmFailed.set(conn.uri, fallback);
    log.warn(`${fallback}; starting domain '${spec.name}' under qemu (software emulation) instead. Set domainType: "qemu" to skip the KVM attempt.`);
    return { ...(await startAndWatch(conn, { ...spec, type: "qemu" }, opts)), type: "qemu", fallback };
  }
}

class KvmFailedError extends Error {
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

async function startAndWatch(conn: Connection, spec: DomainSpec, opts: BootOptions): Promise<Omit<BootedDomain, "type" | "fallback">> {
  let info: Awaited<ReturnType<typeof createDomain>>;
  try {
    info = await createDomain(conn, spec); // a start that fails leaves nothing defined
  } catch (e) {
    const kvm = spec.type === "kvm" ? kvmStartError((e as Error).message) : undefined;
    if (kvm) throw new KvmFailedError((e as Error).message, `qemu exited at start with "${kvm}"`);
    throw e;
  }
  try {
    if (opts.waitForAddress !== false) {
      const log = opts.log ?? stderrLog;
      const node = spec.owner.node ?? spec.name;
      log.info(`${node}: domain '${spec.name}' started (${spec.type}); waiting for its IPv4 address`);
      const address = await waitForAddress(conn, spec.name, {
        timeoutMs: opts.addressTimeoutMs ?? 300_000, intervalMs: opts.intervalMs, serialLogFile: spec.serialLogFile,
        progressEveryMs: opts.progressEveryMs,
        onProgress: (ms) => log.info(`${node}: still waiting for an IPv4 address for domain '${spec.name}' (DHCP lease, guest agent, ARP): ${Math.round(ms / 1000)} s`),
      });
      log.info(`${node}: address ${address.address} (${address.source})`);
      return { info, address };
    }
    if (spec.type === "kvm") await watchBoot(conn, spec, opts.kvmWatchMs ?? 15_000, opts.intervalMs ?? 1000);
    return { info };
  } catch (e) {
    const stall = e instanceof WaitAbortedError ? await domainStall(conn, spec.name).catch(() => undefined) : undefined;
    await deleteDomain(conn, spec.name, { serialLogFile: spec.serialLogFile }).catch(() => undefined);
    if (stall?.kvmError) throw new KvmFailedError((e as Error).message, `it was ${stall.state} with "${stall.kvmError}" in libvirt's qemu log`);
    throw e;
  }
}

/** Watches a domain for `ms`: fails at once if it stalls (the same check the address wait makes). */
async function watchBoot(conn: Connection, spec: DomainSpec, ms: number, intervalMs: number): Promise<void> {
  const started = Date.now();
  await retryUntil(async () => (Date.now() - started >= ms ? true : undefined), {
    what: `domain '${spec.name}' to keep running through the first ${Math.round(ms / 1000)} s of its boot`,
    timeoutMs: ms + 10_000, intervalMs,
    abortIf: async () => {
      const stall = await domainStall(conn, spec.name);
      return stall && describeStall(spec.name, stall);
    },
    diagnostics: async () => `last 40 lines of the serial console (${spec.serialLogFile}):\n${await serialTail(conn, spec.serialLogFile, 40)}`,
  });
}
