/**
 * Progress lines from the providers, and where they appear.
 *
 * The drivers run in Pulumi's dynamic-provider host, which does not connect `pulumi.log` to the
 * engine (@pulumi/pulumi cmd/dynamic-provider: no engine address; `pulumi.log` falls back to the
 * console). The engine itself reads the host process's output and shows each line as an info
 * message under the stack, not under the resource (pulumi/pulumi sdk/go/common/resource/plugin
 * `newPlugin`; CLI 3.146 or later, 3.144-3.145 only with `--debug`). So a progress line is one line
 * on stderr, prefixed `kairos: `, never a secret.
 */

/** Where a driver's progress and warnings go. */
export interface ProgressLog {
  info(line: string): void;
  warn(line: string): void;
}

/** Lines on stderr, as the engine shows them during `pulumi up`. */
export const stderrLog: ProgressLog = {
  info: (line) => process.stderr.write(`kairos: ${line}\n`),
  warn: (line) => process.stderr.write(`kairos: warning: ${line}\n`),
};

/** Drops everything (tests that assert on other output). */
export const silentLog: ProgressLog = { info: () => undefined, warn: () => undefined };

/** How often a long step reports, in ms. */
export const PROGRESS_EVERY_MS = 15_000;

/**
 * Calls `report(elapsedMs)` every `everyMs` until the returned function is called: for steps with
 * no polling loop of their own (a download, an upload).
 */
export function heartbeat(everyMs: number, report: (elapsedMs: number) => void | Promise<void>): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    void Promise.resolve(report(Date.now() - started)).catch(() => undefined);
  }, everyMs);
  timer.unref?.();
  return () => clearInterval(timer);
}

/** `1.5 GiB`, `12.0 MiB`, `512 B`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** `42 MiB of 1.2 GiB (3%), 8.4 MiB/s` (total unknown: `42 MiB, 8.4 MiB/s`). */
export function formatTransfer(bytes: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${formatBytes(Math.round((bytes * 1000) / elapsedMs))}/s` : "-";
  const of = total && total > 0 ? ` of ${formatBytes(total)} (${Math.floor((bytes * 100) / total)}%)` : "";
  return `${formatBytes(bytes)}${of}, ${rate}`;
}
