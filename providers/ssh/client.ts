/**
 * SSH driver on the `ssh2` library: connect with a key or a password, verify the host key, run a
 * command (stdout, stderr, exit code, timeout), upload a private file over SFTP. One connection per
 * call, closed afterwards. Knows nothing of Pulumi.
 *
 * Errors are classified for `retryUntil`: a host-key mismatch, refused credentials and bad targets
 * are `PermanentError`s (never retried); a refused or dropped connection is a plain error (retried).
 * Passwords and private keys never appear in messages.
 */
import * as net from "net";
import { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { PermanentError } from "../retry";
import { HostKey, fingerprint, formatHostKey, hostKeyAlgorithms, hostKeyFromBlob, parseHostKey, sameHostKey } from "./hostkey";

export interface SshTarget {
  /** Address or DNS name of the SSH server. */
  host: string;
  /** TCP port. Default 22. */
  port?: number;
  user: string;
  /** OpenSSH or PEM private key text (secret). Tried before `password` when both are set. */
  privateKey?: string;
  /** Password (secret). */
  password?: string;
  /**
   * Expected host key, `"ssh-ed25519 AAAA..."`. When set, any other key is refused with a
   * `HostKeyMismatchError` (never retried). When unset, the first key seen is accepted and reported
   * through `onHostKey` and in results, so the caller can record it and pin it next time.
   */
  hostKey?: string;
  /** Called with the key the server presented (`"<type> <base64>"`), on every connection. */
  onHostKey?: (seen: string) => void;
}

export interface ConnectOptions {
  /** Milliseconds for TCP connect + handshake + auth. Default 20000. */
  connectTimeoutMs?: number;
  /**
   * Treat refused credentials as transient (retryable) instead of permanent. For the moment a host
   * reboots into a system where the credentials become valid. Default false.
   */
  retryAuthFailures?: boolean;
  /**
   * A host key that means "not the system we are waiting for yet" (e.g. the live system's key while
   * waiting for the installed one): a server presenting it is refused before authentication with a
   * retryable error. Checked before `hostKey`.
   */
  notYetHostKey?: string;
  /**
   * Bound of the TCP connect alone, in ms, for polls of a machine that is restarting. A SYN sent
   * while it is down is retransmitted only after 1, 3, 7 and 15 s, so one long attempt sees the
   * machine back seconds late; a short one fails (retryably) and the next poll sends a fresh SYN.
   * Default: only `connectTimeoutMs` bounds the connect.
   */
  tcpConnectTimeoutMs?: number;
}

/**
 * A connect that did not finish within its bound (retryable): `phase` "tcp" when the SYN got no
 * answer (tcpConnectTimeoutMs), "ssh" when connected but the handshake or login did not finish.
 */
export class SshConnectTimeoutError extends Error {
  constructor(where: string, readonly phase: "tcp" | "ssh", ms: number) {
    super(phase === "tcp" ? `TCP connect to ${where} timed out after ${ms} ms` : `SSH connection to ${where} timed out after ${ms} ms`);
    this.name = "SshConnectTimeoutError";
  }
}

/** The server still presents `notYetHostKey`: the awaited system is not up yet (retryable). */
export class OldHostKeyError extends Error {
  constructor(target: string, seen: string) {
    super(`${target} still presents the host key of the system being replaced (${seen}); not rebooted yet`);
    this.name = "OldHostKeyError";
  }
}

export interface ExecOptions extends ConnectOptions {
  /** Milliseconds for the command, after connecting. Default 5 minutes. On timeout the channel is closed; the remote command itself may run on (no pty, no SIGHUP). */
  timeoutMs?: number;
  /** Text written to the command's stdin, then stdin is closed. */
  input?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; a command killed by a signal reports 128 + signal number like a shell, or -1. */
  code: number;
  /** Signal name when the remote command was killed by one. */
  signal?: string;
  /** The host key the server presented, `"<type> <base64>"`. */
  hostKey: string;
}

/** `user@host:port`, for messages. */
export function describeTarget(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port ?? 22}`;
}

export class HostKeyMismatchError extends PermanentError {
  constructor(readonly target: string, readonly expected: string, readonly seen: string) {
    super(`host key mismatch for ${target}: expected ${expected}, server presented ${seen}; refusing to connect (if the host was reinstalled, update hostKey)`);
    this.name = "HostKeyMismatchError";
  }
}

export class SshAuthError extends PermanentError {
  constructor(target: string, methods: string) {
    super(`SSH authentication failed for ${target} (tried ${methods}); check user, password or privateKey`);
    this.name = "SshAuthError";
  }
}

/** The connection ended before the command reported an exit status (reboot, sshd killed, network). */
export class SshDisconnectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SshDisconnectedError";
  }
}

/** A remote command exited non-zero; first line greppable, then the remote stderr. */
export class SshCommandError extends Error {
  constructor(readonly command: string, readonly target: string, readonly result: ExecResult) {
    const detail = result.stderr.trim() || result.stdout.trim();
    super(`failed with exit code ${result.code}: ${command} (on ${target})${detail ? "\n" + tail(detail, 40) : ""}`);
    this.name = "SshCommandError";
  }
}

function tail(text: string, lines: number): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** Validates a target; every problem is named by field, secrets are never echoed. */
export function checkTarget(t: SshTarget): void {
  const problems: string[] = [];
  if (typeof t.host !== "string" || t.host.trim() === "" || /\s/.test(t.host)) {
    problems.push(`host: ${JSON.stringify(t.host)} is not valid; expected an address or DNS name`);
  }
  if (t.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)) {
    problems.push(`port: ${JSON.stringify(t.port)} is not valid; expected an integer from 1 to 65535`);
  }
  if (typeof t.user !== "string" || !/^[a-z_][a-z0-9_.-]{0,31}$/i.test(t.user)) {
    problems.push(`user: ${JSON.stringify(t.user)} is not valid; expected a login name such as "kairos"`);
  }
  if (!t.privateKey && !t.password) problems.push("privateKey/password: neither is set; expected at least one");
  if (t.hostKey !== undefined) {
    try { parseHostKey(t.hostKey); } catch (e) { problems.push((e as Error).message); }
  }
  if (problems.length) throw new PermanentError(`invalid SSH target ${describeTarget(t)}:\n  ${problems.join("\n  ")}`);
}

/** @internal An open `ssh2` connection (ssh2's types stay out of the published declarations). */
interface Connection {
  client: Client;
  hostKey: string;
}

/** @internal Opens an authenticated connection; the caller must `client.end()` it. */
export function connect(target: SshTarget, opts: ConnectOptions = {}): Promise<Connection> {
  checkTarget(target);
  const where = describeTarget(target);
  const pinned: HostKey | undefined = target.hostKey ? parseHostKey(target.hostKey) : undefined;
  const notYet: HostKey | undefined = opts.notYetHostKey ? parseHostKey(opts.notYetHostKey, "notYetHostKey") : undefined;
  const timeoutMs = opts.connectTimeoutMs ?? 20_000;
  return new Promise<Connection>((resolve, reject) => {
    const client = new Client();
    let seen: HostKey | undefined;
    let mismatch: Error | undefined;
    let settled = false;
    let sock: net.Socket | undefined;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.destroy();
      client.end();
      client.destroy();
      reject(e);
    };
    // ssh2's readyTimeout covers the handshake only; this bounds everything up to "ready".
    const timer = setTimeout(() => fail(new SshConnectTimeoutError(where, "ssh", timeoutMs)), timeoutMs);
    timer.unref();
    client.on("ready", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ client, hostKey: formatHostKey(seen!) });
    });
    client.on("error", (e: Error & { level?: string; code?: string }) => {
      if (mismatch) return fail(mismatch);
      if (e.level === "client-authentication") {
        const methods = [target.privateKey ? "publickey" : "", target.password ? "password" : ""].filter(Boolean).join(", ");
        return fail(opts.retryAuthFailures ? new Error(`SSH authentication failed for ${where} (tried ${methods})`) : new SshAuthError(where, methods));
      }
      fail(new Error(`cannot connect to ${where}: ${e.code ?? e.message}`));
    });
    client.on("close", () => fail(new SshDisconnectedError(`SSH connection to ${where} closed during handshake`)));
    const config: ConnectConfig = {
      host: target.host,
      port: target.port ?? 22,
      username: target.user,
      privateKey: target.privateKey,
      password: target.password,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      hostVerifier: (blob: Buffer) => {
        seen = hostKeyFromBlob(blob);
        target.onHostKey?.(formatHostKey(seen));
        if (notYet && sameHostKey(notYet, seen)) {
          mismatch = new OldHostKeyError(where, fingerprint(seen));
          return false;
        }
        if (pinned && !sameHostKey(pinned, seen)) {
          mismatch = new HostKeyMismatchError(where, fingerprint(pinned), fingerprint(seen));
          return false;
        }
        return true;
      },
    };
    // Offer only the pinned key's algorithms, so the server shows that key (not another of its keys).
    // Not with notYetHostKey: the old and new systems may have keys of different types.
    if (pinned && !notYet) config.algorithms = { serverHostKey: hostKeyAlgorithms(pinned.type) as never };
    if (opts.tcpConnectTimeoutMs !== undefined) {
      // Our own socket, so the TCP connect has its own bound; ssh2 takes it over once connected.
      const tcpMs = Math.min(opts.tcpConnectTimeoutMs, timeoutMs);
      const s = (sock = net.connect({ host: target.host, port: target.port ?? 22 }));
      const tcpTimer = setTimeout(() => { if (s.connecting) fail(new SshConnectTimeoutError(where, "tcp", tcpMs)); }, tcpMs);
      tcpTimer.unref();
      s.once("connect", () => clearTimeout(tcpTimer));
      s.once("close", () => clearTimeout(tcpTimer));
      config.sock = s;
    }
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 throws synchronously on an unparsable key; its message names the format, not the key.
      fail(new PermanentError(`privateKey for ${where} cannot be used: ${(e as Error).message}`));
    }
  });
}

/** Runs a command string (parsed by the remote login shell); resolves whatever the exit code. */
export async function sshExec(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const where = describeTarget(target);
  const { client, hostKey } = await connect(target, opts);
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = (e: Error) => {
        if (timer) clearTimeout(timer);
        reject(e);
      };
      client.on("error", (e: Error) => stop(new SshDisconnectedError(`SSH connection to ${where} failed while running: ${command}: ${e.message}`)));
      client.on("close", () => stop(new SshDisconnectedError(`SSH connection to ${where} closed while running: ${command}`)));
      client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
        if (err) return stop(new Error(`cannot start command on ${where}: ${command}: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        let signal: string | undefined;
        timer = setTimeout(() => {
          // Closing the channel does not stop the remote command (no pty, so no SIGHUP; OpenSSH
          // 9.2 ignored "signal" requests in a test here): it runs on, detached from us.
          stream.close();
          stop(new Error(`timed out after ${timeoutMs} milliseconds: ${command} (on ${where})`));
        }, timeoutMs);
        timer.unref();
        stream.on("data", (c: Buffer) => out.push(c));
        stream.stderr.on("data", (c: Buffer) => errOut.push(c));
        stream.on("exit", (c: number | null, sig?: string) => {
          if (typeof c === "number") code = c;
          if (sig) signal = sig;
        });
        stream.on("close", () => {
          if (timer) clearTimeout(timer);
          const stdout = Buffer.concat(out).toString("utf8");
          const stderr = Buffer.concat(errOut).toString("utf8");
          if (code === undefined && signal === undefined) {
            return reject(new SshDisconnectedError(`SSH connection to ${where} ended before the command exited: ${command}${stderr.trim() ? "\n" + tail(stderr.trim(), 20) : ""}`));
          }
          resolve({ stdout, stderr, code: code ?? -1, signal, hostKey });
        });
        if (opts.input !== undefined) stream.end(opts.input);
        else stream.end();
      });
    });
  } finally {
    client.end();
  }
}

