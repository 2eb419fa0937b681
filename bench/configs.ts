/**
 * Config generation at fleet size: planRoles + buildNodeConfigs (merge, render, validate every
 * node) for 100 and 1000 nodes. Targets: 1000 nodes in under 1 s, and growth close to linear
 * (1000/100 ratio at most 15, ideal 10).
 */
import { buildNodeConfigs } from "../kairos/cluster-config";
import { encodeNetworkToken } from "../kairos/edgevpn/token";
import { ClusterSpec, fillEndpoint, planRoles } from "../kairos/roles/plan";
import { Bench, BenchResult, BenchRow, medianMs } from "./registry";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchFakeKeyBenchFakeKeyBenchFakeKeyBench0 bench";
const fake = (s: string) => (s + "0".repeat(43)).slice(0, 43);
const NETWORK_TOKEN = encodeNetworkToken({
  otp: { dht: { interval: "max", key: fake("BenchDht"), length: 43 }, crypto: { interval: "max", key: fake("BenchCrypto"), length: 43 } },
  room: fake("BenchRoom"), rendezvous: fake("BenchRdv"), mdns: fake("BenchMdns"), max_message_size: 20971520,
});

const SIZES = [100, 1000];
const RUNS = 7;
const LIMIT_1000_MS = 1000;
const MAX_GROWTH = 15;

/** Explicit HA (3 servers with VIP and kube-vip manifests, rest agents): the heavier mode. */
function explicitSpec(nodes: number): ClusterSpec {
  return { cluster: "bench", servers: 3, agents: nodes - 3, mode: "explicit", vip: "10.0.0.100", k3sToken: "K10benchtoken" };
}
function p2pSpec(nodes: number): ClusterSpec {
  return { cluster: "bench", servers: 3, agents: nodes - 3, mode: "p2p", networkToken: NETWORK_TOKEN };
}

function generate(spec: ClusterSpec): number {
  const plan = fillEndpoint(planRoles(spec), "10.0.0.11");
  return buildNodeConfigs({ plan, sshAuthorizedKeys: [KEY], bootMode: "iso" }).length;
}

export const configsBench: Bench = {
  name: "configs",
  description: "plan + render + validate node cloud-configs (explicit HA with VIP, and p2p)",
  run(): BenchResult {
    const rows: BenchRow[] = [];
    const verdicts: BenchResult["verdicts"] = [];
    for (const [mode, specFor] of [["explicit", explicitSpec], ["p2p", p2pSpec]] as const) {
      const times: number[] = [];
      // Warm up on the largest size first so the small size is not timed while the JIT is still cold.
      generate(specFor(SIZES[SIZES.length - 1]));
      for (const n of SIZES) {
        if (generate(specFor(n)) !== n) throw new Error(`configs bench: expected ${n} configs in mode ${mode}`);
        const ms = medianMs(() => generate(specFor(n)), RUNS);
        times.push(ms);
        rows.push({ case: `${mode}, ${n} nodes`, medianMs: ms, "per node (ms)": (ms / n).toFixed(3) });
      }
      const growth = times[1] / times[0];
      rows[rows.length - 1]["growth x100->x1000"] = growth.toFixed(1);
      verdicts.push({ ok: times[1] < LIMIT_1000_MS, text: `${mode}: 1000 nodes in ${times[1].toFixed(0)} ms (target < ${LIMIT_1000_MS} ms)` });
      verdicts.push({ ok: growth <= MAX_GROWTH, text: `${mode}: growth 100 -> 1000 nodes ${growth.toFixed(1)}x (target ~10x, at most ${MAX_GROWTH}x)` });
    }
    return { rows, verdicts };
  },
};
