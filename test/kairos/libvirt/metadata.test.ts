import { buildDomainXml, buildNetworkXml, DomainSpec } from "../../../kairos/libvirt";
import { ownerIssues, parseOwnerMetadata } from "../../../kairos/libvirt/metadata";
import { METADATA_NAMESPACE } from "../../../kairos/names";

const owner = { stack: "dev", cluster: "c1", node: "cp1", createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T13:00:00.000Z", statePath: "/tmp/state/c1", stateHost: "build-7.example.org" };
const domain: DomainSpec = {
  name: "dev-c1-cp1-vm", type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 256,
  disk: { pool: "p", volume: "disk" }, network: "net", serialLogFile: "/var/log/x.log", owner,
};

describe("owner metadata", () => {
  test("a domain's metadata reads back with every field, ephemeral ones included", () => {
    expect(parseOwnerMetadata(buildDomainXml(domain))).toEqual(owner);
  });

  test("a network's metadata reads back without a node; absent fields stay absent", () => {
    const xml = buildNetworkXml({ name: "dev-c1-net", mode: "isolated", cidr: "10.77.0.0/24", owner: { stack: "dev", cluster: "c1" } });
    expect(parseOwnerMetadata(xml)).toEqual({ stack: "dev", cluster: "c1" });
  });

  test("the element is found by namespace, whatever prefix libvirt writes", () => {
    const xml = `<domain><name>x</name><metadata><other xmlns="urn:x">y</other><ns0:owner xmlns:ns0="${METADATA_NAMESPACE}"><ns0:stack>s</ns0:stack><ns0:cluster>c</ns0:cluster><ns0:expiresAt>2026-01-01T00:00:00Z</ns0:expiresAt></ns0:owner></metadata></domain>`;
    expect(parseOwnerMetadata(xml)).toEqual({ stack: "s", cluster: "c", expiresAt: "2026-01-01T00:00:00Z" });
  });

  test("objects without our metadata, or with another namespace's owner, or without stack and cluster, are not ours", () => {
    expect(parseOwnerMetadata("<domain><name>x</name></domain>")).toBeUndefined();
    expect(parseOwnerMetadata(`<domain><metadata><k:owner xmlns:k="urn:other"><k:stack>s</k:stack><k:cluster>c</k:cluster></k:owner></metadata></domain>`)).toBeUndefined();
    expect(parseOwnerMetadata(`<network><metadata><k:owner xmlns:k="${METADATA_NAMESPACE}"><k:stack>s</k:stack></k:owner></metadata></network>`)).toBeUndefined();
    expect(parseOwnerMetadata("not xml <")).toBeUndefined();
  });

  test("ownerIssues names each bad ephemeral field, its value and what is accepted", () => {
    const issues = ownerIssues({ stack: "s", cluster: "c", createdAt: "yesterday", expiresAt: "2026-12-02 11:00", statePath: "state/c1" }, "owner");
    expect(issues).toEqual([
      { path: "owner.createdAt", value: '"yesterday"', expected: 'an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"' },
      { path: "owner.expiresAt", value: '"2026-12-02 11:00"', expected: 'an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"' },
      { path: "owner.statePath", value: '"state/c1"', expected: "an absolute path" },
    ]);
    expect(ownerIssues(owner, "owner")).toEqual([]);
  });

  test("a timestamp with an offset other than Z, or an impossible date, is refused", () => {
    expect(ownerIssues({ stack: "s", cluster: "c", expiresAt: "2026-12-02T11:00:00+01:00" }, "o")).toHaveLength(1);
    expect(ownerIssues({ stack: "s", cluster: "c", expiresAt: "2026-13-40T11:00:00Z" }, "o")).toHaveLength(1);
  });
});
