/**
 * ephemeral (issue 11): a 1 server + 1 agent cluster of stand-in guests (test fixtures, NOT Kairos;
 * domain type `qemu`) created to Ready and destroyed to gone, through `createEphemeralCluster` and
 * through the KairosCluster component directly, in the same run over the same L3+ engine. What the
 * helper adds (reaping the host, choosing a subnet under a lock, the handle, its files) is the
 * difference. Two rounds, alternating, medians. Target: at most 1.2x for both figures.
 */
import * as path from "path";
import { KairosCluster } from "../components/kairos-cluster";
import { createEphemeralCluster } from "../testing/ephemeral";
import { run } from "../providers/exec";
import { runProgramWithDynamicProviders } from "../test/harness/dynamic-provider-host";
import { HarnessEngine } from "../test/harness/ephemeral-engine";
import type { OpenStandInLab } from "../test/harness/standin-lab";
import { LOCAL } from "../test/providers/libvirt/env";
import { median } from "./libvirt";
import { timed, withStandInLab } from "./cluster-lab";
import { Bench, BenchResult } from "./registry";

const TARGET = 1.2;
const ROUNDS = 2;

/** Names of this run's domains, networks and volumes still on the host. */
async function leftovers(prefix: string, pool: string): Promise<string[]> {
  const names = async (args: string[]) => (await run(["virsh", "-q", "-c", LOCAL.uri, ...args], { allowFailure: true })).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  return [
    ...(await names(["list", "--all", "--name"])), ...(await names(["net-list", "--all", "--name"])), ...(await names(["vol-list", "--pool", pool])),
  ].filter((n) => n.includes(prefix));
}

async function measure(): Promise<BenchResult> {
  return withStandInLab("ke", (lab) => measureIn(lab));
}

async function measureIn(lab: OpenStandInLab): Promise<BenchResult> {
  const hostOpts = { env: { HOME: lab.scratch, TMPDIR: lab.scratch }, callTimeoutMs: 600_000, settleMs: 3000, timeoutMs: 900_000 };
  const common = {
    image: { kind: "disk" as const, path: lab.guestDisk },
    servers: 1,
    agents: 1,
    timeouts: { addressSeconds: 240, sshSeconds: 240, readySeconds: 240 },
  };
  const target = { kind: "libvirt" as const, uri: LOCAL.uri, pool: lab.pool, vcpus: 1, memoryMiB: 256, diskGiB: 1, domainType: "qemu" as const };
  const figures = { direct: { create: [] as number[], destroy: [] as number[] }, helper: { create: [] as number[], destroy: [] as number[] } };
  const problems: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // The component directly, as a user's own program would: a network with a cidr of its choosing.
    const direct = `${lab.id}-d${round}`;
    const created = await timed(() => runProgramWithDynamicProviders(() => {
      new KairosCluster(direct, { ...common, clusterName: direct, target: { ...target, network: { kind: "create", mode: "isolated", cidr: `10.214.${10 + round}.0/24` } } });
    }, hostOpts));
    figures.direct.create.push(created.ms);
    figures.direct.destroy.push((await timed(() => created.value.destroy())).ms);
    if ((await leftovers(direct, lab.pool)).length) problems.push(`${direct} left objects behind`);

    const eph = `${lab.id}-e${round}`;
    const cluster = await timed(() => createEphemeralCluster({
      ...common, name: eph, target, network: { mode: "isolated", cidrPool: "10.214.64.0/18", lockDir: path.join(lab.scratch, "locks") }, engine: new HarnessEngine({ scratch: lab.scratch }),
    }));
    figures.helper.create.push(cluster.ms);
    if (cluster.value.nodes.length !== 2) problems.push(`${eph} has ${cluster.value.nodes.length} nodes`);
    figures.helper.destroy.push((await timed(() => cluster.value.destroy())).ms);
    if ((await leftovers(eph, lab.pool)).length) problems.push(`${eph} left objects behind`);
  }
  const m = (xs: number[]) => median(xs);
  const createRatio = m(figures.helper.create) / m(figures.direct.create);
  const destroyRatio = m(figures.helper.destroy) / m(figures.direct.destroy);
  return {
    rows: [
      { case: "component directly: create -> Ready (baseline)", medianMs: m(figures.direct.create), runs: String(ROUNDS), "x baseline": "1.00" },
      { case: "createEphemeralCluster: create -> Ready", medianMs: m(figures.helper.create), runs: String(ROUNDS), "x baseline": createRatio.toFixed(2) },
      { case: "component directly: destroy -> gone (baseline)", medianMs: m(figures.direct.destroy), runs: String(ROUNDS), "x baseline": "1.00" },
      { case: "createEphemeralCluster: destroy -> gone", medianMs: m(figures.helper.destroy), runs: String(ROUNDS), "x baseline": destroyRatio.toFixed(2) },
    ],
    notes: [
      `every run: create ${figures.direct.create.map((x) => (x / 1000).toFixed(1)).join(", ")} s direct, ${figures.helper.create.map((x) => (x / 1000).toFixed(1)).join(", ")} s helper; destroy ${figures.direct.destroy.map((x) => (x / 1000).toFixed(1)).join(", ")} s direct, ${figures.helper.destroy.map((x) => (x / 1000).toFixed(1)).join(", ")} s helper`,
      ...problems,
    ],
    verdicts: [
      { ok: problems.length === 0 && createRatio <= TARGET, text: `create -> Ready: ${createRatio.toFixed(2)}x the component directly (target <= ${TARGET}x)` },
      { ok: problems.length === 0 && destroyRatio <= TARGET, text: `destroy -> gone: ${destroyRatio.toFixed(2)}x the component directly (target <= ${TARGET}x)` },
    ],
  };
}

export const ephemeralBench: Bench = {
  name: "ephemeral",
  description: "a 1+1 stand-in cluster created and destroyed through createEphemeralCluster vs the KairosCluster component directly",
  run: measure,
};
