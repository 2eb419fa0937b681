/**
 * day2 (issue 9): a running 1 server + 2 agent cluster of stand-in guests (test fixtures, NOT
 * Kairos; domain type `qemu`), changed through KairosCluster with the engine's semantics over saved
 * state (test/harness/day2-cluster.ts), each figure against one node's boot measured in the same run:
 *
 * - baseline: one agent rebooted by hand (`sudo reboot` over SSH until a new boot id answers SSH and
 *   the server lists it Ready): what any config change needs at least;
 * - one agent's config changed (`nodeExtraConfig`): the whole `up`; target ≤ 2× the baseline;
 * - memory changed (every node power-cycled, one at a time): the whole `up` per node restarted;
 *   target ≤ 2× the baseline;
 * - a no-op `up`: target zero changes.
 */
import { rebootByHand, timed, withStandInCluster } from "./cluster-lab";
import { Bench, BenchResult } from "./registry";

const TARGET = 2;

async function measure(): Promise<BenchResult> {
  return withStandInCluster("kd", async (c): Promise<BenchResult> => {
    const created = await timed(() => c.up());
    const [, , agentName] = c.names;
    // Baseline: one node's reboot, by hand.
    const baseline = await timed(() => rebootByHand(c, 2));

    const oneAgent = await timed(() => c.up({ nodeExtraConfig: { [agentName]: { runcmd: ["echo bench"] } } }));
    const knobs = { nodeExtraConfig: { [agentName]: { runcmd: ["echo bench"] } } };
    const memory = await timed(() => c.up({ ...knobs, memoryMiB: 320, parallel: true }));
    const restarted = memory.value.steps.filter((s) => s.type.endsWith(":NodeConfig") && s.op === "update").length;
    const noop = await timed(() => c.up({ ...knobs, memoryMiB: 320 }));
    const noopChanges = noop.value.steps.filter((s) => s.op !== "same");

    const ratio = (ms: number) => ms / baseline.ms;
    const perNode = memory.ms / Math.max(1, restarted);
    return {
      rows: [
        { case: "create 1+2 (reference)", medianMs: created.ms, "x baseline": ratio(created.ms).toFixed(2) },
        { case: "baseline: one agent rebooted by hand", medianMs: baseline.ms, "x baseline": "1.00" },
        { case: "one agent's config changed (up)", medianMs: oneAgent.ms, "x baseline": ratio(oneAgent.ms).toFixed(2) },
        { case: `memory changed (up, ${restarted} nodes rolled)`, medianMs: memory.ms, "x baseline": ratio(memory.ms).toFixed(2) },
        { case: "  per node restarted", medianMs: perNode, "x baseline": ratio(perNode).toFixed(2) },
        { case: "no-op up", medianMs: noop.ms, "x baseline": ratio(noop.ms).toFixed(2), changes: String(noopChanges.length) },
      ],
      notes: [
        "One run each (a boot of a software-emulated guest dominates; medians of repeats would only repeat it).",
        "The memory change restarts every node one at a time (servers first), so its figure is per node restarted.",
      ],
      verdicts: [
        { ok: ratio(oneAgent.ms) <= TARGET, text: `one agent's config change: ${ratio(oneAgent.ms).toFixed(2)}x one node's reboot (target <= ${TARGET}x)` },
        { ok: restarted === 3 && ratio(perNode) <= TARGET, text: `memory change: ${ratio(perNode).toFixed(2)}x one node's reboot per node restarted, ${restarted} restarted (target <= ${TARGET}x, 3 nodes)` },
        { ok: noopChanges.length === 0, text: `no-op up: ${noopChanges.length} changes${noopChanges.length ? ` (${noopChanges.map((s) => `${s.op} ${s.name}`).join(", ")})` : ""} (target 0)` },
      ],
    };
  });
}

export const day2Bench: Bench = {
  name: "day2",
  description: "changes to a running 1+2 stand-in cluster vs one node's reboot, and a no-op up",
  run: measure,
};
