/**
 * A free subnet for an ephemeral cluster's own network, safe with parallel test workers on one host.
 * Under a lock (a folder made with mkdir), the chooser reads what is in use: every libvirt network on
 * the host, this machine's interfaces when the host is local, and the leases other live processes
 * hold for networks they have not created yet. It takes the first free /24 of the pool and records
 * its own lease before unlocking, so two workers never pick the same subnet in the window between
 * choosing and `net-define`. A lease whose process is gone counts no more: by then its network
 * exists (and is seen in libvirt) or never will.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_CIDR_POOL, freeSubnet, subnetPoolProblem } from "../kairos/libvirt/subnet-pool";
import { libvirtNetworkSubnets } from "../providers/libvirt/subnets";

const PREFIX = 24;
/** A lease older than this is stale even if a process of that pid runs (pids are reused). */
const LEASE_MAX_AGE_MS = 24 * 3600_000;

interface LeaseRecord {
  cidr: string;
  uri: string;
  owner: string;
  pid: number;
  at: number;
}

export interface NetworkLease {
  readonly cidr: string;
  /** Drops the lease (after the network is destroyed, or once it exists and libvirt shows it). Idempotent. */
  release(): void;
}

export interface LeaseOptions {
  uri: string;
  /** Who holds the lease (the cluster name), for the lease file. */
  owner: string;
  /** @default DEFAULT_CIDR_POOL */
  cidrPool?: string;
  /** Lock and lease file folder. @default `<tmpdir>/pulumi-kairos-<uid>` */
  lockDir?: string;
}

const isLocal = (uri: string) => /^qemu(\+unix)?:\/\/\//.test(uri);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function hostInterfaceSubnets(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((addrs) => (addrs ?? []).filter((a) => a.family === "IPv4" && a.cidr).map((a) => a.cidr!));
}

function defaultLockDir(): string {
  return path.join(os.tmpdir(), `pulumi-kairos-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
}

function readLeases(file: string): LeaseRecord[] {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8"));
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

function writeLeases(file: string, leases: LeaseRecord[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(leases, null, 1), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The lock: a folder made atomically (`mkdir`), holding the holder's pid. A holder that is gone or
 * has held it for over 30 s (a critical section takes well under a second) is stale. Written here
 * rather than with a lock library: the usual ones install process-wide signal handlers on load,
 * which would stop pulumi-kairos/testing from ending the process by the signal once it has
 * destroyed its clusters (./cleanup.ts re-raises only when no one else listens).
 */
const LOCK_STALE_MS = 30_000;

function tryLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    let holder: { pid?: number; at?: number } = {};
    try {
      holder = JSON.parse(fs.readFileSync(path.join(lock, "holder"), "utf8"));
    } catch {
      // Being written, or its writer died right after mkdir: judged by the folder's age below.
    }
    const at = holder.at ?? fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    const stale = (holder.pid !== undefined && !alive(holder.pid)) || Date.now() - at > LOCK_STALE_MS;
    if (stale) fs.rmSync(lock, { recursive: true, force: true });
    return false;
  }
  fs.writeFileSync(path.join(lock, "holder"), JSON.stringify({ pid: process.pid, at: Date.now() }), { mode: 0o600 });
  return true;
}

/** Runs `fn` holding the lock next to `file`, waiting for it at most about 60 s. */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  for (let attempt = 0; !tryLock(lock); attempt++) {
    if (attempt >= 600) throw new Error(`cannot lock ${lock} to choose a network subnet: another process has held it for over 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Chooses a free `/24` from the pool for a new network on `uri` and leases it to this process. */
export async function leaseNetwork(o: LeaseOptions): Promise<NetworkLease> {
  const pool = o.cidrPool ?? DEFAULT_CIDR_POOL;
  const problem = subnetPoolProblem(pool, PREFIX);
  if (problem) throw new Error(`network.cidrPool: ${problem}`);
  const dir = o.lockDir ?? defaultLockDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "network-leases.json");
  const cidr = await withLock(file, async () => {
    const now = Date.now();
    const leases = readLeases(file).filter((l) => alive(l.pid) && now - l.at < LEASE_MAX_AGE_MS);
    const taken = [
      ...(await libvirtNetworkSubnets({ uri: o.uri })),
      ...(isLocal(o.uri) ? hostInterfaceSubnets() : []),
      ...leases.filter((l) => l.uri === o.uri).map((l) => l.cidr),
    ];
    const free = freeSubnet(pool, PREFIX, taken);
    if (!free) throw new Error(`network.cidrPool: no free /${PREFIX} left in ${pool} on ${o.uri} (${taken.length} ranges in use); give a larger pool or remove leftover networks (npx pulumi-kairos reap)`);
    writeLeases(file, [...leases, { cidr: free, uri: o.uri, owner: o.owner, pid: process.pid, at: now }]);
    return free;
  });
  let released = false;
  return {
    cidr,
    release() {
      if (released) return;
      released = true;
      // Synchronous, so it also runs at process exit. Locked right now by another chooser: the
      // lease lapses with this process anyway, and the network it was for exists or is gone.
      const lock = `${file}.lock`;
      if (!tryLock(lock)) return;
      try {
        writeLeases(file, readLeases(file).filter((l) => !(l.cidr === cidr && l.uri === o.uri && l.pid === process.pid)));
      } finally {
        fs.rmSync(lock, { recursive: true, force: true });
      }
    },
  };
}
