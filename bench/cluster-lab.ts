/**
 * What the cluster benchmarks (day2, upgrade) share: the package built as the tests build it, a
 * 1 server + 2 agent stand-in cluster (test/harness/day2-cluster.ts) in a private lab removed
 * afterwards, a wall-clock timer, and the baseline every figure is measured against: one node
 * rebooted by hand.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { Day2Cluster } from "../test/harness/day2-cluster";
import { openStandInLab, type OpenStandInLab } from "../test/harness/standin-lab";

/** The provider host loads the package from dist/: bring it up to date as the tests do. */
export function buildPackage(): void {
  const root = path.resolve(__dirname, "..");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "pipe" });
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await fn();
  return { ms: Date.now() - started, value };
}

/** Runs `fn` in a fresh stand-in lab (the tests' own, test/harness/standin-lab.ts), removed afterwards. */
export async function withStandInLab<T>(prefix: string, fn: (lab: OpenStandInLab) => Promise<T>): Promise<T> {
  buildPackage();
  const lab = await openStandInLab(`${prefix}${process.pid}`, `kairos-bench-${prefix}-`);
  try {
    return await fn(lab);
  } finally {
    await lab.close().catch(() => undefined);
  }
}

/** Runs `fn` with a fresh (not yet created) 1+2 stand-in cluster; everything is removed afterwards. */
export function withStandInCluster<T>(prefix: string, fn: (c: Day2Cluster) => Promise<T>): Promise<T> {
  return withStandInLab(prefix, async (lab) => {
    const c = new Day2Cluster({ id: lab.id, pool: lab.pool, guestDisk: lab.guestDisk, scratch: lab.scratch });
    try {
      return await fn(c);
    } finally {
      await c.destroy().catch(() => undefined);
    }
  });
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
