/**
 * Fixed addresses for a cluster's nodes on a network the cluster owns: a MAC derived from the node's
 * identity (cluster and node name, never the stack, so a stack rename changes nothing) and an IPv4
 * address reserved for that MAC in the network's DHCP, by the node's position in the plan (servers
 * first). A node replaced for any reason comes back with the same MAC, so the same address, and the
 * joining nodes' configs (which name the first server's address) do not change.
 */
import { createHash } from "crypto";
import { formatIpv4, parseSubnet } from "./network";

/** First reserved host offset in the subnet: .1 is the host (gateway), a few spare below the nodes. */
export const FIRST_NODE_OFFSET = 10;

/** `52:54:00` (QEMU's locally administered prefix) + 3 bytes of sha256("<cluster>/<node>"). */
export function nodeMac(cluster: string, node: string): string {
  const h = createHash("sha256").update(`${cluster}/${node}`).digest();
  return ["52", "54", "00", ...[0, 1, 2].map((i) => h[i].toString(16).padStart(2, "0"))].join(":");
}

/** How many nodes fit in `cidr` from FIRST_NODE_OFFSET up (below broadcast); 0 when malformed. */
export function nodeCapacity(cidr: string): number {
  const s = parseSubnet(cidr);
  if (!s) return 0;
  const size = 2 ** (32 - s.prefix);
  return Math.max(0, size - 1 - FIRST_NODE_OFFSET);
}

/** The address reserved for the node at `ordinal` (0 = the first server). Throws past capacity. */
export function nodeAddress(cidr: string, ordinal: number): string {
  const s = parseSubnet(cidr);
  if (!s) throw new Error(`nodeAddress: "${cidr}" is not an IPv4 subnet`);
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= nodeCapacity(cidr)) {
    throw new Error(`nodeAddress: node ${ordinal} does not fit in ${cidr} (room for ${nodeCapacity(cidr)} nodes from .${FIRST_NODE_OFFSET})`);
  }
  return formatIpv4(s.network + FIRST_NODE_OFFSET + ordinal);
}

/** One DHCP reservation: this MAC always gets this address (and the host name, for the lease list). */
export interface DhcpHost {
  mac: string;
  ip: string;
  name: string;
}
