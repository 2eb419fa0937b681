/**
 * The content key that decides whether anything is rebuilt: sha256 over every input that changes
 * the bytes of the image or its artifacts. Secrets enter only as digests.
 */
import { createHash } from "crypto";
import type { ImageSpec } from "./spec";

export interface ContentKeyInput {
  dockerfile: string;
  spec: ImageSpec;
  /** sha256 hex of the embedded cloud-config, or undefined. */
  cloudConfigDigest?: string;
  /** Target repository when pushing, or undefined. */
  pushRef?: string;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Stable JSON: keys sorted, so reordering an object never changes the key. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v as object).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export function contentKey(i: ContentKeyInput): string {
  return sha256Hex(stable({
    v: 1,
    dockerfile: i.dockerfile,
    kairosInitImage: i.spec.kairosInitImage,
    auroraBootImage: i.spec.auroraBootImage,
    cloudConfig: i.cloudConfigDigest ?? null,
    artifacts: i.spec.artifacts,
    diskSizeMiB: i.spec.diskSizeMiB ?? null,
    qcow2Source: i.spec.qcow2Source,
    arch: i.spec.arch,
    engine: i.spec.engine,
    repository: i.spec.repository,
    push: i.pushRef ?? null,
  }));
}
