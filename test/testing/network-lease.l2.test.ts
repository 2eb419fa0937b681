/**
 * L2: choosing a network subnet for ephemeral clusters against the real libvirtd, with real
 * parallel processes. Several workers lease at once and get different subnets; a libvirt network
 * already in the pool is skipped; a lease of a process that is gone counts no more; a released
 * lease is free again; an exhausted pool is a one-line error naming it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { leaseNetwork } from "../../testing/network-lease";
import { createNetwork, deleteNetwork } from "../../providers/libvirt/networks";
import { privateTempDir } from "../harness/dynamic-provider-host";
import { LOCAL, ensureLibvirtd, runId } from "../providers/libvirt/env";

const id = runId();
const scratch = privateTempDir("kairos-lease-");
// A pool of this run's own (a /22 = four /24s), so runs and other suites never meet.
const octet = 64 + (parseInt(id.replace(/\D/g, "").slice(-4) || "0", 10) % 47) * 4;
const pool = `10.251.${octet}.0/22`;
const sub = (i: number) => `10.251.${octet + i}.0/24`;
const workers: ChildProcessWithoutNullStreams[] = [];
const networks: string[] = [];

beforeAll(async () => {
  await ensureLibvirtd();
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  for (const n of networks) await deleteNetwork(LOCAL, n).catch(() => undefined);
  scratch.remove();
}, 120_000);

/** Starts a worker process and resolves with the subnet it leased (or rejects with its error line). */
function startWorker(lockDir: string, owner: string): Promise<{ cidr: string; proc: ChildProcessWithoutNullStreams }> {
  const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "../fixtures/network-lease/worker.ts"), LOCAL.uri, pool, lockDir, owner], {
    cwd: path.join(__dirname, "../.."), stdio: "pipe",
  });
  workers.push(proc);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`worker ${owner} printed nothing in 60 s: ${err}`)), 60_000);
    proc.stdout.on("data", (b) => {
      out += b;
      if (out.includes("\n")) { clearTimeout(timer); resolve({ cidr: out.trim(), proc }); }
    });
    proc.stderr.on("data", (b) => { err += b; });
    proc.on("close", (code) => { clearTimeout(timer); if (!out.includes("\n")) reject(new Error(`worker ${owner} exited ${code}: ${err.trim()}`)); });
  });
}

const stop = (p: ChildProcessWithoutNullStreams) => new Promise<void>((r) => { p.on("exit", () => r()); p.stdin.end(); });

test("parallel workers get different subnets; a libvirt network already in the pool is skipped", async () => {
  const lockDir = path.join(scratch.dir, "a");
  const taken = `${id}-lease-net`;
  await createNetwork(LOCAL, { name: taken, mode: "isolated", cidr: sub(0), hosts: [], owner: { stack: id, cluster: "lease" } });
  networks.push(taken);
  const got = await Promise.all([1, 2, 3].map((i) => startWorker(lockDir, `w${i}`)));
  expect(got.map((g) => g.cidr).sort()).toEqual([sub(1), sub(2), sub(3)]);
  // The pool is full now: the next one gets one line naming the pool.
  await expect(leaseNetwork({ uri: LOCAL.uri, cidrPool: pool, lockDir, owner: "w4" })).rejects.toThrow(`network.cidrPool: no free /24 left in ${pool} on ${LOCAL.uri}`);
  // A released lease is free again; so is the lease of a worker killed without releasing.
  await stop(got[0].proc);
  const dead = got[1].proc;
  await new Promise<void>((r) => { dead.on("exit", () => r()); dead.kill("SIGKILL"); });
  const again = await Promise.all([leaseNetwork({ uri: LOCAL.uri, cidrPool: pool, lockDir, owner: "w5" }), leaseNetwork({ uri: LOCAL.uri, cidrPool: pool, lockDir, owner: "w6" })]);
  expect(again.map((l) => l.cidr).sort()).toEqual([got[0].cidr, got[1].cidr].sort());
  for (const l of again) l.release();
  await stop(got[2].proc);
  const leases = JSON.parse(fs.readFileSync(path.join(lockDir, "network-leases.json"), "utf8"));
  expect(leases).toEqual([]);
  expect(fs.statSync(lockDir).mode & 0o777).toBe(0o700);
}, 180_000);

test("a malformed pool is refused before anything is locked", async () => {
  await expect(leaseNetwork({ uri: LOCAL.uri, cidrPool: "10.251.0.0/25", owner: "x", lockDir: path.join(scratch.dir, "b") }))
    .rejects.toThrow('network.cidrPool: "10.251.0.0/25" cannot hold /24 networks; expected a prefix from /8 to /24');
});

test("a lock left by a process that is gone is taken over at once", async () => {
  const lockDir = path.join(scratch.dir, "c");
  fs.mkdirSync(path.join(lockDir, "network-leases.json.lock"), { recursive: true });
  const dead = spawn(process.execPath, ["-e", "0"]);
  await new Promise((r) => dead.on("exit", r));
  fs.writeFileSync(path.join(lockDir, "network-leases.json.lock", "holder"), JSON.stringify({ pid: dead.pid, at: Date.now() }));
  const started = Date.now();
  const lease = await leaseNetwork({ uri: LOCAL.uri, cidrPool: pool, lockDir, owner: "after-crash" });
  expect(Date.now() - started).toBeLessThan(5000);
  expect(lease.cidr).toMatch(/^10\.251\./);
  lease.release();
  expect(fs.existsSync(path.join(lockDir, "network-leases.json.lock"))).toBe(false);
}, 60_000);
