/**
 * Image tags and artifact base names in the current Kairos format (docs/kairos-notes.md §7.2; mirrored from
 * `kairos-docs src/components/kairos-image-name.ts` and `factory .github/workflows/reusable-factory.yaml`):
 * `<repo>:<flavor_release>-<variant>-<arch>-<model>-<kairos version>[-<k8s distro>-<k8s version, + -> ->][-uki]`.
 * The pre-Aug-2025 form `-k3sv1.x.y-k3s1` is unpullable for v4 (kairos-io/kairos#4194) and never produced.
 */
import { baseFlavor, type ImageSpec } from "./spec";

export type Variant = "core" | "standard";

/** Core without a Kubernetes distro, standard with one (kairos-init: any `-p` means standard). */
export function variantOf(spec: Pick<ImageSpec, "kubernetes">): Variant {
  return spec.kubernetes ? "standard" : "core";
}

/** The tag part: `24.04-standard-amd64-generic-v1.0.0-k3s-v1.36.3-k3s1`. */
export function imageTag(spec: Pick<ImageSpec, "baseImage" | "kubernetes" | "arch" | "model" | "version" | "trustedBoot">): string {
  const { flavorRelease } = baseFlavor(spec.baseImage);
  const k8s = spec.kubernetes ? `-${spec.kubernetes.distro}-${spec.kubernetes.version.replace(/\+/g, "-")}` : "";
  const uki = spec.trustedBoot ? "-uki" : "";
  return `${flavorRelease}-${variantOf(spec)}-${spec.arch}-${spec.model}-${spec.version}${k8s}${uki}`;
}

/** Full reference `<repository>:<tag>`. */
export function imageRef(spec: Pick<ImageSpec, "repository" | "baseImage" | "kubernetes" | "arch" | "model" | "version" | "trustedBoot">): string {
  return `${spec.repository}:${imageTag(spec)}`;
}

/** Artifact base name `kairos-<flavor>-<tag>`, as Kairos release assets are named. */
export function artifactBaseName(spec: Pick<ImageSpec, "baseImage" | "kubernetes" | "arch" | "model" | "version" | "trustedBoot">): string {
  return `kairos-${baseFlavor(spec.baseImage).flavor}-${imageTag(spec)}`;
}
