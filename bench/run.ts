/**
 * Runs the registered benchmarks and prints one table each, the verdicts against their targets and
 * the process's memory high-water mark. `npm run bench` runs all; `npm run bench -- configs` runs
 * the named ones. Exits 1 when a target is missed or a bench fails, 2 on an unknown name.
 * To add one: write bench/<name>.ts exporting a `Bench` (./registry.ts) and list it in BENCHES.
 */
import { configsBench } from "./configs";
import { planBench } from "./plan";
import { libvirtDiskBench, libvirtReadyBench, libvirtScaleBench } from "./libvirt";
import { day2Bench } from "./day2";
import { upgradeBench } from "./upgrade";
import { ephemeralBench } from "./ephemeral";
import { Bench, BenchRow } from "./registry";

export const BENCHES: readonly Bench[] = [configsBench, planBench, libvirtScaleBench, libvirtDiskBench, libvirtReadyBench, day2Bench, upgradeBench, ephemeralBench];

function table(rows: BenchRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (r: BenchRow, c: string) => {
    const v = r[c];
    // NaN: a figure that could not be measured (the bench says why in its verdicts).
    return v === undefined ? "" : typeof v === "number" ? (Number.isFinite(v) ? v.toFixed(1) : "-") : v;
  };
  const header = columns.map((c) => (c === "medianMs" ? "median (ms)" : c));
  const widths = columns.map((c, i) => Math.max(header[i].length, ...rows.map((r) => cell(r, c).length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((r) => line(columns.map((c) => cell(r, c))))].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !BENCHES.some((b) => b.name === a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; available: ${BENCHES.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = argv.length > 0 ? BENCHES.filter((b) => argv.includes(b.name)) : BENCHES;
  let failed = false;
  for (const bench of selected) {
    console.log(`\n## ${bench.name}: ${bench.description}\n`);
    let result;
    try {
      result = await bench.run();
    } catch (e) {
      // A bench that cannot measure (missing tool, guest that never boots) is a failed target, and
      // the others still run.
      console.log(`FAIL ${bench.name}: ${e instanceof Error ? e.message : String(e)}`);
      failed = true;
      continue;
    }
    console.log(table(result.rows));
    console.log("");
    for (const n of result.notes ?? []) console.log(n);
    if (result.notes?.length) console.log("");
    for (const v of result.verdicts) {
      console.log(`${v.ok ? "ok  " : "MISS"} ${v.text}`);
      failed ||= !v.ok;
    }
  }
  // maxRSS is in kilobytes (getrusage).
  console.log(`\nmemory high-water mark (maxRSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(e instanceof Error ? e.stack ?? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
