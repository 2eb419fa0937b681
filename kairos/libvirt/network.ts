/**
 * Network XML for a cluster-owned libvirt network: NAT or isolated (no `<forward>`), one IPv4
 * subnet with the host at the first address and a DHCP range, a bridge name derived from the
 * network name (Linux caps interface names at 15 characters), and the owner metadata.
 */
import { createHash } from "crypto";
import { create } from "xmlbuilder2";
import { ValidationIssue, assertNoIssues, checkName, checkOneOf, show } from "./issues";
import { OwnerMetadata, appendOwnerMetadata, ownerIssues } from "./metadata";
import type { DhcpHost } from "./addressing";

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export const NETWORK_MODES = ["nat", "isolated"] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export interface NetworkSpec {
  /** Network name (a physicalName). */
  name: string;
  /** `nat` forwards to the host's uplink; `isolated` reaches only the host and the other guests. */
  mode: NetworkMode;
  /** IPv4 subnet in CIDR form, prefix 8..29, e.g. `10.77.0.0/24`. The host takes the first address. */
  cidr: string;
  /** First and last DHCP address. @default - second address to the last before broadcast */
  dhcpRange?: { start: string; end: string };
  /** DHCP reservations (dnsmasq never hands a reserved address to another MAC). @default [] */
  hosts?: readonly DhcpHost[];
  owner: OwnerMetadata;
}

/** `vk` + 10 hex chars of the name's SHA-256: 12 characters, stable, under the 15-character limit. */
export function bridgeNameFor(networkName: string): string {
  return "vk" + createHash("sha256").update(networkName).digest("hex").slice(0, 10);
}

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

export interface Subnet {
  network: number;
  prefix: number;
  gateway: string;
  netmask: string;
  dhcpStart: string;
  dhcpEnd: string;
}

/** Parses `a.b.c.d/p` (host bits must be zero). Returns undefined when malformed. */
export function parseSubnet(cidr: string): Subnet | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const ip = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix < 8 || prefix > 29) return undefined;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  if (((ip & mask) >>> 0) !== ip) return undefined;
  const broadcast = (ip | (~mask >>> 0)) >>> 0;
  return {
    network: ip,
    prefix,
    gateway: formatIpv4(ip + 1),
    netmask: formatIpv4(mask),
    dhcpStart: formatIpv4(ip + 2),
    dhcpEnd: formatIpv4(broadcast - 1),
  };
}

export function networkSpecIssues(spec: NetworkSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkName(issues, "name", spec.name);
  checkOneOf(issues, "mode", spec.mode, NETWORK_MODES);
  const subnet = typeof spec.cidr === "string" ? parseSubnet(spec.cidr) : undefined;
  if (!subnet) {
    issues.push({ path: "cidr", value: show(spec.cidr), expected: "an IPv4 network like 10.77.0.0/24 (prefix 8-29, host bits zero)" });
  } else if (spec.dhcpRange !== undefined) {
    const size = 2 ** (32 - subnet.prefix);
    const inside = (path: string, v: unknown) => {
      const n = typeof v === "string" ? parseIpv4(v) : undefined;
      if (n === undefined || n <= subnet.network + 1 || n >= subnet.network + size - 1) {
        issues.push({ path, value: show(v), expected: `an address inside ${spec.cidr} other than the network, the host (${subnet.gateway}) and broadcast` });
        return undefined;
      }
      return n;
    };
    const s = inside("dhcpRange.start", spec.dhcpRange.start);
    const e = inside("dhcpRange.end", spec.dhcpRange.end);
    if (s !== undefined && e !== undefined && s > e) {
      issues.push({ path: "dhcpRange", value: show(spec.dhcpRange), expected: "start <= end" });
    }
  }
  (spec.hosts ?? []).forEach((h, i) => {
    if (typeof h?.mac !== "string" || !MAC.test(h.mac)) issues.push({ path: `hosts[${i}].mac`, value: show(h?.mac), expected: "a MAC address like 52:54:00:12:34:56 (lower case)" });
    const n = typeof h?.ip === "string" ? parseIpv4(h.ip) : undefined;
    if (!subnet || n === undefined || n <= subnet.network + 1 || n >= subnet.network + 2 ** (32 - subnet.prefix) - 1) {
      issues.push({ path: `hosts[${i}].ip`, value: show(h?.ip), expected: `an address inside ${spec.cidr} other than the network, the host and broadcast` });
    }
    checkName(issues, `hosts[${i}].name`, h?.name);
  });
  for (const key of ["mac", "ip", "name"] as const) {
    const seen = new Set<string>();
    for (const h of spec.hosts ?? []) {
      if (seen.has(h?.[key])) issues.push({ path: `hosts`, value: show(h?.[key]), expected: `each ${key} at most once (dnsmasq refuses duplicate reservations)` });
      seen.add(h?.[key]);
    }
  }
  issues.push(...ownerIssues(spec.owner, "owner"));
  return issues;
}

/** One reservation as libvirt's `<host>` element text (for `virsh net-update ... ip-dhcp-host`). */
export function dhcpHostXml(h: DhcpHost): string {
  return create().ele("host", { mac: h.mac, name: h.name, ip: h.ip }).end({ headless: true });
}

export function buildNetworkXml(spec: NetworkSpec): string {
  assertNoIssues(networkSpecIssues(spec), `network spec for ${show(spec.name)}`);
  const subnet = parseSubnet(spec.cidr)!;
  const n = create().ele("network");
  n.ele("name").txt(spec.name);
  appendOwnerMetadata(n, spec.owner);
  if (spec.mode === "nat") n.ele("forward", { mode: "nat" });
  n.ele("bridge", { name: bridgeNameFor(spec.name), stp: "on", delay: "0" });
  const ip = n.ele("ip", { address: subnet.gateway, netmask: subnet.netmask });
  const dhcp = ip.ele("dhcp");
  dhcp.ele("range", {
    start: spec.dhcpRange?.start ?? subnet.dhcpStart,
    end: spec.dhcpRange?.end ?? subnet.dhcpEnd,
  });
  for (const h of spec.hosts ?? []) dhcp.ele("host", { mac: h.mac, name: h.name, ip: h.ip });
  return n.end({ headless: true, prettyPrint: true });
}
