/**
 * What the cluster benchmarks (day2, upgrade) share: the package built as the tests build it, a
 * 1 server + 2 agent stand-in cluster (test/harness/day2-cluster.ts) in a private lab removed
 * afterwards, a wall-clock timer, and the baseline every figure is measured against: one node
 * rebooted by hand.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Day2Cluster } from "../test/harness/day2-cluster";
import { buildStandInGuest } from "../test/fixtures/standin-guest/build";
import { LOCAL, createTestPool, ensureLibvirtd } from "../test/providers/libvirt/env";

/** The provider host loads the package from dist/: bring it up to date as the tests do. */
function buildPackage(): void {
  const root = path.resolve(__dirname, "..");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "pipe" });
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await fn();
  return { ms: Date.now() - started, value };
}

/** Runs `fn` with a fresh (not yet created) 1+2 stand-in cluster; everything is removed afterwards. */
export async function withStandInCluster<T>(prefix: string, fn: (c: Day2Cluster) => Promise<T>): Promise<T> {
  buildPackage();
  await ensureLibvirtd();
  const id = `${prefix}${process.pid}`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `kairos-bench-${prefix}-`));
  fs.chmodSync(scratch, 0o700);
  const pool = await createTestPool(LOCAL, `${id}-pool`);
  const c = new Day2Cluster({ id, pool: pool.name, guestDisk: (await buildStandInGuest()).diskImage, scratch });
  try {
    return await fn(c);
  } finally {
    await c.destroy().catch(() => undefined);
    await pool.remove().catch(() => undefined);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Node `i` rebooted by hand: `sudo reboot` over SSH until a new boot id answers and the server lists it Ready. */
export async function rebootByHand(c: Day2Cluster, i: number): Promise<void> {
  const address = `${c.prefix}${10 + i}`;
  const before = await c.bootId(address);
  await c.ssh(address, "sudo reboot").catch(() => undefined);
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${c.names[i]} did not come back within 600 s`);
    const now = await c.bootId(address).catch(() => before);
    if (now !== before) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await c.untilListed(c.names[i], "Ready", 300_000);
}
