/**
 * A free subnet for an ephemeral cluster's own network, safe with parallel test workers on one host.
 * Under a file lock (proper-lockfile), the chooser reads what is in use: every libvirt network on
 * the host, this machine's interfaces when the host is local, and the leases other live processes
 * hold for networks they have not created yet. It takes the first free /24 of the pool and records
 * its own lease before unlocking, so two workers never pick the same subnet in the window between
 * choosing and `net-define`. A lease whose process is gone counts no more: by then its network
 * exists (and is seen in libvirt) or never will.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as lockfile from "proper-lockfile";
import { freeSubnet, subnetPoolProblem } from "../kairos/libvirt/subnet-pool";
import { libvirtNetworkSubnets } from "../providers/libvirt/subnets";

/** Where ephemeral cluster networks come from unless `network.cidrPool` says otherwise. */
export const DEFAULT_CIDR_POOL = "10.213.0.0/16";
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

/** Runs `fn` holding the lock on `file` (retried for about 30 s; a holder dead for 20 s is stale). */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  if (!fs.existsSync(file)) fs.writeFileSync(file, "[]", { mode: 0o600, flag: "a" });
  let unlock: () => Promise<void>;
  try {
    unlock = await lockfile.lock(file, { stale: 20_000, retries: { retries: 60, minTimeout: 100, maxTimeout: 500 } });
  } catch (e) {
    throw new Error(`cannot lock ${file} to choose a network subnet (another process holds it): ${(e as Error).message}`);
  }
  try {
    return await fn();
  } finally {
    await unlock().catch(() => undefined);
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
      // Best effort without the lock would race; a short synchronous rewrite under it is enough.
      try {
        const release = lockfile.lockSync(file, { stale: 20_000 });
        try {
          writeLeases(file, readLeases(file).filter((l) => !(l.cidr === cidr && l.uri === o.uri && l.pid === process.pid)));
        } finally {
          release();
        }
      } catch {
        // Locked right now: the lease lapses with this process anyway.
      }
    },
  };
}
