import { convert } from "xmlbuilder2";
import {
  DomainSpec, buildDomainXml, buildDirPoolXml, buildNetworkXml, buildVolumeXml, bridgeNameFor, parseSubnet,
} from "../../../kairos/libvirt";
import { METADATA_NAMESPACE } from "../../../kairos/names";

/** Parses XML back into a plain object (attributes as "@name", text as "#") so tests assert meaning. */
function parse(xml: string): any {
  return convert(xml, { format: "object" }) as any;
}
const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const base: DomainSpec = {
  name: "dev-c1-cp1-0a1b2c3d",
  type: "qemu",
  firmware: "bios",
  vcpus: 1,
  memoryMiB: 256,
  disk: { pool: "p", volume: "dev-c1-cp1-disk-11111111" },
  cidata: { pool: "p", volume: "dev-c1-cp1-cidata-22222222" },
  network: "dev-c1-net-33333333",
  serialLogFile: "/var/log/libvirt/qemu/dev-c1-cp1-0a1b2c3d-serial.log",
  owner: { stack: "dev", cluster: "c1", node: "cp1" },
};

describe("buildDomainXml", () => {
  test("a BIOS qemu domain has the node disk first in boot order, cidata read-only on SATA, NIC, serial log, agent channel", () => {
    const d = parse(buildDomainXml(base)).domain;
    expect(d["@type"]).toBe("qemu");
    expect(d.name).toBe(base.name);
    expect(d.memory).toEqual({ "@unit": "MiB", "#": "256" });
    expect(d.vcpu).toBe("1");
    expect(d.os.loader).toBeUndefined();
    expect(d.os.nvram).toBeUndefined();
    expect(d.cpu).toBeUndefined();
    const disks = arr<any>(d.devices.disk);
    expect(disks).toHaveLength(2);
    expect(disks[0]).toMatchObject({
      "@type": "volume", "@device": "disk",
      source: { "@pool": "p", "@volume": base.disk.volume },
      target: { "@dev": "vda", "@bus": "virtio" },
      driver: { "@type": "qcow2" },
      boot: { "@order": "1" },
    });
    expect(disks[1]).toMatchObject({
      "@device": "cdrom", source: { "@volume": base.cidata!.volume }, target: { "@bus": "sata", "@dev": "sda" },
    });
    expect(disks[1]).toHaveProperty("readonly");
    expect(disks[1].boot).toBeUndefined();
    expect(d.devices.interface).toMatchObject({ "@type": "network", source: { "@network": base.network }, model: { "@type": "virtio" } });
    expect(d.devices.serial.log).toEqual({ "@file": base.serialLogFile, "@append": "off" });
    expect(d.devices.channel.target).toEqual({ "@type": "virtio", "@name": "org.qemu.guest_agent.0" });
  });

  test("the metadata element is in the project namespace and names stack, cluster and node", () => {
    const xml = buildDomainXml(base);
    const owner = parse(xml).domain.metadata["kairos:owner"];
    expect(owner["@xmlns:kairos"]).toBe(METADATA_NAMESPACE);
    expect(owner["kairos:stack"]).toBe("dev");
    expect(owner["kairos:cluster"]).toBe("c1");
    expect(owner["kairos:node"]).toBe("cp1");
  });

  test("kvm domains pass the host CPU through", () => {
    const d = parse(buildDomainXml({ ...base, type: "kvm" })).domain;
    expect(d["@type"]).toBe("kvm");
    expect(d.cpu).toEqual({ "@mode": "host-passthrough" });
  });

  test("UEFI uses the OVMF loader as pflash and an nvram made from the template", () => {
    const d = parse(buildDomainXml({ ...base, firmware: "uefi" })).domain;
    expect(d.os.loader).toEqual({ "@readonly": "yes", "@type": "pflash", "#": "/usr/share/OVMF/OVMF_CODE_4M.fd" });
    expect(d.os.nvram).toEqual({ "@template": "/usr/share/OVMF/OVMF_VARS_4M.fd" });
    const custom = parse(buildDomainXml({ ...base, firmware: "uefi", ovmf: { loader: "/x/CODE.fd", nvramTemplate: "/x/VARS.fd" } })).domain;
    expect(custom.os.loader["#"]).toBe("/x/CODE.fd");
  });

  test("ISO-install mode adds the ISO as a second cdrom booted after the disk", () => {
    const d = parse(buildDomainXml({ ...base, installIso: { pool: "p", volume: "kairos-iso" } })).domain;
    const disks = arr<any>(d.devices.disk);
    expect(disks.map((x) => [x.target["@dev"], x.boot?.["@order"]])).toEqual([["vda", "1"], ["sda", undefined], ["sdb", "2"]]);
    expect(d.os.boot).toBeUndefined(); // per-device boot order only
  });

  test("a fixed MAC address is emitted on the NIC", () => {
    const d = parse(buildDomainXml({ ...base, mac: "52:54:00:aa:bb:cc" })).domain;
    expect(d.devices.interface.mac).toEqual({ "@address": "52:54:00:aa:bb:cc" });
  });

  test("names with XML metacharacters cannot be injected", () => {
    expect(() => buildDomainXml({ ...base, name: "x'><evil/>" })).toThrow(/name: "x'><evil\/>" is not valid/);
  });

  test("bad input reports every field with its value and what is accepted", () => {
    const bad = { ...base, type: "xen", firmware: "coreboot", vcpus: 0, memoryMiB: 1.5, serialLogFile: "rel/log", disk: { pool: "", volume: "v" } } as unknown as DomainSpec;
    expect(() => buildDomainXml(bad)).toThrow(
      [
        `invalid domain spec for "dev-c1-cp1-0a1b2c3d":`,
        `  type: "xen" is not valid; expected one of 'kvm', 'qemu'`,
        `  firmware: "coreboot" is not valid; expected one of 'bios', 'uefi'`,
        `  vcpus: 0 is not valid; expected an integer from 1 to 256`,
        `  memoryMiB: 1.5 is not valid; expected an integer from 64 to 4194304 MiB`,
        `  disk.pool: "" is not valid; expected 1-100 characters of [A-Za-z0-9._-], starting with a letter or digit`,
        `  serialLogFile: "rel/log" is not valid; expected an absolute path`,
      ].join("\n"),
    );
  });
});

