/**
 * L2 with VMs: three stand-in guests (test fixture, not Kairos) boot on real libvirtd + qemu from
 * qcow2 overlays of one base volume, each with its own cidata volume, on an isolated network the
 * test creates. 256 MiB, 1 vCPU, bounded waits; everything is removed in afterAll.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../../providers/exec";
import { silentLog } from "../../../providers/progress";
import { retryUntil } from "../../../providers/retry";
import { physicalName } from "../../../kairos/names";
import { parseSubnet, parseIpv4 } from "../../../kairos/libvirt";
import {
  DomainSpec, bootDomain, createCidataVolume, createNodeDisk, deleteDomain, deleteVolume, detectDomainType, importBaseImage,
  qemuLogPath, readDomain, readVolume, serialLogPath, serialTail, waitForAddress,
} from "../../../providers/libvirt/driver";
import { buildStandInGuest } from "../../fixtures/standin-guest/build";
import { parseStandInConsole } from "../../fixtures/standin-guest/console";
import { LOCAL, TestPool, createTestNetwork, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";
import { requireTool, tmpEntries } from "./tools";

const id = runId();
const NODES = ["cp1", "w1", "w2"];
let pool: TestPool | undefined;
let net: { name: string; cidr: string; remove(): Promise<void> } | undefined;
let keyDir: string;
const domains: DomainSpec[] = [];
const userDataDigest: Record<string, string> = {};
const tmpBefore = { cidata: [] as string[], virsh: [] as string[] };

function userDataFor(node: string, pubKey: string): string {
  return `#cloud-config\nhostname: ${node}\nusers:\n- name: kairos\n  ssh_authorized_keys:\n  - ${pubKey}\n`;
}

beforeAll(async () => {
  await ensureLibvirtd();
  requireTool("ssh-keygen");
  tmpBefore.cidata = tmpEntries("kairos-cidata");
  tmpBefore.virsh = tmpEntries("kairos-virsh-");
  const guest = await buildStandInGuest();
  pool = await createTestPool(LOCAL, `${id}-pool`);
  net = await createTestNetwork(LOCAL, `${id}-net`);
  keyDir = fs.mkdtempSync(path.join(pool.dir, "..", `${id}-key-`));
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "id"), "-C", "l2"]);
  const pub = fs.readFileSync(path.join(keyDir, "id.pub"), "utf8").trim();

  const base = physicalName(["test", id, "base"]);
  await importBaseImage(LOCAL, { pool: pool.name, name: base, source: { kind: "file", path: guest.diskImage } });
  const type = await detectDomainType(LOCAL);
  for (const node of NODES) {
    const disk = physicalName(["test", id, node, "disk"]);
    const cidata = physicalName(["test", id, node, "cidata"]);
    const name = physicalName(["test", id, node]);
    await createNodeDisk(LOCAL, { pool: pool.name, name: disk, capacityBytes: 64 * 1024 * 1024, base: { pool: pool.name, name: base } });
    const userData = userDataFor(node, pub);
    userDataDigest[node] = (await createCidataVolume(LOCAL, { pool: pool.name, name: cidata, content: { userData, hostname: node } })).userDataSha256;
    domains.push({
      name, type, firmware: "bios", vcpus: 1, memoryMiB: 256,
      disk: { pool: pool.name, volume: disk, format: "qcow2" },
      cidata: { pool: pool.name, volume: cidata },
      network: net.name, serialLogFile: serialLogPath(name),
      owner: { stack: "test", cluster: id, node },
    });
  }
}, 240_000);

afterAll(async () => {
  for (const d of domains) await deleteDomain(LOCAL, d.name, { serialLogFile: d.serialLogFile }).catch(() => undefined);
  await net?.remove().catch(() => undefined);
  await pool?.remove();
  if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
  expect(await leftovers(LOCAL, id)).toEqual([]);
  for (const d of domains) expect([d.serialLogFile, qemuLogPath(d.name)].filter((f) => fs.existsSync(f))).toEqual([]);
  expect(tmpEntries("kairos-cidata")).toEqual(tmpBefore.cidata);
  expect(tmpEntries("kairos-virsh-")).toEqual(tmpBefore.virsh);
}, 120_000);

describe("three stand-in guests on real libvirt", () => {
  const addresses: Record<string, string> = {};

  test("each domain gets a DHCP address on the test network that the driver discovers", async () => {
    // One guest at a time: three software-emulated guests booting at once on a 2-core runner starve
    // the stand-in's udhcpc (its 2 s select timeout passes before it sees the ACK; see the report).
    // domainType "auto", as KairosCluster asks: on a host whose KVM fails the guest, the first boot
    // falls back to qemu and the others go straight there (test/providers/libvirt/boot.test.ts).
    const found = [];
    for (const d of domains) {
      const { type: _t, ...spec } = d;
      const booted = await bootDomain(LOCAL, spec, { domainType: "auto", addressTimeoutMs: 120_000, log: silentLog });
      found.push(booted.address!);
    }
    const subnet = parseSubnet(net!.cidr)!;
    found.forEach((f, i) => {
      addresses[NODES[i]] = f.address;
      expect(f.source).toBe("lease");
      const n = parseIpv4(f.address)!;
      expect(n > subnet.network + 1 && n < subnet.network + 255).toBe(true);
    });
    expect(new Set(Object.values(addresses)).size).toBe(3);
  }, 400_000);

  test("each serial console reports the digest of its own user-data, and it matches the uploaded text", async () => {
    for (const [i, d] of domains.entries()) {
      const node = NODES[i];
      const report = await retryUntil(
        async () => {
          const r = parseStandInConsole(await serialTail(LOCAL, d.serialLogFile, 400));
          return r.ready ? r : undefined;
        },
        { what: `STANDIN ready on ${d.name}`, timeoutMs: 60_000, intervalMs: 1000, diagnostics: () => serialTail(LOCAL, d.serialLogFile) },
      );
      if (report.errors.length > 0) {
        throw new Error(`${d.name} reported ${JSON.stringify(report.errors)}; its serial console:\n${await serialTail(LOCAL, d.serialLogFile, 80)}`);
      }
      expect(fs.statSync(d.serialLogFile).mode & 0o077).toBe(0); // console output stays root-only
      expect(report.hostname).toBe(node);
      expect(report.userDataSha256).toBe(userDataDigest[node]);
      expect(report.ip).toBe(addresses[node]);
    }
    expect(userDataDigest["cp1"]).toBe(createHash("sha256").update(userDataFor("cp1", fs.readFileSync(path.join(keyDir, "id.pub"), "utf8").trim())).digest("hex"));
    expect(new Set(Object.values(userDataDigest)).size).toBe(3);
  }, 120_000);

  test("the admin user from the user-data can SSH in with its key", async () => {
    requireTool("ssh");
    const r = await run(
      ["ssh", "-i", path.join(keyDir, "id"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", `kairos@${addresses["cp1"]}`, "hostname"],
      { timeoutMs: 30_000 },
    );
    expect(r.stdout.trim()).toBe("cp1");
  }, 60_000);

  test("read reports the domain and its MAC; a domain removed by hand is reported gone, and delete still succeeds", async () => {
    const d = domains[2];
    const info = await readDomain(LOCAL, d.name);
    expect(info).toMatchObject({ name: d.name, state: "running" });
    expect(info!.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    await run(["virsh", "-c", LOCAL.uri, "destroy", d.name]);
    await run(["virsh", "-c", LOCAL.uri, "undefine", d.name]);
    expect(await readDomain(LOCAL, d.name)).toBeUndefined();
    await expect(deleteDomain(LOCAL, d.name)).resolves.toBeUndefined();
  });

  test("the address wait on a domain that is gone ends at once, naming the sources tried and showing the serial console tail", async () => {
    const d = domains[2]; // removed by hand above; its serial log is still on disk
    const started = Date.now();
    const err = await waitForAddress(LOCAL, d.name, { timeoutMs: 60_000, intervalMs: 500, serialLogFile: d.serialLogFile }).catch((e) => e as Error);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`stopped waiting for an IPv4 address for domain '${d.name}' on qemu:///system (tried virsh domifaddr --source lease, --source agent, --source arp)`);
    expect(msg).toContain(`: domain '${d.name}' does not exist`);
    expect(msg).toContain(`last 40 lines of the serial console (${d.serialLogFile}):`);
    expect(msg).toContain("STANDIN user-data sha256=");
  });

  test("delete removes domain, serial log and volumes; deleting again succeeds", async () => {
    const d = domains[0];
    await deleteDomain(LOCAL, d.name, { serialLogFile: d.serialLogFile });
    expect(await readDomain(LOCAL, d.name)).toBeUndefined();
    expect(fs.existsSync(d.serialLogFile)).toBe(false);
    await deleteVolume(LOCAL, pool!.name, d.disk.volume);
    await deleteVolume(LOCAL, pool!.name, d.cidata!.volume);
    expect(await readVolume(LOCAL, pool!.name, d.disk.volume)).toBeUndefined();
    await expect(deleteDomain(LOCAL, d.name, { serialLogFile: d.serialLogFile })).resolves.toBeUndefined();
  });
});
