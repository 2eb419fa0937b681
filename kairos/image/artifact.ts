/** Artifacts as outputs, and their mapping to `KairosCluster.image`. */
import type { ArtifactKind } from "./spec";

/** One built file. */
export interface ArtifactInfo {
  kind: ArtifactKind;
  /** Absolute path on the machine that ran the build. */
  path: string;
  /** Bytes. */
  size: number;
  /** sha256 hex of the file. */
  sha256: string;
}

/** The shape `KairosCluster.image` accepts: a disk to clone/overlay, or an ISO to install from. */
export interface ClusterImageRef {
  kind: "disk" | "iso";
  path: string;
  format: "qcow2" | "raw" | "iso";
}

/** qcow2/raw -> boot mode `disk`, iso -> boot mode `iso`. */
export function clusterImageFor(artifact: Pick<ArtifactInfo, "kind" | "path">): ClusterImageRef {
  switch (artifact.kind) {
    case "iso":
      return { kind: "iso", path: artifact.path, format: "iso" };
    case "qcow2":
      return { kind: "disk", path: artifact.path, format: "qcow2" };
    case "raw-efi":
    case "raw-bios":
      return { kind: "disk", path: artifact.path, format: "raw" };
  }
}
