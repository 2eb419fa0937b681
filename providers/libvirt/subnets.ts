/** The IPv4 subnets the libvirt host's networks already use (every network, running or not). */
import { networkXmlSubnets } from "../../kairos/libvirt/subnet-pool";
import { Connection, virsh, virshOrMissing } from "./virsh";

export async function libvirtNetworkSubnets(conn: Connection): Promise<string[]> {
  const names = (await virsh(conn, ["net-list", "--all", "--name"])).stdout.split("\n").map((s) => s.trim()).filter(Boolean);
  const out: string[] = [];
  for (const name of names) {
    // A network removed between the listing and here uses nothing any more.
    const r = await virshOrMissing(conn, ["net-dumpxml", name]);
    if (r) out.push(...networkXmlSubnets(r.stdout));
  }
  return out;
}
