/**
 * The one seam through which drivers start processes: argv as data (never a shell), an explicit
 * environment, bounded output, and a timeout that ends the process (SIGTERM, then SIGKILL after a
 * grace period). Errors have a greppable first line: "<reason>: <command>", then stderr.
 */
import { spawn } from "child_process";

export interface RunOptions {
  /** Text written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Extra environment merged over `process.env`. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Milliseconds before SIGTERM. Default 5 minutes. */
  timeoutMs?: number;
  /** Bytes kept of each of stdout and stderr (the tail is kept). Default 16 MiB. */
  maxBuffer?: number;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Install hint for the "not found" message, e.g. "install libvirt-clients". */
  installHint?: string;
  /** Strings replaced by `<secret>` in error messages (never in the returned output). */
  redact?: string[];
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stdout: string,
    readonly stderr: string,
    readonly timedOut: boolean,
    readonly notFound: boolean,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

const KILL_GRACE_MS = 5000;

/** Shell-like rendering of argv, for messages only. */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function redactText(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s) out = out.split(s).join("<secret>");
  return out;
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error("run: empty argv");
  const command = formatCommand(argv);
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const maxBuffer = opts.maxBuffer ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const keepTail = (chunks: Buffer[], len: number): number => {
      while (len > maxBuffer && chunks.length > 1) len -= chunks.shift()!.length;
      return len;
    };
    child.stdout.on("data", (c: Buffer) => { out.push(c); outLen = keepTail(out, outLen + c.length); });
    child.stderr.on("data", (c: Buffer) => { err.push(c); errLen = keepTail(err, errLen + c.length); });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    }, timeoutMs);
    timer.unref();
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ENOENT") {
        const hint = opts.installHint ? `; ${opts.installHint}` : "";
        reject(new CommandError(`${argv[0]} not found on PATH${hint}: ${command}`, command, undefined, "", "", false, true));
      } else {
        reject(new CommandError(`failed to start (${e.code ?? e.message}): ${command}`, command, undefined, "", "", false, false));
      }
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const exitCode = code ?? -1;
      if (!timedOut && (exitCode === 0 || opts.allowFailure)) {
        resolve({ command, exitCode, stdout, stderr });
        return;
      }
      const reason = timedOut
        ? `timed out after ${timeoutMs} milliseconds`
        : signal
          ? `killed with ${signal}`
          : `failed with exit code ${exitCode}`;
      const shown = redactText(command, opts.redact);
      const detail = redactText([stderr.trim(), stdout.trim()].filter(Boolean).join("\n"), opts.redact);
      reject(new CommandError(`${reason}: ${shown}${detail ? "\n" + detail : ""}`, command, code ?? undefined, stdout, stderr, timedOut, false));
    });
    child.stdin.on("error", () => undefined); // a child that exits early closes stdin; its exit code tells
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
