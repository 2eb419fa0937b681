/**
 * libvirt networks: use an existing one by name, or create one owned by the cluster (NAT or
 * isolated, DHCP, derived bridge name, autostart off) and destroy + undefine it on delete.
 */
import { NetworkSpec, buildNetworkXml } from "../../kairos/libvirt";
import { Connection, isNotFound, parseInfo, virsh, virshOrMissing, virshWithXml } from "./virsh";

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
  const xml = buildNetworkXml(spec);
  if (await readNetwork(conn, spec.name)) throw new Error(`network '${spec.name}' already exists on ${conn.uri}; delete it or choose another name`);
  await virshWithXml(conn, "net-define", xml);
  try {
    await virsh(conn, ["net-start", spec.name]);
    const n = await readNetwork(conn, spec.name);
    if (!n) throw new Error(`network '${spec.name}' vanished right after net-start`);
    return n;
  } catch (e) {
    await deleteNetwork(conn, spec.name).catch(() => undefined);
    throw e;
  }
}

/** Destroys and undefines; already gone is success. */
export async function deleteNetwork(conn: Connection, name: string): Promise<void> {
  try {
    await virsh(conn, ["net-destroy", name]);
  } catch (e) {
    if (isNotFound(e)) return;
    if (!/not active/i.test((e as { stderr?: string }).stderr ?? "")) throw e;
  }
  await virshOrMissing(conn, ["net-undefine", name]);
}
