/**
 * The libvirt benches' own lab on the real libvirtd (qemu:///system): a dir pool, an isolated
 * network (no forwarding), the stand-in guest (a test fixture, NOT Kairos) imported as the base
 * volume, and an SSH key pair for the guests' admin user. Every name starts with the lab id
 * (`kb<pid><4 hex>`); `withLab` removes domains, serial logs, volumes, the network, the pool and the
 * key directory when the bench ends, fails or is interrupted (SIGINT/SIGTERM).
 *
 * The environment helpers (starting libvirtd, the pool under test/.work, the network on a random
 * 10.213.x.0/24) are the L2 tests' own, so the bench runs where those tests run.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { physicalName } from "../../kairos/names";
import { run } from "../../providers/exec";
import {
  Connection, DomainSpec, deleteDomain, deleteVolume, detectDomainType, importBaseImage,
} from "../../providers/libvirt/driver";
import { buildStandInGuest } from "../../test/fixtures/standin-guest/build";
import { LOCAL, TestPool, createTestNetwork, createTestPool, ensureLibvirtd, leftovers } from "../../test/providers/libvirt/env";
import { requireTool } from "../../test/providers/libvirt/tools";

export interface Lab {
  conn: Connection;
  /** Prefix of every object this lab creates. */
  id: string;
  pool: TestPool;
  network: { name: string; cidr: string };
  /** The stand-in guest's disk, imported into the pool (raw). */
  baseVolume: string;
  domainType: "kvm" | "qemu";
  /** OpenSSH public key line the guests' admin user accepts. */
  publicKey: string;
  /** Private key file (0600, in a 0700 directory). */
  privateKeyFile: string;
  /** A physical name under this lab: `physicalName(["bench", id, ...parts])`. */
  name(...parts: string[]): string;
  /** Records a domain so the lab removes it (and its serial log) if the bench does not. */
  track(domain: DomainSpec): void;
  /** Removes a tracked domain now, with its serial log. */
  removeDomain(domain: DomainSpec): Promise<void>;
}

/** `kb<pid><4 hex>`: short (names stay readable under physicalName's 63-char cap) and unique per run. */
function labId(): string {
  return `kb${process.pid}${randomBytes(2).toString("hex")}`;
}

/**
 * Sets up a lab, runs `fn`, and tears everything down whatever happens; the first error wins. A
 * teardown that leaves objects behind is an error naming them.
 */
export async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  await ensureLibvirtd();
  for (const t of ["ssh", "ssh-keygen", "xorriso"]) requireTool(t);
  const guest = await buildStandInGuest();
  const id = labId();
  const conn = LOCAL;
  const domains = new Map<string, DomainSpec>();
  let pool: TestPool | undefined;
  let network: { name: string; cidr: string; remove(): Promise<void> } | undefined;
  let keyDir: string | undefined;

  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= (async () => {
      for (const d of domains.values()) await deleteDomain(conn, d.name, { serialLogFile: d.serialLogFile }).catch(() => undefined);
      await network?.remove().catch(() => undefined);
      await pool?.remove().catch(() => undefined);
      if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
    })());
  // Ctrl-C during a 2-minute bench must not leave running guests behind.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing the bench's libvirt objects (${id}*) ...`);
    void teardown().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), `${id}-key-`)); // mkdtemp: mode 0700
    const privateKeyFile = path.join(keyDir, "id");
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", privateKeyFile, "-C", "pulumi-kairos-bench"]);
    pool = await createTestPool(conn, `${id}-pool`);
    network = await createTestNetwork(conn, `${id}-net`);
    const name = (...parts: string[]) => physicalName(["bench", id, ...parts]);
    const baseVolume = name("base");
    await importBaseImage(conn, { pool: pool.name, name: baseVolume, source: { kind: "file", path: guest.diskImage } });
    const lab: Lab = {
      conn,
      id,
      pool,
      network,
      baseVolume,
      domainType: await detectDomainType(conn),
      publicKey: fs.readFileSync(`${privateKeyFile}.pub`, "utf8").trim(),
      privateKeyFile,
      name,
      track: (d) => void domains.set(d.name, d),
      async removeDomain(d) {
        await deleteDomain(conn, d.name, { serialLogFile: d.serialLogFile });
        domains.delete(d.name);
      },
    };
    const result = await fn(lab);
    await checkedTeardown();
    return result;
  } catch (e) {
    // The bench's own error is the one to throw; a failed teardown is still reported.
    await checkedTeardown().catch((t) => console.error(t instanceof Error ? t.message : String(t)));
    throw e;
  }

  async function checkedTeardown(): Promise<void> {
    await teardown();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    const left = await leftovers(conn, id);
    if (left.length > 0) throw new Error(`bench teardown left libvirt objects behind: ${left.join(", ")}; remove them with virsh -c ${conn.uri}`);
  }
}

/** Deletes volumes by name, ignoring ones already gone. */
export async function deleteVolumes(lab: Lab, names: readonly string[]): Promise<void> {
  for (const n of names) await deleteVolume(lab.conn, lab.pool.name, n);
}
