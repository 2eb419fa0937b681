/**
 * Durations as people type them on a command line (`--older-than 2h`, `--ttl 90m`): a whole number
 * followed by a unit, or a sum of those.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "45s", "90m", "2h", "1d", or a sum such as "1h30m" → seconds. Throws naming the value and the accepted forms otherwise. */
export function parseDuration(value: string): number {
  const text = String(value).trim();
  const ok = /^(\d+[smhd])+$/.test(text);
  const seconds = ok ? [...text.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, u]) => sum + Number(n) * UNIT_SECONDS[u], 0) : NaN;
  if (!ok || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new Error(`duration ${JSON.stringify(value)} is not valid; expected a whole number greater than 0 followed by s, m, h or d, or a sum of them (e.g. "45s", "90m", "2h", "1d", "1h30m")`);
  }
  return seconds;
}
