/**
 * Durations as people type them on a command line (`--older-than 2h`, `--ttl 90m`): a whole number
 * followed by one unit.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "45s", "90m", "2h", "1d" → seconds. Throws naming the value and the accepted forms otherwise. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+)\s*([smhd])\s*$/.exec(String(value));
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]] : NaN;
  if (!m || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new Error(`duration ${JSON.stringify(value)} is not valid; expected a whole number greater than 0 followed by s, m, h or d (e.g. "45s", "90m", "2h", "1d")`);
  }
  return seconds;
}
