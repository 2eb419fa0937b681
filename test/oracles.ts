/**
 * Outside oracles: files in `../shared` beside the repository (the published Kairos config schema,
 * kairos-operator CRDs, a token printed in the Kairos docs). They are references, never copied into
 * the repository, and a clone from a forge does not have them. So a suite that reads one runs when
 * it is there and is reported as skipped, with the reason, when it is not, unless
 * `KAIROS_REQUIRE_ORACLES=1` (set by `.ci/run`), which turns a missing oracle into a failure.
 * `KAIROS_SHARED_DIR` points elsewhere than `../shared`.
 */
import * as fs from "fs";
import * as path from "path";

export const SHARED_DIR = process.env.KAIROS_SHARED_DIR ?? path.resolve(__dirname, "..", "..", "shared");
const REQUIRED = process.env.KAIROS_REQUIRE_ORACLES === "1";

/** Absolute path of an oracle file in ../shared. */
export function oraclePath(relative: string): string {
  return path.join(SHARED_DIR, relative);
}

function missing(files: readonly string[]): string[] {
  return files.filter((f) => !fs.existsSync(oraclePath(f)));
}

function reason(absent: string[]): string {
  return `outside oracle ${absent.map((f) => `../shared/${f}`).join(", ")} absent`;
}

/**
 * `describe` for a suite that needs oracle files: runs when they exist; when they don't, is skipped
 * with the reason in its name, or (KAIROS_REQUIRE_ORACLES=1) fails naming the missing file.
 */
export function describeWithOracle(name: string, files: readonly string[], body: () => void): void {
  const absent = missing(files);
  if (absent.length === 0) describe(name, body);
  else if (REQUIRED) describe(name, () => test("has its outside oracle", () => { throw new Error(`${reason(absent)} (${SHARED_DIR}); KAIROS_REQUIRE_ORACLES=1 makes this a failure`); }));
  else describe.skip(`${name} [skipped: ${reason(absent)}]`, body);
}

/** `test` for one case that needs oracle files; same rules as {@link describeWithOracle}. */
export function testWithOracle(name: string, files: readonly string[], fn: jest.ProvidesCallback, timeoutMs?: number): void {
  const absent = missing(files);
  if (absent.length === 0) test(name, fn, timeoutMs);
  else if (REQUIRED) test(name, () => { throw new Error(`${reason(absent)} (${SHARED_DIR}); KAIROS_REQUIRE_ORACLES=1 makes this a failure`); });
  else test.skip(`${name} [skipped: ${reason(absent)}]`, fn);
}
