import { cidrRange, freeSubnet, networkXmlSubnets, subnetPoolProblem } from "../../../kairos/libvirt/subnet-pool";

describe("freeSubnet", () => {
  it("takes the first /24 of the pool when nothing is used", () => {
    expect(freeSubnet("10.213.0.0/16", 24, [])).toBe("10.213.0.0/24");
  });

  it("skips every /24 that overlaps a used range, whatever its size or host bits", () => {
    const taken = ["10.213.0.1/24", "10.213.1.0/25", "10.213.2.0/23", "192.168.122.0/24"];
    expect(freeSubnet("10.213.0.0/16", 24, taken)).toBe("10.213.4.0/24");
  });

  it("a used range wider than the pool leaves nothing free", () => {
    expect(freeSubnet("10.213.0.0/16", 24, ["10.0.0.0/8"])).toBeUndefined();
  });

  it("a full pool leaves nothing free", () => {
    expect(freeSubnet("10.213.0.0/23", 24, ["10.213.0.0/24", "10.213.1.0/24"])).toBeUndefined();
  });

  it("ignores malformed used ranges and refuses a malformed pool, naming it", () => {
    expect(freeSubnet("10.213.0.0/16", 24, ["fe80::1/64", "nonsense"])).toBe("10.213.0.0/24");
    expect(() => freeSubnet("10.213.0.1/16", 24, [])).toThrow('"10.213.0.1/16" has host bits set; expected 10.213.0.0/16');
    expect(subnetPoolProblem("10.213.0.0/25", 24)).toBe('"10.213.0.0/25" cannot hold /24 networks; expected a prefix from /8 to /24');
    expect(subnetPoolProblem("pool", 24)).toMatch(/is not an IPv4 subnet/);
  });

  it("cidrRange covers the whole network of an interface address", () => {
    expect(cidrRange("192.168.1.77/24")).toEqual(cidrRange("192.168.1.0/24"));
  });
});

describe("networkXmlSubnets", () => {
  it("reads IPv4 ranges given by prefix or netmask and skips IPv6", () => {
    const xml = `<network><name>n</name><bridge name='virbr9'/>
      <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
      <ip family='ipv6' address='fd00::1' prefix='64'/>
      <ip address='10.9.0.1' prefix='16'/></network>`;
    expect(networkXmlSubnets(xml)).toEqual(["192.168.122.1/24", "10.9.0.1/16"]);
  });

  it("a network without addresses (bridge only) uses none", () => {
    expect(networkXmlSubnets("<network><name>br</name><forward mode='bridge'/><bridge name='br0'/></network>")).toEqual([]);
  });
});
