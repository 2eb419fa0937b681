/**
 * Plan cost: registering one KairosCluster of N nodes under Pulumi's mocks (every resource mocked,
 * so what is measured is the program: rendering, the component graph and the SDK's registration of
 * it, closure serialization of the providers included), against a baseline measured in the same run:
 * the same graph of plain CustomResources (same names, properties and dependencies; the serialized
 * provider as a plain string property), i.e. what Pulumi itself costs for a graph of this shape.
 * Each case runs in a fresh process (bench/plan-worker.js) from the built package, median of
 * RUNS. Target (issue: the package as users get it): time and memory within 2x of the baseline, for
 * 100 and 1000 nodes. A minimal graph (3 resources per node, 2 to 4 properties) is shown for reference.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Bench, BenchResult, BenchRow } from "./registry";

const ROOT = path.resolve(__dirname, "..");
const WORKER = path.join(__dirname, "plan-worker.js");
const SIZES = [100, 1000];
const RUNS = 3;
const TARGET = 2;

interface Sample { ms: number; maxRssMiB: number; resources: number }

function worker(args: string[]): Sample {
  const out = execFileSync(process.execPath, [WORKER, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: 900_000 });
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(args: () => string[]): Sample {
  const samples = Array.from({ length: RUNS }, () => worker(args()));
  return { ms: median(samples.map((s) => s.ms)), maxRssMiB: median(samples.map((s) => s.maxRssMiB)), resources: samples[0].resources };
}

export const planBench: Bench = {
  name: "plan",
  description: "register one KairosCluster of N nodes under mocks vs the same graph of plain CustomResources",
  run(): BenchResult {
    if (!fs.existsSync(path.join(ROOT, "dist", "lib.js"))) execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-bench-plan-"));
    const rows: BenchRow[] = [];
    const verdicts: BenchResult["verdicts"] = [];
    try {
      for (const n of SIZES) {
        const record = path.join(dir, `graph-${n}.json`);
        // Interleaved per run so load on the machine touches both sides alike.
        const kairos: Sample[] = [];
        const plain: Sample[] = [];
        for (let r = 0; r < RUNS; r++) {
          kairos.push(worker(["kairos", String(n), record]));
          plain.push(worker(["plain", record]));
        }
        const k = { ms: median(kairos.map((s) => s.ms)), mem: median(kairos.map((s) => s.maxRssMiB)) };
        const p = { ms: median(plain.map((s) => s.ms)), mem: median(plain.map((s) => s.maxRssMiB)) };
        const minimal = measure(() => ["minimal", String(n)]);
        const t = k.ms / p.ms;
        const m = k.mem / p.mem;
        rows.push({ case: `KairosCluster, ${n} nodes`, medianMs: k.ms, "maxRSS (MiB)": k.mem.toFixed(0), resources: String(kairos[0].resources), "time x": t.toFixed(2), "memory x": m.toFixed(2) });
        rows.push({ case: `same graph, plain, ${n} nodes`, medianMs: p.ms, "maxRSS (MiB)": p.mem.toFixed(0), resources: String(plain[0].resources) });
        rows.push({ case: `minimal shape, ${n} nodes`, medianMs: minimal.ms, "maxRSS (MiB)": minimal.maxRssMiB.toFixed(0), resources: String(minimal.resources) });
        verdicts.push({ ok: t <= TARGET, text: `${n} nodes: time ${t.toFixed(2)}x the plain graph (${k.ms.toFixed(0)} vs ${p.ms.toFixed(0)} ms; target <= ${TARGET}x)` });
        verdicts.push({ ok: m <= TARGET, text: `${n} nodes: memory ${m.toFixed(2)}x the plain graph (${k.mem.toFixed(0)} vs ${p.mem.toFixed(0)} MiB; target <= ${TARGET}x)` });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const load = os.loadavg()[0];
    return { rows, verdicts, notes: [`median of ${RUNS} fresh processes per case; 1-minute load average at the end: ${load.toFixed(2)} on ${os.cpus().length} CPUs`] };
  },
};
