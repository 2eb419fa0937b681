/**
 * L3: each libvirt dynamic provider as `pulumi up` runs it. The provider text Pulumi serialized under
 * mocks is loaded by Pulumi's own dynamic-provider host in a fresh node process and driven over gRPC
 * against the real libvirtd: check, create, read, diff, delete, for network, base image, node disk,
 * cidata volume and a domain that boots the stand-in guest (test fixture, not Kairos).
 */
import * as fs from "fs";
import * as path from "path";
import { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "../../../providers/libvirt/resources";
import { readDomain, readNetwork, readVolume, serialTail } from "../../../providers/libvirt/driver";
import { run } from "../../../providers/exec";
import { buildStandInGuest } from "../../fixtures/standin-guest/build";
import { parseStandInConsole } from "../../fixtures/standin-guest/console";
import {
  CapturedResource, DynamicProviderHost, PropertyMap, allStrings, captureResources, isSecret, privateTempDir, reveal, secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";
import { tmpEntries } from "./tools";

const T = (t: string) => `pulumi-nodejs:dynamic/kairos-libvirt:${t}`;
const id = runId();
const USER_DATA = `#cloud-config\nhostname: l3node\nusers:\n- name: kairos\n  passwd: l3-Secret-Passw0rd\n`;

let pool: TestPool;
let host: DynamicProviderHost | undefined;
const scratch = privateTempDir("kairos-l3-libvirt-");
let captured: Record<string, CapturedResource> = {};
let guestDisk: string;
/** Created resources, deleted in reverse order in afterAll whatever happens. */
const created: { type: string; id: string; props: PropertyMap }[] = [];
/** A random 10.214.x.0/24 (and its neighbour for the replace case), so concurrent runs don't share a subnet. */
const octet = 1 + (Number(process.hrtime.bigint() % 250n));
const cidr = `10.214.${octet}.0/24`;
const otherCidr = `10.214.${(octet % 250) + 1}.0/24`;

beforeAll(async () => {
  await ensureLibvirtd();
  guestDisk = (await buildStandInGuest()).diskImage;
  pool = await createTestPool(LOCAL, `${id}-pool`);
  const common = { uri: LOCAL.uri, stack: "l3", cluster: id };
  const all = await captureResources(() => {
    new Network("net", { ...common, mode: "isolated", cidr });
    new BaseImageVolume("base", { ...common, pool: pool.name, source: { kind: "file", path: guestDisk } });
    new NodeDisk("disk", { ...common, node: "n1", pool: pool.name, sizeGiB: 1, baseVolume: "set-by-test" });
    new CidataVolume("cidata", { ...common, node: "n1", pool: pool.name, userData: USER_DATA });
    new Domain("vm", { ...common, node: "n1", domainType: "qemu", vcpus: 1, memoryMiB: 256, pool: pool.name, diskVolume: "set-by-test", network: "set-by-test", addressTimeoutSeconds: 120 });
  }, { until: (r) => r.type === T("Domain"), timeoutMs: 90_000 });
  for (const r of all) captured[r.type.split(":").pop()!] = r;
  host = await startDynamicProviderHost({ env: { HOME: scratch.dir, TMPDIR: scratch.dir }, callTimeoutMs: 180_000 });
}, 240_000);

afterAll(async () => {
  for (const r of created.reverse()) await host?.delete(r.type, r.id, r.props).catch(() => undefined);
  await host?.stop();
  await pool?.remove();
  scratch.remove();
  expect(await leftovers(LOCAL, id)).toEqual([]);
}, 240_000);

async function checkAndCreate(type: string, inputs: PropertyMap): Promise<{ id: string; props: PropertyMap; inputs: PropertyMap }> {
  const checked = await host!.check(T(type), {}, inputs);
  expect(checked.failures).toEqual([]);
  const r = await host!.create(T(type), checked.inputs);
  created.push({ type: T(type), id: r.id, props: r.properties });
  return { id: r.id, props: r.properties, inputs: checked.inputs };
}

describe("libvirt providers through Pulumi's dynamic-provider host (L3, real libvirtd)", () => {
  const ctx: Record<string, { id: string; props: PropertyMap; inputs: PropertyMap }> = {};

  test("every provider serializes small, without inlining the driver", () => {
    for (const t of ["Network", "BaseImageVolume", "NodeDisk", "CidataVolume", "Domain"]) {
      const c = captured[t];
      expect(c).toBeDefined();
      expect(Buffer.byteLength(c.provider)).toBeLessThan(200 * 1024);
      expect(c.provider).not.toContain("virshWithXml");
    }
    expect(isSecret(captured.CidataVolume.inputs.userData)).toBe(true);
  });

  test("check names bad fields in the fresh host", async () => {
    const bad = await host!.check(T("Domain"), {}, { ...captured.Domain.inputs, vcpus: 0, domainType: "xen" });
    expect(bad.failures).toEqual([
      { property: "domainType", reason: `domainType: "xen" is not valid; expected one of 'auto', 'kvm', 'qemu'` },
    ]);
    const bad2 = await host!.check(T("Domain"), {}, { ...captured.Domain.inputs, vcpus: 0 });
    expect(bad2.failures).toEqual([{ property: "vcpus", reason: "vcpus: 0 is not valid; expected an integer from 1 to 256" }]);
    const net = await host!.check(T("Network"), {}, { ...captured.Network.inputs, cidr: "10.0.0.1/24" });
    expect(net.failures.map((f) => f.property)).toEqual(["cidr"]);
    const cd = await host!.check(T("CidataVolume"), {}, { ...captured.CidataVolume.inputs, userData: secret("not a cloud-config") });
    expect(cd.failures).toEqual([{ property: "userData", reason: "userData: <secret> is not valid; expected cloud-config text whose first line is #cloud-config" }]);
  });

  test("Network: created isolated, read back, a changed cidr replaces it", async () => {
    ctx.net = await checkAndCreate("Network", captured.Network.inputs);
    expect(ctx.net.props.name).toMatch(/^l3-kt.*-net-[0-9a-f]{8}-[0-9a-f]{4}$/);
    expect(ctx.net.id).toMatch(/^[0-9a-f-]{36}$/); // the libvirt UUID
    expect(ctx.net.props.uuid).toBe(ctx.net.id);
    expect((await readNetwork(LOCAL, ctx.net.id))?.active).toBe(true);
    const read = await host!.read(T("Network"), ctx.net.id, ctx.net.props);
    expect(read.id).toBe(ctx.net.id);
    const diff = await host!.diff(T("Network"), ctx.net.id, ctx.net.props, { ...ctx.net.inputs, cidr: otherCidr });
    expect(diff.replaces).toEqual(["cidr"]);
  });

  test("Network in existing mode: checked, reported not owned, and never deleted", async () => {
    const { cidr: _cidr, ...rest } = captured.Network.inputs; // keeps __provider, the code the host loads
    const inputs = { ...rest, mode: "existing", name: ctx.net.props.name };
    const checked = await host!.check(T("Network"), {}, inputs);
    expect(checked.failures).toEqual([]);
    const r = await host!.create(T("Network"), checked.inputs);
    expect(r.properties.owned).toBe(false);
    await host!.delete(T("Network"), r.id, r.properties);
    expect((await readNetwork(LOCAL, ctx.net.id))?.active).toBe(true);
    const missing = await host!.create(T("Network"), { ...checked.inputs, name: `${id}-nonet` }).catch((e: Error) => e);
    expect(String(missing)).toContain(`network '${id}-nonet' not found on qemu:///system; create it or let the cluster create one`);
  });

  test("BaseImageVolume: uploaded once; the same file diffs to no change, another file replaces", async () => {
    ctx.base = await checkAndCreate("BaseImageVolume", captured.BaseImageVolume.inputs);
    expect(ctx.base.props.format).toBe("raw");
    expect(ctx.base.props.sha256).toMatch(/^[0-9a-f]{64}$/);
    const same = await host!.diff(T("BaseImageVolume"), ctx.base.id, ctx.base.props, ctx.base.inputs);
    expect(same.changes).toBe("none");
    const other = path.join(scratch.dir, "other.raw");
    fs.writeFileSync(other, Buffer.alloc(1024 * 1024, 1));
    const changed = await host!.diff(T("BaseImageVolume"), ctx.base.id, ctx.base.props, { ...ctx.base.inputs, source: { kind: "file", path: other } });
    expect(changed.replaces).toEqual(["source"]);
  });

  test("NodeDisk: an overlay of the base", async () => {
    ctx.disk = await checkAndCreate("NodeDisk", { ...captured.NodeDisk.inputs, baseVolume: ctx.base.props.name });
    expect(ctx.disk.props.backingPath).toBe(ctx.base.props.path);
    expect(ctx.disk.props.capacityBytes).toBe(1024 ** 3);
    // A rebuild digest first seen (state from before it existed) is recorded, never a rebuild; a changed one rebuilds.
    const first = { ...ctx.disk.inputs, rebuildDigest: "t1" };
    expect(await host!.diff(T("NodeDisk"), ctx.disk.id, ctx.disk.props, first)).toMatchObject({ changes: "some", replaces: [] });
    const recorded = await host!.update(T("NodeDisk"), ctx.disk.id, ctx.disk.props, first);
    expect(recorded.rebuildDigest).toBe("t1");
    expect((await host!.diff(T("NodeDisk"), ctx.disk.id, recorded, first)).changes).toBe("none");
    expect((await host!.diff(T("NodeDisk"), ctx.disk.id, recorded, { ...first, rebuildDigest: "t2" })).replaces).toEqual(["rebuildDigest"]);
    expect(await readVolume(LOCAL, pool.name, String(ctx.disk.props.name))).toBeDefined();
  });

  test("CidataVolume: content-addressed name, digest output, no user-data in outputs or host logs", async () => {
    ctx.cidata = await checkAndCreate("CidataVolume", captured.CidataVolume.inputs);
    expect(ctx.cidata.props.name).toMatch(/-cidata-[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}$/);
    expect(ctx.cidata.props.userData).toBeUndefined();
    expect(allStrings(ctx.cidata.props).join("\n")).not.toContain("l3-Secret-Passw0rd");
    const diff = await host!.diff(T("CidataVolume"), ctx.cidata.id, ctx.cidata.props, { ...ctx.cidata.inputs, userData: USER_DATA + "# changed\n" });
    expect(diff.replaces).toEqual(["userData"]);
    const same = await host!.diff(T("CidataVolume"), ctx.cidata.id, ctx.cidata.props, { ...ctx.cidata.inputs, userData: USER_DATA });
    expect(same.changes).toBe("none");
    expect(host!.output()).not.toContain("l3-Secret-Passw0rd");
    expect(fs.readdirSync(scratch.dir).filter((n) => n.startsWith("kairos-cidata"))).toEqual([]);
  });

  test("Domain: boots the stand-in guest, waits for its address, and reads gone after removal by hand", async () => {
    ctx.vm = await checkAndCreate("Domain", {
      ...captured.Domain.inputs, diskVolume: ctx.disk.props.name, cidataVolume: ctx.cidata.props.name, network: ctx.net.props.name,
    });
    expect(ctx.vm.id).toMatch(/^[0-9a-f-]{36}$/); // the libvirt UUID
    expect(ctx.vm.props.uuid).toBe(ctx.vm.id);
    expect(ctx.vm.props.resolvedDomainType).toBe("qemu");
    expect(ctx.vm.props.addressSource).toBe("lease");
    expect(String(ctx.vm.props.address)).toMatch(new RegExp(`^10\\.214\\.${octet}\\.\\d+$`));
    expect(ctx.vm.props.macAddress).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    const report = parseStandInConsole(await serialTail(LOCAL, String(ctx.vm.props.serialLogFile), 400));
    expect(report.userDataSha256).toBe(ctx.cidata.props.userDataSha256);
    const read = await host!.read(T("Domain"), ctx.vm.id, ctx.vm.props);
    expect(read.id).toBe(ctx.vm.id);
    expect(read.properties.state).toBe("running");
    const diff = await host!.diff(T("Domain"), ctx.vm.id, ctx.vm.props, { ...ctx.vm.inputs, memoryMiB: 512 });
    expect(diff).toMatchObject({ changes: "some", replaces: [] }); // in place: redefined, power-cycled by NodeConfig
    const other = await host!.diff(T("Domain"), ctx.vm.id, ctx.vm.props, { ...ctx.vm.inputs, diskVolume: "another-disk" });
    expect(other.replaces).toEqual(["diskVolume"]);
    // Stopped by hand: refresh reports it, and the next up (an update) starts it again.
    await run(["virsh", "-c", LOCAL.uri, "destroy", ctx.vm.id]);
    const stopped = await host!.read(T("Domain"), ctx.vm.id, ctx.vm.props);
    expect(stopped.properties.state).toBe("shut off");
    expect(await host!.diff(T("Domain"), ctx.vm.id, stopped.properties, ctx.vm.inputs)).toMatchObject({ changes: "some", replaces: [] });
    const started = await host!.update(T("Domain"), ctx.vm.id, stopped.properties, ctx.vm.inputs);
    expect((await readDomain(LOCAL, ctx.vm.id))?.state).toBe("running");
    expect((await host!.diff(T("Domain"), ctx.vm.id, started, ctx.vm.inputs)).changes).toBe("none");
    await run(["virsh", "-c", LOCAL.uri, "destroy", ctx.vm.id]);
    await run(["virsh", "-c", LOCAL.uri, "undefine", ctx.vm.id]);
    const gone = await host!.read(T("Domain"), ctx.vm.id, ctx.vm.props);
    expect(gone.id).toBe("");
  }, 200_000);

  test("Domain: a create whose address wait times out removes the domain it made and reports the console tail", async () => {
    const inputs = { ...ctx.vm.inputs, addressTimeoutSeconds: 2 };
    const err = await host!.create(T("Domain"), inputs).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`timed out waiting for an IPv4 address for domain '${ctx.vm.props.name}' on qemu:///system (tried virsh domifaddr --source lease, --source agent, --source arp)`);
    expect(msg).toContain(`last 40 lines of the serial console (/var/log/libvirt/qemu/${ctx.vm.props.name}-serial.log):`);
    expect(await readDomain(LOCAL, String(ctx.vm.props.name))).toBeUndefined();
    expect(fs.existsSync(String(ctx.vm.props.serialLogFile))).toBe(false);
  }, 60_000);

  test("Network: stopped by hand, refresh reports it inactive and the next up starts it", async () => {
    await run(["virsh", "-c", LOCAL.uri, "net-destroy", ctx.net.id]);
    const read = await host!.read(T("Network"), ctx.net.id, ctx.net.props);
    expect(read.properties.active).toBe(false);
    expect(await host!.diff(T("Network"), ctx.net.id, read.properties, ctx.net.inputs)).toMatchObject({ changes: "some", replaces: [] });
    const outs = await host!.update(T("Network"), ctx.net.id, read.properties, ctx.net.inputs);
    expect((await readNetwork(LOCAL, ctx.net.id))?.active).toBe(true);
    expect((await host!.diff(T("Network"), ctx.net.id, outs, ctx.net.inputs)).changes).toBe("none");
  });

  test("delete is idempotent for every provider and leaves no object, serial log or temp file", async () => {
    const before = tmpEntries("kairos-");
    for (const r of [...created].reverse()) {
      await host!.delete(r.type, r.id, r.props);
      await host!.delete(r.type, r.id, r.props); // already gone = success
    }
    created.length = 0;
    expect(await readDomain(LOCAL, String(ctx.vm.props.name))).toBeUndefined();
    expect(fs.existsSync(String(ctx.vm.props.serialLogFile))).toBe(false);
    for (const k of ["base", "disk", "cidata"]) expect(await readVolume(LOCAL, pool.name, String(ctx[k].props.name))).toBeUndefined();
    expect(await readNetwork(LOCAL, ctx.net.id)).toBeUndefined();
    expect(tmpEntries("kairos-").filter((n) => !before.includes(n) && !n.startsWith("kairos-l3-"))).toEqual([]);
    expect(reveal(captured.CidataVolume.inputs.userData)).toBe(USER_DATA);
  }, 120_000);
});
