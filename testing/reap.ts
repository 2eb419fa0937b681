/**
 * `reap`: removes the libvirt objects of ephemeral clusters that are expired (their expiresAt has
 * passed) or orphaned (their statePath folder is gone), and with `olderThanSeconds` also those
 * created longer ago than that. Only clusters created with the ephemeral mark are ever removed;
 * the decision is kairos/libvirt/reap.ts, the effects providers/libvirt/reaper.ts.
 */
import * as fs from "fs";
import * as os from "os";
import { reapReason, type ReapReason } from "../kairos/libvirt/reap";
import { findOwnedClusters, removeOwnedCluster, type OwnedCluster, type OwnerFilter, type ReapObject } from "../providers/libvirt/reaper";

export type { ReapReason, ReapObject, OwnerFilter };

export interface ReapOptions {
  /** libvirt URI. @default "qemu:///system" */
  uri?: string;
  /** List what would be removed, remove nothing. @default false */
  dryRun?: boolean;
  /** Also reap ephemeral clusters created at least this many seconds ago. @default - only expired and orphaned */
  olderThanSeconds?: number;
  /** The time to judge expiry against. @default new Date() */
  now?: Date;
  /** One line per cluster decision and per object removed. @default - silent */
  log?: (line: string) => void;
  /**
   * Restricts the reaper to the owners it accepts. For tests and scripts sharing a host with other
   * clusters. @default - every owner
   */
  filter?: OwnerFilter;
}

export interface ReapedCluster {
  stack: string;
  cluster: string;
  reason: ReapReason;
  createdAt?: string;
  expiresAt?: string;
  /** What was removed (in a dry run: would be), in removal order; after an error, what went before it. */
  objects: ReapObject[];
  /** Why removing this cluster failed; the other clusters are still reaped. */
  error?: string;
}

export interface ReapReport {
  dryRun: boolean;
  reaped: ReapedCluster[];
  /** Clusters found and left alone: live ephemeral ones, and every cluster without the ephemeral mark. */
  kept: { stack: string; cluster: string }[];
}

/** Finds the project's clusters on `uri` and removes those that are due; see {@link ReapOptions}. */
export async function reap(options: ReapOptions = {}): Promise<ReapReport> {
  const conn = { uri: options.uri ?? "qemu:///system" };
  const now = options.now ?? new Date();
  const log = options.log ?? (() => undefined);
  if (options.olderThanSeconds !== undefined && !(Number.isFinite(options.olderThanSeconds) && options.olderThanSeconds >= 0)) {
    throw new Error(`olderThanSeconds: ${JSON.stringify(options.olderThanSeconds)} is not valid; expected a number of seconds >= 0`);
  }
  const policy = {
    now,
    olderThanMs: options.olderThanSeconds === undefined ? undefined : options.olderThanSeconds * 1000,
    stateExists: (p: string) => fs.existsSync(p),
    host: os.hostname(),
  };
  const report: ReapReport = { dryRun: options.dryRun === true, reaped: [], kept: [] };
  const due = (c: OwnedCluster) => reapReason(c, policy) !== undefined;
  for (const c of await findOwnedClusters(conn, { filter: options.filter, withVolumes: due })) {
    const reason = reapReason(c, policy);
    if (!reason) {
      report.kept.push({ stack: c.stack, cluster: c.cluster });
      continue;
    }
    log(`${options.dryRun ? "would reap" : "reaping"} ${c.stack}/${c.cluster} (${reason})`);
    const entry: ReapedCluster = {
      stack: c.stack, cluster: c.cluster, reason, objects: [],
      ...(c.createdAt ? { createdAt: c.createdAt } : {}), ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
    };
    try {
      entry.objects = await removeOwnedCluster(conn, c, { dryRun: options.dryRun, log, onRemoved: (o) => entry.objects.push(o) });
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
      log(`failed to reap ${c.stack}/${c.cluster}: ${entry.error}`);
    }
    report.reaped.push(entry);
  }
  return report;
}