describe("buildNetworkXml", () => {
  const spec = { name: "dev-c1-net-33333333", mode: "isolated" as const, cidr: "10.77.0.0/24", owner: { stack: "dev", cluster: "c1" } };

  test("an isolated network has no forward element, a derived bridge, the host at .1 and a DHCP range", () => {
    const n = parse(buildNetworkXml(spec)).network;
    expect(n.name).toBe(spec.name);
    expect(n.forward).toBeUndefined();
    expect(n.bridge["@name"]).toBe(bridgeNameFor(spec.name));
    expect(n.bridge["@name"].length).toBeLessThanOrEqual(15);
    expect(n.ip).toMatchObject({ "@address": "10.77.0.1", "@netmask": "255.255.255.0" });
    expect(n.ip.dhcp.range).toEqual({ "@start": "10.77.0.2", "@end": "10.77.0.254" });
    expect(n.metadata["kairos:owner"]["kairos:cluster"]).toBe("c1");
    expect(n.metadata["kairos:owner"]["kairos:node"]).toBeUndefined();
  });

  test("a NAT network forwards and honours an explicit DHCP range", () => {
    const n = parse(buildNetworkXml({ ...spec, mode: "nat", cidr: "192.168.150.0/26", dhcpRange: { start: "192.168.150.10", end: "192.168.150.20" } })).network;
    expect(n.forward).toEqual({ "@mode": "nat" });
    expect(n.ip["@netmask"]).toBe("255.255.255.192");
    expect(n.ip.dhcp.range).toEqual({ "@start": "192.168.150.10", "@end": "192.168.150.20" });
  });

  test.each([
    ["10.77.0.1/24", "cidr"],
    ["10.77.0.0/30", "cidr"],
    ["300.1.1.0/24", "cidr"],
    ["10.77.0.0", "cidr"],
  ])("cidr %s is rejected naming %s", (cidr, field) => {
    expect(() => buildNetworkXml({ ...spec, cidr })).toThrow(new RegExp(`${field}: "${cidr.replace(/\./g, "\\.")}" is not valid; expected an IPv4 network`));
  });

  test("a DHCP range outside the subnet or reversed is rejected", () => {
    expect(() => buildNetworkXml({ ...spec, dhcpRange: { start: "10.77.0.1", end: "10.78.0.5" } })).toThrow(
      /dhcpRange.start: "10.77.0.1" is not valid; expected an address inside 10.77.0.0\/24 other than the network, the host \(10.77.0.1\) and broadcast\n  dhcpRange.end: "10.78.0.5"/,
    );
    expect(() => buildNetworkXml({ ...spec, dhcpRange: { start: "10.77.0.9", end: "10.77.0.3" } })).toThrow(/dhcpRange: .* expected start <= end/);
  });

  test("parseSubnet computes gateway, mask and default range", () => {
    expect(parseSubnet("172.16.0.0/16")).toMatchObject({ gateway: "172.16.0.1", netmask: "255.255.0.0", dhcpStart: "172.16.0.2", dhcpEnd: "172.16.255.254" });
  });
});

describe("buildVolumeXml and buildDirPoolXml", () => {
  test("an overlay names its backing volume path and format", () => {
    const v = parse(buildVolumeXml({ name: "disk1", capacityBytes: 2 ** 30, format: "qcow2", backing: { path: "/pool/base", format: "raw" } })).volume;
    expect(v.capacity).toEqual({ "@unit": "bytes", "#": String(2 ** 30) });
    expect(v.target.format["@type"]).toBe("qcow2");
    expect(v.backingStore).toEqual({ path: "/pool/base", format: { "@type": "raw" } });
  });

  test("an empty disk has no backing store; an ISO is stored raw", () => {
    expect(parse(buildVolumeXml({ name: "d", capacityBytes: 1024, format: "qcow2" })).volume.backingStore).toBeUndefined();
    expect(parse(buildVolumeXml({ name: "i", capacityBytes: 1024, format: "iso" })).volume.target.format["@type"]).toBe("raw");
  });

  test("bad volume input names the fields", () => {
    expect(() => buildVolumeXml({ name: "d", capacityBytes: 0, format: "raw", backing: { path: "x", format: "qcow2" } })).toThrow(
      [
        `invalid volume spec for "d":`,
        `  capacityBytes: 0 is not valid; expected a positive whole number of bytes`,
        `  backing.path: "x" is not valid; expected an absolute path`,
        `  format: "raw" is not valid; expected 'qcow2' for an overlay with a backing volume`,
      ].join("\n"),
    );
  });

  test("a dir pool points at its directory", () => {
    const p = parse(buildDirPoolXml({ name: "pool1", path: "/srv/pool" })).pool;
    expect(p["@type"]).toBe("dir");
    expect(p.target.path).toBe("/srv/pool");
    expect(() => buildDirPoolXml({ name: "pool1", path: "srv" })).toThrow(/path: "srv" is not valid; expected an absolute path/);
  });
});
