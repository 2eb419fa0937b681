/**
 * libvirt networks: use an existing one by name, or create one owned by the cluster (NAT or
 * isolated, DHCP, derived bridge name, autostart off) and destroy + undefine it on delete.
 */
import { DhcpHost, NetworkSpec, buildNetworkXml, dhcpHostXml } from "../../kairos/libvirt";
import { Connection, defineAndStart, destroyAndUndefine, parseInfo, virsh, virshOrMissing } from "./virsh";

export interface NetworkInfo {
  name: string;
  uuid: string;
  active: boolean;
  bridge: string;
  autostart: boolean;
  persistent: boolean;
}

/** The network by name or UUID; `undefined` only when libvirt says it does not exist. */
export async function readNetwork(conn: Connection, ref: string): Promise<NetworkInfo | undefined> {
  const r = await virshOrMissing(conn, ["net-info", ref]);
  if (!r) return undefined;
  const i = parseInfo(r.stdout);
  return {
    name: i["Name"] ?? ref, uuid: i["UUID"] ?? "", active: i["Active"] === "yes", bridge: i["Bridge"] ?? "",
    autostart: i["Autostart"] === "yes", persistent: i["Persistent"] === "yes",
  };
}

/** Starts a defined network that is not running (found stopped by a refresh). */
export async function startNetwork(conn: Connection, ref: string): Promise<void> {
  await virsh(conn, ["net-start", ref]);
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

/**
 * Changes a network's DHCP reservations in place (running and persistent config): removes
 * `remove`, then adds `add` (`virsh net-update ... ip-dhcp-host`). Guests keep their leases; a
 * reservation applies at the guest's next DHCP request.
 */
export async function updateDhcpHosts(conn: Connection, ref: string, change: { add: readonly DhcpHost[]; remove: readonly DhcpHost[] }): Promise<void> {
  const n = await readNetwork(conn, ref);
  if (!n) throw new Error(`network '${ref}' not found on ${conn.uri}; it was removed outside Pulumi (pulumi refresh, then pulumi up, recreates it)`);
  const scope = n.active ? ["--live", "--config"] : ["--config"];
  for (const h of change.remove) await virsh(conn, ["net-update", ref, "delete", "ip-dhcp-host", dhcpHostXml(h), ...scope]);
  for (const h of change.add) await virsh(conn, ["net-update", ref, "add", "ip-dhcp-host", dhcpHostXml(h), ...scope]);
}

/** Destroys and undefines the network `ref` (name or UUID); already gone is success. */
export async function deleteNetwork(conn: Connection, ref: string): Promise<void> {
  await destroyAndUndefine(conn, "net", ref);
}
