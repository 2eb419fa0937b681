/** L0: the providers' check and diff decisions (no libvirt needed for these paths). */
import { baseImage, cidata, domain, network, nodeDisk, userDataDigest } from "../../../providers/libvirt/impl";
import { physicalName } from "../../../kairos/names";
import { stamp } from "../../../providers/state-schema";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const owner = { uri: "qemu:///system", stack: "dev", cluster: "c1" };

describe("check", () => {
  test("a new resource's name is its owner parts plus a random suffix; the cidata name carries the user-data digest", async () => {
    const disk = await nodeDisk.check({}, { ...owner, node: "cp1", pool: "p", sizeGiB: 8 });
    expect(disk.failures).toEqual([]);
    expect(disk.inputs.name).toMatch(new RegExp(`^${physicalName(["dev", "c1", "cp1", "disk"])}-[0-9a-f]{4}$`));
    expect(disk.inputs.autoNamed).toBe(true);
    const ud = "#cloud-config\nhostname: cp1\n";
    const c = await cidata.check({}, { ...owner, node: "cp1", pool: "p", userData: ud });
    expect(c.inputs.name).toMatch(new RegExp(`^${physicalName(["dev", "c1", "cp1", `cidata-${userDataDigest(ud).slice(0, 12)}`])}-[0-9a-f]{4}$`));
  });

  test("a name is chosen once: later checks keep it (a stack rename renames nothing); a replacement's check without old inputs gets a fresh one", async () => {
    const first = (await domain.check({}, { ...owner, node: "n", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n" })).inputs;
    const renamedStack = (await domain.check(first, { ...owner, stack: "prod", node: "n", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n" })).inputs;
    expect(renamedStack.name).toBe(first.name);
    const fresh = (await domain.check({}, { ...owner, node: "n", vcpus: 1, memoryMiB: 512, pool: "p", diskVolume: "d", network: "n" })).inputs;
    expect(fresh.name).not.toBe(first.name);
    // State written before 0.2 has no autoNamed flag: its name is kept too.
    const legacy = { ...first, name: physicalName(["dev", "c1", "n", "vm"]), autoNamed: undefined };
    expect((await domain.check(legacy, { ...owner, node: "n", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n" })).inputs.name).toBe(legacy.name);
  });

  test("a user's name is kept as given, and replacing such a resource deletes the old one first", async () => {
    const given = (await nodeDisk.check({}, { ...owner, node: "cp1", pool: "p", sizeGiB: 8, name: "my-disk" })).inputs;
    expect(given).toMatchObject({ name: "my-disk", autoNamed: false });
    expect(await nodeDisk.diff("p/my-disk", stamp(given), { ...given, sizeGiB: 9 })).toEqual({ changes: true, replaces: ["sizeGiB"], deleteBeforeReplace: true });
    const auto = (await nodeDisk.check({}, { ...owner, node: "cp1", pool: "p", sizeGiB: 8 })).inputs;
    expect((await nodeDisk.diff("p/x", stamp(auto), { ...auto, sizeGiB: 9 })).deleteBeforeReplace).toBe(false);
  });

  test("unknown values are left for later instead of failing the preview", async () => {
    const c = await cidata.check({}, { ...owner, node: "cp1", pool: "p", userData: UNKNOWN });
    expect(c.failures).toEqual([]);
    expect(c.inputs.name).toBeUndefined();
    const d = await domain.check({}, { ...owner, node: "n", vcpus: UNKNOWN, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n" });
    expect(d.failures).toEqual([]);
  });

  test("bad inputs name the field, the value and what is accepted", async () => {
    expect((await nodeDisk.check({}, { ...owner, node: "cp1", pool: "p", sizeGiB: 0.5 })).failures).toEqual([
      { property: "sizeGiB", reason: "sizeGiB: 0.5 is not valid; expected an integer from 1 to 65536 (GiB)" },
    ]);
    expect((await baseImage.check({}, { ...owner, pool: "p", source: { kind: "url", url: "ftp://x", sha256: "abc" } })).failures).toEqual([
      { property: "source.url", reason: `source.url: "ftp://x" is not valid; expected an http:// or https:// URL` },
      { property: "source.sha256", reason: `source.sha256: "abc" is not valid; expected 64 hex characters` },
    ]);
    expect((await network.check({}, { ...owner, mode: "bridge" })).failures[0]).toEqual({
      property: "mode", reason: `mode: "bridge" is not valid; expected one of 'existing', 'nat', 'isolated'`,
    });
    expect((await domain.check({}, { ...owner, node: "n", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n", firmware: "coreboot" })).failures).toEqual([
      { property: "firmware", reason: "firmware: \"coreboot\" is not valid; expected one of 'bios', 'uefi'" },
    ]);
    expect((await nodeDisk.check({}, { ...owner, uri: "bogus", node: "cp1", pool: "p", sizeGiB: 1 })).failures[0].property).toBe("uri");
  });

  test("the ephemeral mark (expiresAt, statePath) of a network or domain is checked", async () => {
    const vm = { ...owner, node: "n", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "n" };
    expect((await domain.check({}, { ...vm, expiresAt: "2026-12-02T13:00:00Z", statePath: "/tmp/s" })).failures).toEqual([]);
    expect((await domain.check({}, { ...vm, expiresAt: "tomorrow", statePath: "rel/s" })).failures).toEqual([
      { property: "expiresAt", reason: 'expiresAt: "tomorrow" is not valid; expected an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"' },
      { property: "statePath", reason: 'statePath: "rel/s" is not valid; expected an absolute path' },
    ]);
    expect((await network.check({}, { ...owner, mode: "isolated", cidr: "10.77.0.0/24", expiresAt: 5 })).failures).toEqual([
      { property: "expiresAt", reason: 'expiresAt: 5 is not valid; expected an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"' },
    ]);
    expect((await network.check({}, { ...owner, mode: "isolated", cidr: "10.77.0.0/24", expiresAt: UNKNOWN })).failures).toEqual([]);
  });
});

describe("diff", () => {
  test("a URL base image replaces only when its checksum changes; an unknown source replaces", async () => {
    const sha = "a".repeat(64);
    const olds = stamp({ ...owner, pool: "p", name: "b", source: { kind: "url", url: "http://h/x", sha256: sha }, sha256: sha });
    expect((await baseImage.diff("p/b", olds, { ...olds, source: { kind: "url", url: "http://mirror/x", sha256: sha.toUpperCase() } })).changes).toBe(false);
    expect((await baseImage.diff("p/b", olds, { ...olds, source: { kind: "url", url: "http://h/x", sha256: "b".repeat(64) } })).replaces).toEqual(["source"]);
    expect((await baseImage.diff("p/b", olds, { ...olds, source: UNKNOWN })).replaces).toEqual(["source"]);
  });

  test("cidata replaces on changed user-data and compares only digests", async () => {
    const ud = "#cloud-config\n";
    const olds = stamp({ ...owner, node: "n", pool: "p", name: "c", userDataSha256: userDataDigest(ud) });
    expect((await cidata.diff("p/c", olds, { ...olds, userData: ud })).changes).toBe(false);
    expect((await cidata.diff("p/c", olds, { ...olds, userData: ud + "x: 1\n" })).replaces).toEqual(["userData"]);
  });

  test("a domain replaces on another machine (disk, network, MAC) and updates in place for vCPUs, memory, cidata and wait settings", async () => {
    const olds = stamp({ ...owner, node: "n", name: "vm", vcpus: 1, memoryMiB: 256, waitForAddress: true, addressTimeoutSeconds: 300 });
    expect(await domain.diff("vm", olds, { ...olds, addressTimeoutSeconds: 60 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    for (const change of [{ vcpus: 2 }, { memoryMiB: 512 }, { cidataVolume: "c2" }]) {
      expect(await domain.diff("vm", olds, { ...olds, ...change })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    }
    expect((await domain.diff("vm", olds, { ...olds, diskVolume: "d2" })).replaces).toEqual(["diskVolume"]);
    // A fixed MAC cannot be on the network twice: replace deletes the old VM first.
    expect(await domain.diff("vm", olds, { ...olds, network: "n2", mac: "52:54:00:00:00:01", autoNamed: true })).toMatchObject({ deleteBeforeReplace: true });
    // The ephemeral mark is a create-time fact: changing it alone changes nothing.
    const marked = stamp({ ...olds, createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T13:00:00Z", statePath: "/s" });
    expect(await domain.diff("vm", marked, { ...marked, expiresAt: "2026-12-03T13:00:00Z", statePath: "/t" })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    const net = stamp({ ...owner, mode: "isolated", name: "net", cidr: "10.77.0.0/24", expiresAt: "2026-12-02T13:00:00Z" });
    expect((await network.diff("u", net, { ...net, expiresAt: undefined, statePath: "/t" })).changes).toBe(false);
    // Refresh found it stopped: up starts it again.
    expect(await domain.diff("vm", { ...olds, state: "shut off" }, olds)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });
});
