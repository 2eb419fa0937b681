/**
 * TEMPORARY, until testing/reap.ts and testing/duration.ts are merged (a colleague is writing
 * them): stand-ins with their signatures so the CLI builds and runs now. When merging, import
 * `reap` and `parseDuration` from those modules in cli/deps.ts and delete this file.
 */
import type { ReapOptions } from "./commands";
import type { ReapReport } from "./format";

/** Seconds in `90s`, `30m`, `2h`, `1d` or a sum such as `1h30m`; throws on anything else. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
  if (!/^(\d+[smhd])+$/.test(s)) throw new Error(`${JSON.stringify(s)} is not a duration; expected e.g. 90s, 30m, 2h, 1d or 1h30m`);
  return [...s.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, u]) => sum + Number(n) * units[u], 0);
}

export async function reap(_options: ReapOptions): Promise<ReapReport> {
  throw new Error("reap is not in this build yet (testing/reap.ts is being merged)");
}
