/**
 * libvirt networks: use an existing one by name, or create one owned by the cluster (NAT or
 * isolated, DHCP, derived bridge name, autostart off) and destroy + undefine it on delete.
 */
import { NetworkSpec, buildNetworkXml } from "../../kairos/libvirt";
import { Connection, defineAndStart, destroyAndUndefine, parseInfo, virshOrMissing } from "./virsh";

export interface NetworkInfo {
  name: string;
  active: boolean;
  bridge: string;
  autostart: boolean;
  persistent: boolean;
}

export async function readNetwork(conn: Connection, name: string): Promise<NetworkInfo | undefined> {
  const r = await virshOrMissing(conn, ["net-info", name]);
  if (!r) return undefined;
  const i = parseInfo(r.stdout);
  return { name: i["Name"] ?? name, active: i["Active"] === "yes", bridge: i["Bridge"] ?? "", autostart: i["Autostart"] === "yes", persistent: i["Persistent"] === "yes" };
}

/** An existing network the cluster only uses: it must exist and be active. */
export async function requireNetwork(conn: Connection, name: string): Promise<NetworkInfo> {
  const n = await readNetwork(conn, name);
  if (!n) throw new Error(`network '${name}' not found on ${conn.uri}; create it or let the cluster create one`);
  if (!n.active) throw new Error(`network '${name}' on ${conn.uri} is not active; start it with virsh -c ${conn.uri} net-start ${name}`);
  return n;
}

/** Defines and starts the network; if starting fails, undefines it again and rethrows. */
export async function createNetwork(conn: Connection, spec: NetworkSpec): Promise<NetworkInfo> {
  return defineAndStart(conn, {
    noun: "network", name: spec.name, xml: buildNetworkXml(spec), define: "net-define", start: "net-start",
    read: () => readNetwork(conn, spec.name), remove: () => deleteNetwork(conn, spec.name),
  });
}

/** Destroys and undefines; already gone is success. */
export async function deleteNetwork(conn: Connection, name: string): Promise<void> {
  await destroyAndUndefine(conn, "net", name);
}
