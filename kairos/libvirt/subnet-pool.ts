/**
 * Choosing a free subnet for a new cluster network from a pool (e.g. 10.213.0.0/16 cut into /24s),
 * given the ranges already in use on the host: its libvirt networks and its own interfaces. Pure;
 * the lock that keeps parallel choosers apart is testing/network-lease.ts.
 */
import { create } from "xmlbuilder2";
import { formatIpv4, parseIpv4 } from "./network";

/** Where ephemeral clusters' networks come from unless told otherwise. */
export const DEFAULT_CIDR_POOL = "10.213.0.0/16";

/** An IPv4 range as numbers: first and last address, inclusive. */
interface Range {
  first: number;
  last: number;
}

/** `a.b.c.d/p` with any host bits (an interface address) to its whole range; undefined when malformed. */
export function cidrRange(cidr: string): Range | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const ip = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const first = (ip & mask) >>> 0;
  return { first, last: (first | (~mask >>> 0)) >>> 0 };
}

/** Why `pool` cannot be cut into `/prefix` subnets, or undefined when it can. */
export function subnetPoolProblem(pool: string, prefix: number): string | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(pool);
  const ip = m ? parseIpv4(m[1]) : undefined;
  if (!m || ip === undefined) return `${JSON.stringify(pool)} is not an IPv4 subnet; expected CIDR form such as "10.213.0.0/16"`;
  const p = Number(m[2]);
  if (p < 8 || p > prefix) return `${JSON.stringify(pool)} cannot hold /${prefix} networks; expected a prefix from /8 to /${prefix}`;
  if (cidrRange(pool)!.first !== ip) return `${JSON.stringify(pool)} has host bits set; expected ${formatIpv4(cidrRange(pool)!.first)}/${p}`;
  return undefined;
}

/** The first `/prefix` subnet of `pool` that overlaps none of `taken` (CIDRs; malformed ones are ignored). */
export function freeSubnet(pool: string, prefix: number, taken: readonly string[]): string | undefined {
  const problem = subnetPoolProblem(pool, prefix);
  if (problem) throw new Error(problem);
  const p = cidrRange(pool)!;
  const used = taken.map(cidrRange).filter((r): r is Range => r !== undefined);
  const size = 2 ** (32 - prefix);
  for (let first = p.first; first + size - 1 <= p.last; first += size) {
    const last = first + size - 1;
    if (!used.some((u) => u.first <= last && first <= u.last)) return `${formatIpv4(first)}/${prefix}`;
  }
  return undefined;
}

/** The IPv4 subnets a libvirt network XML (`virsh net-dumpxml`) puts on its bridge. */
export function networkXmlSubnets(xml: string): string[] {
  const doc = create(xml).end({ format: "object" }) as { network?: { ip?: unknown } };
  const ips = doc.network?.ip === undefined ? [] : Array.isArray(doc.network.ip) ? doc.network.ip : [doc.network.ip];
  const out: string[] = [];
  for (const ip of ips as Array<Record<string, string>>) {
    if ((ip["@family"] ?? "ipv4") !== "ipv4" || !ip["@address"]) continue;
    let prefix = ip["@prefix"] !== undefined ? Number(ip["@prefix"]) : undefined;
    if (prefix === undefined && ip["@netmask"]) {
      const mask = parseIpv4(ip["@netmask"]);
      if (mask !== undefined) prefix = mask.toString(2).replace(/0+$/, "").length;
    }
    out.push(`${ip["@address"]}/${prefix ?? 24}`);
  }
  return out;
}
