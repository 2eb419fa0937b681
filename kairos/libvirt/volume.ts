/**
 * Storage volume and pool XML. A node disk is a qcow2 overlay whose `<backingStore>` is the base
 * volume (never a full copy), or an empty qcow2 for ISO-install mode. Volumes carry no metadata
 * element (libvirt has none for volumes); their physicalName says who owns them.
 */
import { create } from "xmlbuilder2";
import { ValidationIssue, assertNoIssues, checkAbsolutePath, checkName, checkOneOf, show } from "./issues";

export const VOLUME_FORMATS = ["qcow2", "raw", "iso"] as const;
export type VolumeFormat = (typeof VOLUME_FORMATS)[number];

export interface VolumeSpec {
  name: string;
  /** Virtual size, in bytes. */
  capacityBytes: number;
  /** On-disk format. `iso` volumes are stored as `raw`. */
  format: VolumeFormat;
  /** For an overlay: the backing volume's path on the hypervisor host (`virsh vol-path`) and format. */
  backing?: { path: string; format: "qcow2" | "raw" };
}

export function volumeSpecIssues(spec: VolumeSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkName(issues, "name", spec.name);
  if (typeof spec.capacityBytes !== "number" || !Number.isSafeInteger(spec.capacityBytes) || spec.capacityBytes < 1) {
    issues.push({ path: "capacityBytes", value: show(spec.capacityBytes), expected: "a positive whole number of bytes" });
  }
  checkOneOf(issues, "format", spec.format, VOLUME_FORMATS);
  if (spec.backing !== undefined) {
    checkAbsolutePath(issues, "backing.path", spec.backing.path);
    checkOneOf(issues, "backing.format", spec.backing.format, ["qcow2", "raw"]);
    if (spec.format !== "qcow2") issues.push({ path: "format", value: show(spec.format), expected: "'qcow2' for an overlay with a backing volume" });
  }
  return issues;
}

export function buildVolumeXml(spec: VolumeSpec): string {
  assertNoIssues(volumeSpecIssues(spec), `volume spec for ${show(spec.name)}`);
  const v = create().ele("volume");
  v.ele("name").txt(spec.name);
  v.ele("capacity", { unit: "bytes" }).txt(String(spec.capacityBytes));
  v.ele("target").ele("format", { type: spec.format === "iso" ? "raw" : spec.format });
  if (spec.backing) {
    const b = v.ele("backingStore");
    b.ele("path").txt(spec.backing.path);
    b.ele("format", { type: spec.backing.format });
  }
  return v.end({ headless: true, prettyPrint: true });
}

export interface DirPoolSpec {
  name: string;
  /** Directory on the hypervisor host holding the pool's volumes. */
  path: string;
}

export function buildDirPoolXml(spec: DirPoolSpec): string {
  const issues: ValidationIssue[] = [];
  checkName(issues, "name", spec.name);
  checkAbsolutePath(issues, "path", spec.path);
  assertNoIssues(issues, `pool spec for ${show(spec.name)}`);
  const p = create().ele("pool", { type: "dir" });
  p.ele("name").txt(spec.name);
  p.ele("target").ele("path").txt(spec.path);
  return p.end({ headless: true, prettyPrint: true });
}
