/**
 * L2 environment: the real libvirtd at qemu:///system (started here when it is not running and we
 * are root, otherwise the test fails naming the fix), a dir pool under test/.work, an isolated
 * network on a random 10.213.x.0/24, and unique names per run so parallel runs don't collide.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../../providers/exec";
import { Connection, deleteNetwork, deletePool, ensureDirPool, createNetwork } from "../../../providers/libvirt/driver";
import { requireTool, which } from "./tools";

export const LOCAL: Connection = { uri: "qemu:///system" };
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

async function reachable(): Promise<boolean> {
  const r = await run(["virsh", "-c", LOCAL.uri, "uri"], { allowFailure: true, timeoutMs: 30_000 });
  return r.exitCode === 0;
}

/** Makes sure libvirtd + virtlogd answer on qemu:///system, or throws saying how to fix it. */
export async function ensureLibvirtd(): Promise<void> {
  for (const t of ["virsh", "qemu-img", "qemu-system-x86_64"]) requireTool(t);
  if (await reachable()) return;
  const libvirtd = which("libvirtd");
  const virtlogd = which("virtlogd");
  if (!libvirtd || !virtlogd) throw new Error("libvirtd not found; apt-get install libvirt-daemon-system qemu-system-x86");
  if (process.getuid?.() !== 0) throw new Error("libvirtd is not running at qemu:///system; start it: sudo libvirtd -d && sudo virtlogd -d");
  const running = async (name: string) => (await run(["pgrep", "-x", name], { allowFailure: true })).exitCode === 0;
  if (!(await running("virtlogd"))) await run([virtlogd, "-d"]);
  if (!(await running("libvirtd"))) await run([libvirtd, "-d"]);
  for (let i = 0; i < 30; i++) {
    if (await reachable()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("libvirtd started but qemu:///system does not answer after 15 s; see /var/log/libvirt/libvirtd.log");
}

/** A per-run prefix for every object name: `kt<pid><4 hex>`. */
export function runId(): string {
  return `kt${process.pid}${randomBytes(2).toString("hex")}`;
}

export interface TestPool {
  name: string;
  dir: string;
  remove(): Promise<void>;
}

/** A dir pool under test/.work; `remove` deletes its volumes, the pool and the directory. */
export async function createTestPool(conn: Connection, name: string): Promise<TestPool> {
  const dir = path.join(REPO_ROOT, "test", ".work", "libvirt", name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  try {
    await ensureDirPool(conn, name, dir);
  } catch (e) {
    await deletePool(conn, name).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    name,
    dir,
    async remove() {
      const vols = await run(["virsh", "-q", "-c", conn.uri, "vol-list", "--pool", name], { allowFailure: true });
      for (const line of vols.stdout.split("\n").map((l) => l.trim()).filter(Boolean)) {
        await run(["virsh", "-c", conn.uri, "vol-delete", "--pool", name, line.split(/\s+/)[0]], { allowFailure: true });
      }
      await deletePool(conn, name);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An isolated network (no forwarding) on a random 10.213.x.0/24. */
export async function createTestNetwork(conn: Connection, name: string): Promise<{ name: string; cidr: string; remove(): Promise<void> }> {
  const cidr = `10.213.${1 + (randomBytes(1)[0] % 250)}.0/24`;
  await createNetwork(conn, { name, mode: "isolated", cidr, owner: { stack: "test", cluster: name } });
  return { name, cidr, remove: () => deleteNetwork(conn, name) };
}

/** Lists libvirt objects whose names start with `prefix`: what a test left behind. */
export async function leftovers(conn: Connection, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const list = async (args: string[], kind: string) => {
    const r = await run(["virsh", "-q", "-c", conn.uri, ...args], { allowFailure: true });
    for (const l of r.stdout.split("\n")) {
      const n = l.trim().split(/\s+/)[0];
      if (n && n.startsWith(prefix)) out.push(`${kind} ${n}`);
    }
  };
  await list(["list", "--all", "--name"], "domain");
  await list(["net-list", "--all", "--name"], "network");
  await list(["pool-list", "--all", "--name"], "pool");
  return out;
}
