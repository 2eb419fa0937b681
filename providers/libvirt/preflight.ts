/**
 * Pre-flight checks, run before the first effect so failures say what to fix rather than surfacing
 * as a half-created cluster: tools present, libvirtd reachable, pool present and running, OVMF
 * present for UEFI, local image readable, and which domain type the host can run.
 */
import * as fs from "fs";
import { CommandError, run } from "../exec";
import { Connection, QEMU_IMG_INSTALL_HINT, VIRSH_INSTALL_HINT, isNotFound, parseInfo, virsh } from "./virsh";
import { isLocalUri } from "./uri";

/** Connects once; a refused connection becomes a message that says how to start libvirtd. */
export async function checkConnection(conn: Connection): Promise<void> {
  try {
    await virsh(conn, ["uri"], { timeoutMs: 60_000 });
  } catch (e) {
    if (e instanceof CommandError && e.notFound) throw new Error(`virsh not found on PATH; ${VIRSH_INSTALL_HINT}`);
    const detail = e instanceof CommandError ? e.stderr.trim().split("\n").slice(-1)[0] : String(e);
    const how = isLocalUri(conn.uri)
      ? "start it with `systemctl start libvirtd virtlogd` (or, without systemd, `libvirtd -d && virtlogd -d`)"
      : "check that the host is reachable over ssh with that user and key, and that libvirtd runs there";
    throw new Error(`libvirtd unreachable at ${conn.uri}: ${detail}; ${how}`);
  }
}

export async function checkQemuImg(): Promise<void> {
  await run(["qemu-img", "--version"], { timeoutMs: 30_000, installHint: QEMU_IMG_INSTALL_HINT });
}

/** The pool must exist and be running. */
export async function checkPool(conn: Connection, pool: string): Promise<void> {
  let info: Record<string, string>;
  try {
    info = parseInfo((await virsh(conn, ["pool-info", pool])).stdout);
  } catch (e) {
    if (isNotFound(e)) {
      throw new Error(
        `storage pool '${pool}' not found on ${conn.uri}; create it, e.g. ` +
          `virsh -c ${conn.uri} pool-define-as ${pool} dir --target /var/lib/libvirt/images/${pool} && ` +
          `virsh -c ${conn.uri} pool-build ${pool} && virsh -c ${conn.uri} pool-start ${pool}`,
      );
    }
    throw e;
  }
  if (info["State"] !== "running") {
    throw new Error(`storage pool '${pool}' on ${conn.uri} is ${info["State"] ?? "not running"}; start it with virsh -c ${conn.uri} pool-start ${pool}`);
  }
}

/** Local image files must be readable by this process (not only by root or libvirt). */
export function checkReadable(field: string, file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (!fs.statSync(file).isFile()) throw new Error("not a regular file");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`${field}: '${file}' is not readable by this process (uid ${process.getuid?.() ?? "?"}): ${why}; check the path and its permissions`);
  }
}

/** Loader paths the hypervisor advertises (`virsh domcapabilities`), so it also works remotely. */
export async function firmwareLoaders(conn: Connection, type: "kvm" | "qemu"): Promise<string[]> {
  const xml = (await virsh(conn, ["domcapabilities", "--virttype", type, "--arch", "x86_64"])).stdout;
  const loader = /<loader supported='yes'>([\s\S]*?)<\/loader>/.exec(xml)?.[1] ?? "";
  return [...loader.matchAll(/<value>([^<]+)<\/value>/g)].map((m) => m[1]);
}

export async function checkOvmf(conn: Connection, type: "kvm" | "qemu", loader: string, nvramTemplate: string): Promise<void> {
  const loaders = await firmwareLoaders(conn, type);
  const localMissing = isLocalUri(conn.uri) ? [loader, nvramTemplate].filter((f) => !fs.existsSync(f)) : [];
  if (!loaders.includes(loader) || localMissing.length > 0) {
    throw new Error(
      `firmware 'uefi' needs OVMF, but ${localMissing.length ? localMissing.join(" and ") + " not found" : `${loader} is not offered by the hypervisor (offered: ${loaders.join(", ") || "none"})`}` +
        ` on ${conn.uri}; apt-get install ovmf (on the hypervisor host), or use firmware 'bios'`,
    );
  }
}

/**
 * `kvm` when the hypervisor can accelerate (for a local URI, /dev/kvm must also open read-write),
 * else `qemu` (software emulation).
 */
export async function detectDomainType(conn: Connection): Promise<"kvm" | "qemu"> {
  if (isLocalUri(conn.uri)) {
    try {
      fs.closeSync(fs.openSync("/dev/kvm", "r+"));
    } catch {
      return "qemu";
    }
  }
  try {
    await virsh(conn, ["domcapabilities", "--virttype", "kvm", "--arch", "x86_64"], { timeoutMs: 60_000 });
    return "kvm";
  } catch (e) {
    if (e instanceof CommandError && !e.notFound && !e.timedOut) return "qemu";
    throw e;
  }
}
