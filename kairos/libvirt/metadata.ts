/**
 * The metadata element stamped on every libvirt object the project creates, in the project's own
 * namespace, so leftovers can be found and swept (`virsh dumpxml` / `net-dumpxml`; volumes carry no
 * metadata in libvirt and are found through the domains that use them).
 */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { METADATA_NAMESPACE } from "../names";
import { ValidationIssue, checkAbsolutePath, checkName, show } from "./issues";

/** Prefix used for the namespaced element; the namespace URI is what identifies it. */
export const METADATA_PREFIX = "kairos";

/** Who owns a libvirt object: the Pulumi stack, the cluster (component name) and the node. */
export interface OwnerMetadata {
  stack: string;
  cluster: string;
  /** Node name; omitted for cluster-wide objects (network, base image). */
  node?: string;
  /** When the object was created: ISO-8601 UTC, e.g. "2026-12-02T11:35:00.000Z". */
  createdAt?: string;
  /** Ephemeral clusters only: when the cluster may be reaped (ISO-8601 UTC). */
  expiresAt?: string;
  /**
   * Ephemeral clusters only: absolute path, on the machine that ran the create, of the folder
   * holding the cluster's state; once it is gone the cluster is orphaned and may be reaped.
   */
  statePath?: string;
  /**
   * The host name of that machine (stamped with statePath): only a reaper running there can tell
   * whether the folder is gone; elsewhere a missing folder proves nothing.
   */
  stateHost?: string;
}

/** The child elements, in document order; `stack` and `cluster` are required. */
const FIELDS = ["stack", "cluster", "node", "createdAt", "expiresAt", "statePath", "stateHost"] as const;

/** ISO-8601 UTC with seconds, as `Date.toISOString()` writes it; `Z` only, so a stamp means the same on every host. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isIsoUtc(value: unknown): value is string {
  return typeof value === "string" && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value));
}

export function checkIsoUtc(issues: ValidationIssue[], path: string, value: unknown): void {
  if (!isIsoUtc(value)) issues.push({ path, value: show(value), expected: 'an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"' });
}

export function ownerIssues(owner: OwnerMetadata | undefined, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!owner) return [{ path, value: "undefined", expected: "an object with stack and cluster" }];
  checkName(issues, `${path}.stack`, owner.stack);
  checkName(issues, `${path}.cluster`, owner.cluster);
  if (owner.node !== undefined) checkName(issues, `${path}.node`, owner.node);
  if (owner.createdAt !== undefined) checkIsoUtc(issues, `${path}.createdAt`, owner.createdAt);
  if (owner.expiresAt !== undefined) checkIsoUtc(issues, `${path}.expiresAt`, owner.expiresAt);
  if (owner.statePath !== undefined) checkAbsolutePath(issues, `${path}.statePath`, owner.statePath);
  if (owner.stateHost !== undefined && !(typeof owner.stateHost === "string" && /^[A-Za-z0-9._-]{1,253}$/.test(owner.stateHost))) {
    issues.push({ path: `${path}.stateHost`, value: show(owner.stateHost), expected: "a host name (letters, digits, '.', '_', '-')" });
  }
  return issues;
}

/** Appends `<metadata><kairos:owner xmlns:kairos=NS><stack/>…</kairos:owner></metadata>` to `parent`. */
export function appendOwnerMetadata(parent: XMLBuilder, owner: OwnerMetadata): void {
  const el = parent.ele("metadata").ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:owner`);
  for (const f of FIELDS) {
    const v = owner[f];
    if (v !== undefined) el.ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:${f}`).txt(v);
  }
}

/**
 * The owner metadata of a domain or network XML (`virsh dumpxml` / `net-dumpxml`): our namespace's
 * `owner` element, whatever prefix libvirt wrote it with. `undefined` when the object has none, or
 * when it lacks stack or cluster (not one of ours, or not readable as such).
 */
export function parseOwnerMetadata(xml: string): OwnerMetadata | undefined {
  let doc: any;
  try {
    doc = (create(xml) as any).node;
  } catch {
    return undefined;
  }
  const owner = doc.getElementsByTagNameNS(METADATA_NAMESPACE, "owner")[0];
  if (!owner) return undefined;
  const out: Record<string, string> = {};
  for (const child of Array.from(owner.childNodes as ArrayLike<any>)) {
    if (child.namespaceURI === METADATA_NAMESPACE && (FIELDS as readonly string[]).includes(child.localName)) out[child.localName] = String(child.textContent ?? "").trim();
  }
  if (!out.stack || !out.cluster) return undefined;
  return out as unknown as OwnerMetadata;
}
