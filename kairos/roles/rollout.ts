/**
 * The order in which a change that reboots or replaces nodes goes through a cluster: servers first,
 * one at a time (one server down at a time never takes embedded etcd below quorum for 3 or more;
 * a single server is the whole control plane either way), then agents, `maxUnavailable` at a time.
 * Expressed as what each node waits for, so the engine's dependency order does the rolling: a node
 * starts only when the nodes it waits for are done, and a failure stops everything after it.
 */

export interface RolloutNode {
  name: string;
  /** `server` (control plane) or `agent`; p2p nodes roll as servers (roles are elected). */
  group: "server" | "agent";
}

/**
 * For each node (by name), the node it must wait for: the previous server for a server; for the
 * agent in position i, the agent in position i - maxUnavailable, or the last server.
 */
export function rolloutPredecessors(nodes: readonly RolloutNode[], maxUnavailable = 1): Map<string, string | undefined> {
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) throw new Error(`maxUnavailable: ${maxUnavailable} is not valid; expected a whole number >= 1`);
  const servers = nodes.filter((n) => n.group === "server");
  const agents = nodes.filter((n) => n.group === "agent");
  const out = new Map<string, string | undefined>();
  servers.forEach((n, i) => out.set(n.name, i === 0 ? undefined : servers[i - 1].name));
  const lastServer = servers.length ? servers[servers.length - 1].name : undefined;
  agents.forEach((n, i) => out.set(n.name, i < maxUnavailable ? lastServer : agents[i - maxUnavailable].name));
  return out;
}
