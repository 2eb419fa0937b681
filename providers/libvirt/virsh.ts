/**
 * The one way this driver talks to libvirt: `virsh -c <uri> …` through providers/exec `run`.
 * XML documents are handed over as a file in a private (0700) temp dir, removed right after: virsh
 * cannot open `/dev/stdin` when stdin is the pipe (a socket) node gives it.
 */
import * as fs from "fs";
import * as path from "path";
import { withPrivateTempDir } from "../cidata";
import { CommandError, RunOptions, RunResult, run } from "../exec";

export const VIRSH_INSTALL_HINT = "apt-get install libvirt-clients qemu-utils";
export const QEMU_IMG_INSTALL_HINT = "apt-get install qemu-utils";

/** A libvirt connection: the URI and, optionally, another virsh binary. */
export interface Connection {
  /** libvirt URI, e.g. `qemu:///system` or `qemu+ssh://root@host:22/system?keyfile=/k&no_verify=1`. */
  uri: string;
  /** virsh binary. @default "virsh" */
  virsh?: string;
}

/** Pure: the argv for one virsh command on a connection. */
export function virshArgv(conn: Connection, args: readonly string[]): string[] {
  return [conn.virsh ?? "virsh", "-q", "-c", conn.uri, ...args];
}

export function virsh(conn: Connection, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(virshArgv(conn, args), { timeoutMs: 120_000, installHint: VIRSH_INSTALL_HINT, ...opts });
}

/** Runs `virsh <command> [...before] <xml file> [...after]` with `xml` in a private temp file. */
export function virshWithXml(conn: Connection, command: string, xml: string, before: readonly string[] = [], after: readonly string[] = []): Promise<RunResult> {
  return withPrivateTempDir("kairos-virsh-", async (dir) => {
    const file = path.join(dir, `${command}.xml`);
    fs.writeFileSync(file, xml, { mode: 0o600 });
    return virsh(conn, [command, ...before, file, ...after]);
  });
}

/**
 * libvirt's own "no such object" answer (VIR_ERR_NO_NETWORK, _NO_STORAGE_VOL, _NO_STORAGE_POOL,
 * _NO_DOMAIN: "… not found: no … with matching …"). virsh's generic "failed to get …" line is not
 * enough: it prints the same for a refused connection or a denied permission.
 */
export function isNotFound(e: unknown): boolean {
  return e instanceof CommandError && !e.notFound && /not found: no (domain|storage vol|network|storage pool) with matching/i.test(e.stderr);
}

/**
 * virsh's domain lookups print only "failed to get domain 'x'" whatever the cause. Whether the
 * domain really does not exist is asked of libvirt's listing (which fails loudly when the
 * connection does): absent from `list --all` by name and by UUID.
 */
async function domainListed(conn: Connection, ref: string): Promise<boolean> {
  const names = (await virsh(conn, ["list", "--all", "--name"])).stdout.split("\n").map((l) => l.trim());
  const uuids = (await virsh(conn, ["list", "--all", "--uuid"])).stdout.split("\n").map((l) => l.trim());
  return names.includes(ref) || uuids.includes(ref);
}

/**
 * Runs a virsh query on one object; resolves `undefined` only when libvirt says the object does not
 * exist. Every other failure (connection, permission, a broken object) is thrown, naming the command.
 */
export async function virshOrMissing(conn: Connection, args: readonly string[], opts: RunOptions = {}): Promise<RunResult | undefined> {
  try {
    return await virsh(conn, args, opts);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    const domain = e instanceof CommandError && !e.notFound ? /failed to get domain '([^']+)'/.exec(e.stderr)?.[1] : undefined;
    if (domain !== undefined && !(await domainListed(conn, domain))) return undefined;
    throw e;
  }
}

/** What {@link defineAndStart} needs to know about one kind of libvirt object. */
export interface DefineAndStart<T> {
  /** Word used in messages: "domain", "network". */
  noun: string;
  name: string;
  xml: string;
  /** virsh commands, e.g. "define"/"start" or "net-define"/"net-start". */
  define: string;
  start: string;
  read: () => Promise<T | undefined>;
  /** Removes the object again; its failure is ignored (the first error is the one rethrown). */
  remove: () => Promise<void>;
}

/** Defines an object from XML and starts it; if starting fails, removes it again and rethrows. */
export async function defineAndStart<T>(conn: Connection, o: DefineAndStart<T>): Promise<T> {
  if (await o.read()) throw new Error(`${o.noun} '${o.name}' already exists on ${conn.uri}; delete it or choose another name`);
  await virshWithXml(conn, o.define, o.xml);
  try {
    await virsh(conn, [o.start, o.name]);
    const info = await o.read();
    if (!info) throw new Error(`${o.noun} '${o.name}' vanished right after ${o.start}`);
    return info;
  } catch (e) {
    await o.remove().catch(() => undefined);
    throw e;
  }
}

/** `<kind>-destroy` then `<kind>-undefine` (networks, pools); already gone or not active is success. */
export async function destroyAndUndefine(conn: Connection, kind: "net" | "pool", name: string): Promise<void> {
  try {
    await virsh(conn, [`${kind}-destroy`, name]);
  } catch (e) {
    if (isNotFound(e)) return;
    if (!/not active/i.test((e as { stderr?: string }).stderr ?? "")) throw e;
  }
  await virshOrMissing(conn, [`${kind}-undefine`, name]);
}

/** Parses `virsh xxx-info` "Key:  value" lines. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line.trim());
    if (m) out[m[1].trim()] = m[2].trim();
  }
  return out;
}

/** Parses a virsh table (whitespace columns, `---` separator) into rows of cells. */
export function parseTable(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^-+$/.test(l))
    .map((l) => l.split(/\s+/));
}
