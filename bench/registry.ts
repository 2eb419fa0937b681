/**
 * Benchmark registry. A benchmark is a module under bench/ that exports a `Bench`; add it to
 * BENCHES in ./run.ts. Each returns rows for one table plus an optional verdict against its target.
 */
export interface BenchRow {
  /** What was measured, e.g. "100 nodes". */
  case: string;
  /** Median wall time, milliseconds. */
  medianMs: number;
  /** Extra columns (already formatted). */
  [column: string]: string | number;
}

export interface BenchResult {
  rows: BenchRow[];
  /** One line per target, e.g. "1000 nodes < 1000 ms: 212 ms ok". */
  verdicts: Array<{ ok: boolean; text: string }>;
  /** Context printed under the table (e.g. host load during the run), one line each. */
  notes?: string[];
}

export interface Bench {
  /** Short name used on the command line: `npm run bench -- <name>`. */
  name: string;
  description: string;
  /** Synchronous for pure benches; benches over real services (libvirt) return a promise. */
  run(): BenchResult | Promise<BenchResult>;
}

/** Median wall time of `runs` calls of `fn` after one warm-up call, in milliseconds. */
export function medianMs(fn: () => void, runs: number): number {
  fn(); // warm-up: JIT and module caches
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}
