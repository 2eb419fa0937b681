/**
 * L3+: ephemeral clusters as parallel test workers make them, on STAND-IN GUESTS (test fixtures, not
 * Kairos), each worker a separate process running pulumi-kairos/testing over the L3+ engine
 * (test/fixtures/ephemeral-worker). Two workers create at once on one host: different networks from
 * the pool, both Ready. One leaves its cluster behind (detach, as after a kill -9) with a short ttl:
 * `reap --dry-run` lists its objects and removes nothing; `reap` removes exactly them and leaves the
 * live cluster alone. A worker killed with SIGTERM while creating destroys what it made.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { reap } from "pulumi-kairos/testing";
import { run } from "../../providers/exec";
import { useStandInLab } from "../harness/standin-lab";
import { LOCAL } from "../providers/libvirt/env";

const workers: ChildProcessWithoutNullStreams[] = [];
const lab = useStandInLab("kairos-eph-par-", {
  beforeRemove: async () => {
    for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
    // Whatever a failed test left: the reaper with everything of this run counted as due.
    await reap({ uri: LOCAL.uri, olderThanSeconds: 0, filter: (c) => c.cluster.startsWith(lab.id) });
  },
});
const id = lab.id;
const lockDir = path.join(lab.scratch, "locks");
// This run's own pool (four /24s), away from the other suites' subnets.
const octet = 64 + (parseInt(id.replace(/\D/g, "").slice(-4) || "0", 10) % 47) * 4;
const cidrPool = `10.252.${octet}.0/22`;

interface Ready { name: string; nodes: Array<{ name: string; address: string }>; expiresAt: string; kubectl: string }

/** A worker process creating cluster `name`; `ready` resolves with its first stdout line. */
function startWorker(name: string, more: Record<string, unknown> = {}) {
  const options = { name, guestDisk: lab.guestDisk, uri: LOCAL.uri, pool: lab.pool, cidrPool, lockDir, scratch: lab.scratch, ...more };
  const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "../fixtures/ephemeral-worker/worker.ts"), JSON.stringify(options)], {
    cwd: path.join(__dirname, "../.."), stdio: "pipe", env: { ...process.env, HOME: lab.scratch },
  });
  workers.push(proc);
  let stderr = "";
  proc.stderr.on("data", (b) => { stderr += b; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on("close", (code, signal) => r({ code, signal }))); // close, not exit: stderr is read to its end
  const ready = new Promise<Ready>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (b) => {
      out += b;
      if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))) as Ready);
    });
    void exited.then((e) => reject(new Error(`worker ${name} exited (${e.code ?? e.signal}) before Ready:\n${stderr.slice(-3000)}`)));
  });
  return { proc, ready, exited, stderr: () => stderr };
}

/** The libvirt objects of cluster `name` on the host (domains, networks) and the test pool's volumes holding its name. */
async function objectsOf(name: string): Promise<string[]> {
  const names = async (args: string[]) => (await run(["virsh", "-q", "-c", LOCAL.uri, ...args], { allowFailure: true })).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  return [
    ...(await names(["list", "--all", "--name"])).filter((n) => n.includes(name)).map((n) => `domain ${n}`),
    ...(await names(["net-list", "--all", "--name"])).filter((n) => n.includes(name)).map((n) => `network ${n}`),
    ...(await names(["vol-list", "--pool", lab.pool])).filter((n) => n.includes(name)).map((n) => `volume ${n}`),
  ].sort();
}

async function networkCidr(name: string): Promise<string> {
  const [net] = (await objectsOf(name)).filter((o) => o.startsWith("network ")).map((o) => o.slice(8));
  const xml = (await run(["virsh", "-c", LOCAL.uri, "net-dumpxml", net])).stdout;
  const m = /<ip address='([0-9.]+)' netmask='255\.255\.255\.0'/.exec(xml) ?? /<ip address='([0-9.]+)' prefix='24'/.exec(xml);
  return `${m![1].replace(/\.1$/, ".0")}/24`;
}

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

