/**
 * Creates in flight, noted on this machine, so an interrupted one leaves nothing behind.
 *
 * The engine records a resource only when its create returns. A create that never returns (the
 * process killed: Ctrl-C twice, a crash, a machine lost mid-`up`) leaves a libvirt object that no
 * state knows of: Pulumi calls it a "pending create" and forgets it. Each create here notes the
 * object before libvirt gets it and removes the note once create returns; the next create on the
 * same connection removes the objects of notes whose process is gone, then their notes. A note of a
 * live process (another create of this `up`, or another `up` running now) is never acted on, and
 * neither is one written on another machine.
 *
 * Notes: one 0600 JSON file per object in `$PULUMI_KAIROS_STATE_DIR` (default
 * `$XDG_STATE_HOME/pulumi-kairos/creating`, `~/.local/state/...`), owner-only; names, no secrets.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgressLog, stderrLog } from "../progress";
import { deleteDomain, readDomain, serialLogPath } from "./domains";
import { deleteNetwork, readNetwork } from "./networks";
import { Connection } from "./virsh";
import { deleteVolume, readVolume } from "./volumes";

/** The object a create is making. */
export type PendingObject =
  | { kind: "domain"; name: string }
  | { kind: "network"; name: string }
  | { kind: "volume"; pool: string; name: string };

interface Note {
  object: PendingObject;
  uri: string;
  host: string;
  pid: number;
  /** The process' start time (/proc), so a reused pid is not mistaken for the creator. */
  pidStart?: string;
  at: string;
}

export function pendingDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULUMI_KAIROS_STATE_DIR) return path.join(env.PULUMI_KAIROS_STATE_DIR, "creating");
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state");
  return path.join(base, "pulumi-kairos", "creating");
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined where there is no /proc. */
function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(note: Note): boolean {
  try {
    process.kill(note.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, another user's
  }
  return note.pidStart === undefined || processStart(note.pid) === note.pidStart;
}

const fileOf = (dir: string, uri: string, o: PendingObject) =>
  path.join(dir, `${createHash("sha256").update(JSON.stringify([uri, o])).digest("hex").slice(0, 24)}.json`);

const describe = (o: PendingObject) => (o.kind === "volume" ? `volume '${o.name}' in pool '${o.pool}'` : `${o.kind} '${o.name}'`);

async function remove(conn: Connection, o: PendingObject): Promise<void> {
  if (o.kind === "domain") await deleteDomain(conn, o.name, { name: o.name, serialLogFile: serialLogPath(o.name) });
  else if (o.kind === "network") await deleteNetwork(conn, o.name);
  else await deleteVolume(conn, o.pool, o.name);
}

/**
 * Removes what interrupted creates on `conn` left: objects noted by processes of this machine that
 * are gone. A removal that fails keeps its note (tried again next time) and is warned about.
 */
export async function sweepPendingCreates(conn: Connection, o: { dir?: string; log?: ProgressLog } = {}): Promise<string[]> {
  const dir = o.dir ?? pendingDir();
  const log = o.log ?? stderrLog;
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    let note: Note;
    try {
      note = JSON.parse(fs.readFileSync(file, "utf8")) as Note;
    } catch {
      continue; // being written, or not ours
    }
    if (note.uri !== conn.uri || note.host !== os.hostname() || alive(note)) continue;
    try {
      await remove(conn, note.object);
      fs.rmSync(file, { force: true });
      removed.push(describe(note.object));
      log.info(`removed ${describe(note.object)} on ${conn.uri}, left by a create that was interrupted (process ${note.pid}, ${note.at})`);
    } catch (e) {
      log.warn(`could not remove ${describe(note.object)} on ${conn.uri}, left by an interrupted create: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return removed;
}

async function exists(conn: Connection, o: PendingObject): Promise<boolean> {
  if (o.kind === "domain") return (await readDomain(conn, o.name)) !== undefined;
  if (o.kind === "network") return (await readNetwork(conn, o.name)) !== undefined;
  return (await readVolume(conn, o.pool, o.name)) !== undefined;
}

/**
 * Runs `create` (which makes `object` on `conn`) with a note kept while it runs; first removes
 * what earlier interrupted creates left. An object that exists already is someone else's: no note
 * (create will refuse it). The note goes when `create` returns or throws (a create that fails
 * removes what it made); only a process that dies mid-create leaves it.
 */
export async function whileCreating<T>(conn: Connection, object: PendingObject, create: () => Promise<T>, o: { dir?: string; log?: ProgressLog } = {}): Promise<T> {
  const dir = o.dir ?? pendingDir();
  await sweepPendingCreates(conn, { dir, log: o.log });
  if (await exists(conn, object)) return create();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = fileOf(dir, conn.uri, object);
  const note: Note = { object, uri: conn.uri, host: os.hostname(), pid: process.pid, pidStart: processStart(process.pid), at: new Date().toISOString() };
  fs.writeFileSync(file, JSON.stringify(note), { mode: 0o600 });
  try {
    return await create();
  } finally {
    fs.rmSync(file, { force: true });
  }
}