/** Like `sshExec`, but a non-zero exit is an `SshCommandError` carrying the remote stderr. */
export async function sshRun(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await sshExec(target, command, opts);
  if (r.code !== 0) throw new SshCommandError(command, describeTarget(target), r);
  return r;
}

function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((e, s) => (e ? reject(e) : resolve(s))));
}

const p = <T>(fn: (cb: (e: Error | null | undefined, v: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v))));

/**
 * Writes `content` to `remotePath` over SFTP. The file is created with `mode` (default 0600) and
 * chmod-ed to it before any byte is written, so a secret is never readable by others, even when
 * the file existed. Returns the host key seen.
 */
export async function sshUpload(target: SshTarget, remotePath: string, content: string | Buffer, mode = 0o600, opts: ConnectOptions = {}): Promise<string> {
  const where = describeTarget(target);
  const { client, hostKey } = await connect(target, opts);
  try {
    const sftp = await sftpOf(client);
    try {
      const handle = await p<Buffer>((cb) => sftp.open(remotePath, "w", { mode }, cb));
      try {
        await p<void>((cb) => sftp.fchmod(handle, mode, (e) => cb(e, undefined)));
        const data = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
        let off = 0;
        while (off < data.length) {
          const n = Math.min(32 * 1024, data.length - off);
          await p<void>((cb) => sftp.write(handle, data, off, n, off, (e) => cb(e, undefined)));
          off += n;
        }
      } finally {
        await p<void>((cb) => sftp.close(handle, (e) => cb(e, undefined)));
      }
    } finally {
      sftp.end();
    }
    return hostKey;
  } catch (e) {
    if (e instanceof PermanentError) throw e;
    throw new Error(`SFTP upload to ${where}:${remotePath} failed: ${(e as Error).message}`);
  } finally {
    client.end();
  }
}
