/**
 * upgrade (issue 10): a rolling OS upgrade (`osImage` changed) of a running 1 server + 2 agent
 * cluster of stand-in guests (test fixtures, NOT Kairos; domain type `qemu`), against its three
 * nodes rebooted by hand one after the other in the same run: what the rollout needs at least.
 * Target: at most 1.5x (the rollout adds little beyond the reboots it needs).
 */
import { rebootByHand, timed, withStandInCluster } from "./cluster-lab";
import { Bench, BenchResult } from "./registry";

const TARGET = 1.5;
const FROM = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";
const TO = "quay.io/kairos/hadron:v0.5.2-standard-amd64-generic-v4.3.0-k3s-v1.37.1-k3s1";

async function measure(): Promise<BenchResult> {
  return withStandInCluster("ku", async (c): Promise<BenchResult> => {
    await c.up({ osImage: FROM });
    const baseline = await timed(async () => {
      for (let i = 0; i < c.names.length; i++) await rebootByHand(c, i);
    });
    const upgrade = await timed(() => c.up({ osImage: TO }));
    const upgraded = upgrade.value.steps.filter((s) => s.type.endsWith(":NodeConfig") && s.op === "update").length;
    const running = c.names.map((n) => c.consoleOf(n).os?.image);
    const ratio = upgrade.ms / baseline.ms;
    return {
      rows: [
        { case: "baseline: 3 nodes rebooted by hand, one after the other", medianMs: baseline.ms, "x baseline": "1.00" },
        { case: `rolling upgrade (up, ${upgraded} nodes)`, medianMs: upgrade.ms, "x baseline": ratio.toFixed(2) },
      ],
      notes: ["One run each: the boots of software-emulated guests dominate."],
      verdicts: [
        { ok: upgraded === 3 && running.every((i) => i === TO) && ratio <= TARGET, text: `rolling upgrade: ${ratio.toFixed(2)}x three sequential reboots, ${upgraded} nodes upgraded, ${running.filter((i) => i === TO).length} running the new image (target <= ${TARGET}x)` },
      ],
    };
  });
}

export const upgradeBench: Bench = {
  name: "upgrade",
  description: "a rolling OS upgrade of a 1+2 stand-in cluster vs its three nodes rebooted by hand",
  run: measure,
};
