/**
 * The one polling primitive: every wait in the project is bounded in time *and* attempts, reports
 * progress, and fails with what was awaited, for how long, and the last error seen. The clock is a
 * parameter so tests can drive it.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface RetryOptions {
  /** What is being awaited, for messages: "a DHCP lease for node cp1". */
  what: string;
  /** Overall bound in milliseconds. */
  timeoutMs: number;
  /** Pause between attempts in milliseconds. Default 2000. */
  intervalMs?: number;
  /** Hard cap on attempts, independent of time. Default: enough for timeoutMs at intervalMs, +1. */
  maxAttempts?: number;
  clock?: Clock;
  /** Called every `progressEveryMs` (default 15 s) with elapsed ms, for pulumi.log. */
  onProgress?: (elapsedMs: number, attempt: number, lastError?: string) => void;
  progressEveryMs?: number;
  /** Extra diagnostics appended to the timeout error (e.g. a serial-console tail). */
  diagnostics?: () => Promise<string> | string;
  /**
   * Asked after every attempt that did not succeed: a sentence when waiting on can no longer help
   * (the machine is paused, shut off, crashed or gone). The wait then fails at once with that
   * sentence and the diagnostics, instead of at its timeout.
   */
  abortIf?: () => Promise<string | undefined>;
}

export class WaitTimeoutError extends Error {
  constructor(message: string, readonly lastError?: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/** An error that stops retrying at once (bad input, auth refused, ...). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentError";
  }
}

/** A wait given up before its timeout because `abortIf` said waiting could not help. */
export class WaitAbortedError extends PermanentError {
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "WaitAbortedError";
  }
}

async function withDiagnostics(message: string, opts: RetryOptions): Promise<string> {
  if (!opts.diagnostics) return message;
  try {
    const d = await opts.diagnostics();
    return d ? `${message}\n${d}` : message;
  } catch (e) {
    return `${message}\n(diagnostics unavailable: ${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * Calls `attempt` until it returns a value other than `undefined`, or the deadline or attempt cap
 * is hit. An attempt that throws counts as "not yet" unless it throws a PermanentError.
 */
export async function retryUntil<T>(attempt: () => Promise<T | undefined>, opts: RetryOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const interval = opts.intervalMs ?? 2000;
  const maxAttempts = opts.maxAttempts ?? Math.ceil(opts.timeoutMs / Math.max(interval, 1)) + 1;
  const progressEvery = opts.progressEveryMs ?? 15_000;
  const start = clock.now();
  let lastProgress = start;
  let lastError: string | undefined;
  for (let n = 1; n <= maxAttempts; n++) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
      lastError = undefined;
    } catch (e) {
      if (e instanceof PermanentError) throw e;
      lastError = e instanceof Error ? e.message : String(e);
    }
    const stalled = opts.abortIf ? await opts.abortIf() : undefined;
    if (stalled !== undefined) {
      const elapsed = Math.round((clock.now() - start) / 1000);
      throw new WaitAbortedError(await withDiagnostics(`stopped waiting for ${opts.what} after ${elapsed} s: ${stalled}`, opts), stalled);
    }
    const elapsed = clock.now() - start;
    if (elapsed >= opts.timeoutMs) break;
    if (opts.onProgress && clock.now() - lastProgress >= progressEvery) {
      lastProgress = clock.now();
      opts.onProgress(elapsed, n, lastError);
    }
    await clock.sleep(Math.min(interval, Math.max(0, opts.timeoutMs - elapsed)));
  }
  const elapsed = clock.now() - start;
  let message = `timed out waiting for ${opts.what} after ${Math.round(elapsed / 1000)} s`;
  if (lastError) message += `\nlast error: ${lastError}`;
  throw new WaitTimeoutError(await withDiagnostics(message, opts), lastError);
}