test("two workers create at once: different networks from the pool, both Ready; the reaper removes the expired one only (--dry-run removes nothing)", async () => {
  const a = `${id}-a`;
  const b = `${id}-b`;
  const markerA = path.join(lab.scratch, "state-a");
  fs.mkdirSync(markerA);
  const wa = startWorker(a, { ttlSeconds: 45, statePath: markerA, reapExpired: false });
  const wb = startWorker(b, { reapExpired: false });
  const [ra, rb] = await Promise.all([wa.ready, wb.ready]);
  const [cidrA, cidrB] = [await networkCidr(a), await networkCidr(b)];
  expect(cidrA).not.toBe(cidrB);
  for (const c of [cidrA, cidrB]) expect(c).toMatch(new RegExp(`^10\\.252\\.(${octet}|${octet + 1}|${octet + 2}|${octet + 3})\\.0/24$`));
  expect(ra.nodes[0].address).toBe(cidrA.replace(/0\/24$/, "10"));
  expect(rb.nodes[0].address).toBe(cidrB.replace(/0\/24$/, "10"));
  expect(ra.kubectl).toMatch(new RegExp(`^${a}-server-0\\s+Ready\\s`));
  expect(rb.kubectl).toMatch(new RegExp(`^${b}-server-0\\s+Ready\\s`));

  // A leaves its cluster behind, as a worker killed too hard to clean up would.
  wa.proc.stdin.write("detach\n");
  expect((await wa.exited).code).toBe(0);
  const leftA = await objectsOf(a);
  const liveB = await objectsOf(b);
  expect(leftA.filter((o) => o.startsWith("domain "))).toHaveLength(1);
  expect(leftA.filter((o) => o.startsWith("network "))).toHaveLength(1);

  const mine = { uri: LOCAL.uri, filter: (c: { cluster: string }) => c.cluster.startsWith(id) };
  // Before A's expiry nothing is due.
  const early = await reap({ ...mine, dryRun: true });
  expect(early.reaped).toEqual([]);
  await until(`${a} to expire at ${ra.expiresAt}`, async () => Date.now() > Date.parse(ra.expiresAt) + 1000, 120_000);

  const dry = await reap({ ...mine, dryRun: true });
  expect(dry.reaped.map((c) => [c.cluster, c.reason])).toEqual([[a, "expired"]]);
  const listed = dry.reaped[0].objects.map((o) => `${o.kind} ${o.name}`).sort();
  expect(listed).toEqual(leftA);
  expect(await objectsOf(a)).toEqual(leftA); // --dry-run removed nothing
  expect(dry.kept.map((k) => k.cluster)).toContain(b);

  const done = await reap(mine);
  expect(done.reaped.map((c) => [c.cluster, c.reason])).toEqual([[a, "expired"]]);
  expect(await objectsOf(a)).toEqual([]);
  expect(await objectsOf(b)).toEqual(liveB);

  // B is untouched: its own worker destroys it cleanly, from its own state.
  wb.proc.stdin.end();
  const eb = await wb.exited;
  expect([eb.code, wb.stderr()]).toEqual([0, expect.stringContaining(`${b}: destroyed`)]);
  expect(await objectsOf(b)).toEqual([]);
}, 1_200_000);

test("SIGTERM while creating: the worker destroys what it made, then ends by that signal", async () => {
  const c = `${id}-c`;
  const w = startWorker(c);
  void w.ready.catch(() => undefined);
  await until(`${c}'s domain to be defined`, async () => (await objectsOf(c)).some((o) => o.startsWith("domain ")), 300_000);
  w.proc.kill("SIGTERM");
  const e = await w.exited;
  expect([e.signal, e.code, w.stderr()]).toEqual(["SIGTERM", null, expect.stringMatching(new RegExp(`SIGTERM received: destroying ephemeral cluster\\(s\\) ${c}[^]*ephemeral cluster ${c} was interrupted`))]);
  expect(await objectsOf(c)).toEqual([]);
}, 900_000);
