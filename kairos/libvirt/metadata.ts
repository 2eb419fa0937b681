/**
 * The metadata element stamped on every libvirt object the project creates, in the project's own
 * namespace, so leftovers can be found and swept (`virsh dumpxml` / `net-dumpxml`).
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { METADATA_NAMESPACE } from "../names";
import { ValidationIssue, checkName } from "./issues";

/** Prefix used for the namespaced element; the namespace URI is what identifies it. */
export const METADATA_PREFIX = "kairos";

/** Who owns a libvirt object: the Pulumi stack, the cluster (component name) and the node. */
export interface OwnerMetadata {
  stack: string;
  cluster: string;
  /** Node name; omitted for cluster-wide objects (network, base image). */
  node?: string;
}

export function ownerIssues(owner: OwnerMetadata | undefined, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!owner) return [{ path, value: "undefined", expected: "an object with stack and cluster" }];
  checkName(issues, `${path}.stack`, owner.stack);
  checkName(issues, `${path}.cluster`, owner.cluster);
  if (owner.node !== undefined) checkName(issues, `${path}.node`, owner.node);
  return issues;
}

/** Appends `<metadata><kairos:owner xmlns:kairos=NS><stack/>…</kairos:owner></metadata>` to `parent`. */
export function appendOwnerMetadata(parent: XMLBuilder, owner: OwnerMetadata): void {
  const el = parent.ele("metadata").ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:owner`);
  el.ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:stack`).txt(owner.stack);
  el.ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:cluster`).txt(owner.cluster);
  if (owner.node !== undefined) el.ele(METADATA_NAMESPACE, `${METADATA_PREFIX}:node`).txt(owner.node);
}
