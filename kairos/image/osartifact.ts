/**
 * The kairos-operator `OSArtifact` manifest for in-cluster builds (`build.kairos.io/v1alpha2`, the
 * operator's two-stage spec: `spec.image.buildOptions` + `spec.artifacts`; kairos-operator
 * `api/v1alpha2/osartifact_types.go`, docs/kairos-notes.md §9). ⚠ osbuilder's legacy OSArtifact shares the
 * apiVersion with a flat, incompatible spec (`imageName`, `iso`, ...); it is never produced.
 * The operator builds with the same kairos-init, so packages/dockerfileSteps (which need a Dockerfile)
 * are local-builder only; `cloudImage` is AuroraBoot's EFI raw; there is no BIOS raw or qcow2 in-cluster.
 */
import type { ValidationIssue } from "../cloudconfig/model";
import { ImageSpecError, type ImageSpec } from "./spec";

export const OSARTIFACT_API_VERSION = "build.kairos.io/v1alpha2";
export const OSARTIFACT_KIND = "OSArtifact";
/** Key of the cloud-config in the Secret referenced by `spec.artifacts.cloudConfigRef`. */
export const CLOUD_CONFIG_SECRET_KEY = "cloud-config.yaml";
/** Key of the registry credentials in a `kubernetes.io/dockerconfigjson` Secret. */
export const DOCKER_CONFIG_SECRET_KEY = ".dockerconfigjson";
/** Await annotations for @pulumi/kubernetes (>= 4.18): create waits until the operator reports Ready. */
export const OSARTIFACT_WAIT_FOR = "jsonpath={.status.phase}=Ready";
/** `status.phase` values (kairos-operator api/v1alpha2). */
export const OSARTIFACT_PHASES = ["Pending", "Building", "Exporting", "Ready", "Error"] as const;

export interface OSArtifactOptions {
  name: string;
  namespace: string;
  /** Name of the Secret holding the cloud-config under CLOUD_CONFIG_SECRET_KEY, when one is embedded. */
  cloudConfigSecretName?: string;
  /** Push the built image to `buildImage`, with credentials from `imageCredentialsSecretName`. */
  push?: { registry: string; repository: string; tag: string; imageCredentialsSecretName?: string };
}

/** Reasons a spec cannot be built in-cluster; empty when it can. */
export function inClusterIssues(spec: ImageSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  spec.artifacts.forEach((a, i) => {
    if (a === "raw-bios" || a === "qcow2") {
      issues.push({ path: `artifacts[${i}]`, value: JSON.stringify(a), expected: 'with builder.kind "kubernetes", one of "iso", "raw-efi" (the operator has no BIOS raw or qcow2 output)' });
    }
  });
  if (spec.packages.length) issues.push({ path: "packages", value: JSON.stringify(spec.packages), expected: 'empty with builder.kind "kubernetes" (buildOptions has no package list); use builder.kind "local"' });
  if (spec.dockerfileSteps.length) issues.push({ path: "dockerfileSteps", value: JSON.stringify(spec.dockerfileSteps), expected: 'empty with builder.kind "kubernetes"; use builder.kind "local"' });
  return issues;
}

/** The OSArtifact object, ready for `apiextensions.CustomResource` or `kubectl apply`. */
export function osArtifactManifest(spec: ImageSpec, o: OSArtifactOptions): Record<string, unknown> {
  const issues = inClusterIssues(spec);
  if (issues.length) throw new ImageSpecError(issues);
  const buildOptions: Record<string, unknown> = {
    version: spec.version,
    baseImage: spec.baseImage,
    model: spec.model,
    trustedBoot: spec.trustedBoot,
    fips: spec.fips,
    kairosInitImage: spec.kairosInitImage,
  };
  if (spec.kubernetes) {
    buildOptions.kubernetesDistro = spec.kubernetes.distro;
    buildOptions.kubernetesVersion = spec.kubernetes.version;
  }
  const image: Record<string, unknown> = { buildOptions };
  if (o.push) {
    image.buildImage = { registry: o.push.registry, repository: o.push.repository, tag: o.push.tag };
    image.push = true;
    if (o.push.imageCredentialsSecretName) image.imageCredentialsSecretRef = { name: o.push.imageCredentialsSecretName, key: DOCKER_CONFIG_SECRET_KEY };
  }
  const artifacts: Record<string, unknown> = {
    arch: spec.arch,
    iso: spec.artifacts.includes("iso"),
    cloudImage: spec.artifacts.includes("raw-efi"),
  };
  if (spec.diskSizeMiB !== undefined) artifacts.diskSize = String(spec.diskSizeMiB);
  if (o.cloudConfigSecretName) artifacts.cloudConfigRef = { name: o.cloudConfigSecretName, key: CLOUD_CONFIG_SECRET_KEY };
  return {
    apiVersion: OSARTIFACT_API_VERSION,
    kind: OSARTIFACT_KIND,
    metadata: { name: o.name, namespace: o.namespace, labels: { "app.kubernetes.io/managed-by": "pulumi-kairos" } },
    spec: { image, artifacts },
  };
}
