/**
 * Runs the registered benchmarks and prints one table each, the verdicts against their targets and
 * the process's memory high-water mark. `npm run bench` runs all; `npm run bench -- configs` runs
 * the named ones. Exits 1 when a target is missed, 2 on an unknown name.
 * To add one: write bench/<name>.ts exporting a `Bench` (./registry.ts) and list it in BENCHES.
 */
import { configsBench } from "./configs";
import { Bench, BenchRow } from "./registry";

export const BENCHES: readonly Bench[] = [configsBench];

function table(rows: BenchRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (r: BenchRow, c: string) => {
    const v = r[c];
    return v === undefined ? "" : typeof v === "number" ? v.toFixed(1) : v;
  };
  const header = columns.map((c) => (c === "medianMs" ? "median (ms)" : c));
  const widths = columns.map((c, i) => Math.max(header[i].length, ...rows.map((r) => cell(r, c).length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((r) => line(columns.map((c) => cell(r, c))))].join("\n");
}

function main(argv: string[]): number {
  const unknown = argv.filter((a) => !BENCHES.some((b) => b.name === a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; available: ${BENCHES.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = argv.length > 0 ? BENCHES.filter((b) => argv.includes(b.name)) : BENCHES;
  let failed = false;
  for (const bench of selected) {
    console.log(`\n## ${bench.name}: ${bench.description}\n`);
    const result = bench.run();
    console.log(table(result.rows));
    console.log("");
    for (const v of result.verdicts) {
      console.log(`${v.ok ? "ok  " : "MISS"} ${v.text}`);
      failed ||= !v.ok;
    }
  }
  // maxRSS is in kilobytes (getrusage).
  console.log(`\nmemory high-water mark (maxRSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
