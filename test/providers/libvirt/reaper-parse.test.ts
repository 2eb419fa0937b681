/** L0: what the reaper reads from a domain's XML (no libvirt needed). */
import { buildDomainXml } from "../../../kairos/libvirt";
import { domainSources } from "../../../providers/libvirt/reaper";

describe("domainSources", () => {
  test("a domain of ours: node disk, cidata and install ISO volumes, its network and the serial log", () => {
    const xml = buildDomainXml({
      name: "vm", uuid: "0d7e2f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f", type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 256,
      disk: { pool: "p", volume: "disk" }, cidata: { pool: "p", volume: "cidata" }, installIso: { pool: "q", volume: "iso" },
      network: "net", serialLogFile: "/var/log/vm-serial.log", owner: { stack: "s", cluster: "c" },
    });
    expect(domainSources(xml)).toEqual({
      volumes: [{ pool: "p", name: "disk" }, { pool: "p", name: "cidata" }, { pool: "q", name: "iso" }],
      files: [], networks: ["net"], serialLogFile: "/var/log/vm-serial.log", uuid: "0d7e2f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f",
    });
  });

  test("someone else's domain: file disks and the backing chain libvirt shows for a running domain", () => {
    const xml = `<domain><name>x</name><devices>
      <disk type="file" device="disk"><source file="/img/top.qcow2"/>
        <backingStore type="file"><source file="/img/mid.qcow2"/><backingStore type="file"><source file="/img/base.qcow2"/><backingStore/></backingStore></backingStore>
      </disk></devices></domain>`;
    expect(domainSources(xml)).toEqual({ volumes: [], files: ["/img/top.qcow2", "/img/mid.qcow2", "/img/base.qcow2"], networks: [] });
  });
});
