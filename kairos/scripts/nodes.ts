/**
 * Parses `k3s kubectl get nodes --no-headers` and decides readiness. Columns are
 * `NAME STATUS ROLES AGE VERSION`; STATUS may carry extras such as `Ready,SchedulingDisabled`, which
 * is not "Ready" for our purpose (the node takes no work).
 */

export interface NodeStatus {
  name: string;
  /** The STATUS column verbatim, e.g. `Ready`, `NotReady`, `Ready,SchedulingDisabled`. */
  status: string;
  roles: string;
  age: string;
  version: string;
}

/** One node row per non-empty line; a line with fewer than 5 columns is an error naming it. */
export function parseNodes(output: string): NodeStatus[] {
  const rows: NodeStatus[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const cols = line.split(/\s+/);
    if (cols[0] === "NAME" && cols[1] === "STATUS") continue; // tolerate a header after all
    if (cols.length < 5) {
      throw new Error(`unexpected line in 'kubectl get nodes' output: ${JSON.stringify(line)}; expected NAME STATUS ROLES AGE VERSION`);
    }
    const [name, status, roles, age, version] = cols;
    rows.push({ name, status, roles, age, version });
  }
  return rows;
}

/** Whether the kubelet reports Ready, cordoned or not (`Ready,SchedulingDisabled` counts): what a rolling step waits for. */
export function kubeletReady(status: string): boolean {
  return status.split(",")[0] === "Ready";
}

export interface Readiness {
  /** True when every expected node is listed with STATUS exactly `Ready`. */
  ready: boolean;
  /** Expected nodes not listed at all. */
  missing: string[];
  /** Expected nodes listed with another status. */
  notReady: Array<{ name: string; status: string }>;
}

/** Compares parsed nodes to the expected names (extra nodes are ignored). */
export function nodesReadiness(nodes: readonly NodeStatus[], expected: readonly string[]): Readiness {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const missing: string[] = [];
  const notReady: Array<{ name: string; status: string }> = [];
  for (const name of expected) {
    const n = byName.get(name);
    if (!n) missing.push(name);
    else if (n.status !== "Ready") notReady.push({ name, status: n.status });
  }
  return { ready: missing.length === 0 && notReady.length === 0, missing, notReady };
}

/** One line for progress messages: "2/3 Ready; missing: a; not ready: b (NotReady)". */
export function describeReadiness(r: Readiness, expectedCount: number): string {
  const parts = [`${expectedCount - r.missing.length - r.notReady.length}/${expectedCount} Ready`];
  if (r.missing.length) parts.push(`missing: ${r.missing.join(", ")}`);
  if (r.notReady.length) parts.push(`not ready: ${r.notReady.map((n) => `${n.name} (${n.status})`).join(", ")}`);
  return parts.join("; ");
}
