/**
 * Which ephemeral clusters the reaper removes: a pure decision over the owner metadata found on a
 * cluster's libvirt objects. Only clusters marked ephemeral (expiresAt or statePath) are ever
 * candidates; a cluster created without the mark is never reaped, however old.
 */

/** What the decision reads of a cluster (earliest createdAt/expiresAt over its objects). */
export interface ReapFacts {
  createdAt?: string;
  expiresAt?: string;
  statePath?: string;
  stateHost?: string;
}

export type ReapReason = "expired" | "orphaned" | "older-than";

export interface ReapPolicy {
  now: Date;
  /** Also reap ephemeral clusters created at least this long ago (milliseconds). */
  olderThanMs?: number;
  /** Whether the state folder still exists (the reaper's caller checks the local filesystem). */
  stateExists: (path: string) => boolean;
  /** This machine's host name: a state folder is judged only where it was made (`stateHost`). */
  host: string;
}

/** Why `cluster` should be reaped under `policy`, or `undefined` to keep it. */
export function reapReason(cluster: ReapFacts, policy: ReapPolicy): ReapReason | undefined {
  if (cluster.expiresAt === undefined && cluster.statePath === undefined) return undefined;
  const now = policy.now.getTime();
  const at = (iso: string | undefined) => (iso === undefined ? NaN : Date.parse(iso));
  if (at(cluster.expiresAt) <= now) return "expired";
  if (cluster.statePath !== undefined && cluster.stateHost === policy.host && !policy.stateExists(cluster.statePath)) return "orphaned";
  if (policy.olderThanMs !== undefined && at(cluster.createdAt) <= now - policy.olderThanMs) return "older-than";
  return undefined;
}
