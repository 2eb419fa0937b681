/**
 * OS image references for upgrades: whether a string is an OCI reference at all, and what a Kairos
 * image tag says about the OS inside. The tag is the only place where an upgrade's target can be read
 * before any node pulls it: `/etc/kairos-release` has no key holding the image reference (kairos-init
 * `pkg/stages/steps_init.go` writes versions, flavor, arch and model, not where the image came from).
 */
import type { Arch, KubernetesDistro } from "../image/spec";
import type { Variant } from "../image/tags";

/** What a Kairos image tag tells about the OS inside; see {@link parseKairosImageRef}. */
export interface KairosImageRef {
  /** Registry and path without tag, e.g. `quay.io/kairos/hadron`. */
  repository: string;
  /**
   * The repository's last path component, which the Kairos factory names after the base distro
   * (`hadron`, `ubuntu`, `opensuse`). For self-built images it is whatever the builder chose.
   */
  flavor: string;
  /** e.g. `v0.5.1`, `24.04`, `leap-15.6`. */
  flavorRelease: string;
  variant: Variant;
  arch: Arch;
  /** e.g. `generic`, `rpi4`, `nvidia-jetson-agx-orin`. */
  model: string;
  /** e.g. `v4.2.0`, as kairos-init writes it to KAIROS_VERSION. */
  kairosVersion: string;
  /** The Kubernetes distribution, on standard images. */
  k8s?: {
    distro: KubernetesDistro;
    /** As Kubernetes writes it, with `+`: `v1.36.1+k3s1`, `v1.36.3+k0s.2`. */
    version: string;
  };
  /** Trusted Boot (UKI) image. */
  uki: boolean;
}

// The factory's tag format (kairos-factory-action `.github/workflows/reusable-factory.yaml`,
// kairos-docs `src/components/kairos-image-name.ts`):
//   <repo>/<flavor>:<flavorRelease>-<variant>-<arch>-<model>-<kairos>[-<distro>-<k8s, + as ->][-uki]
// The pre-Aug-2025 form glued distro and version (`-k3sv1.31.1-k3s1`); the optional `-?` reads both.
// Lazy groups let models and flavor releases carry dashes (`nvidia-jetson-agx-orin`, `leap-15.6`).
const KAIROS_TAG =
  /^(?:.+\/)?(?<flavor>[^/:]+):(?<flavorRelease>.+?)-(?<variant>core|standard)-(?<arch>amd64|arm64)-(?<model>.+?)-(?<kairos>v\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)*?)(?:-(?<distro>k3s|k0s)-?(?<k8s>v\d+\.\d+\.\d+-(?:k3s\d+|k0s\.\d+)))?(?<uki>-uki)?$/;

/**
 * Reads a Kairos image reference in the factory's tag format, e.g.
 * `quay.io/kairos/hadron:v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.36.1-k3s1`.
 *
 * Returns `undefined` for anything else: a digest-only reference (`…@sha256:…` says nothing
 * readable; with a tag before the digest, the tag is read), a custom tag (`registry.local/my-os:1.2`), or a string that is no OCI reference. Callers treat
 * `undefined` as "cannot tell", never as an error: custom tags are legitimate.
 */
export function parseKairosImageRef(ref: string): KairosImageRef | undefined {
  if (validateOsImageRef("ref", ref) !== undefined) return undefined;
  // `name:tag@digest` pins the bytes and still says what they are; the tag is read, the digest dropped.
  const tagged = ref.split("@")[0];
  const m = KAIROS_TAG.exec(tagged);
  if (!m?.groups) return undefined;
  const g = m.groups;
  // A Kubernetes version the pattern does not know (a release candidate, say) would otherwise be
  // swallowed into the Kairos version's pre-release part; refuse to guess.
  if (/-k(?:3|0)s(?:-|v|$)/.test(g.kairos)) return undefined;
  const parsed: KairosImageRef = {
    repository: tagged.slice(0, tagged.lastIndexOf(":")),
    flavor: g.flavor,
    flavorRelease: g.flavorRelease,
    variant: g.variant as Variant,
    arch: g.arch as Arch,
    model: g.model,
    kairosVersion: g.kairos,
    uki: g.uki !== undefined,
  };
  if (g.distro && g.k8s) {
    // The tag replaces the `+` Kubernetes versions carry with `-` (tags cannot hold `+`).
    parsed.k8s = { distro: g.distro as KubernetesDistro, version: g.k8s.replace(/-(k3s\d+|k0s\.\d+)$/, "+$1") };
  }
  return parsed;
}

// The OCI distribution reference grammar (distribution/reference `regexp.go`), tag or digest required.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(?<name>${NAME})(?::(?<tag>${TAG}))?(?:@(?<digest>${DIGEST}))?$`);
/** Transport prefixes people copy from kairos-agent or skopeo command lines (`docker://` and URLs are caught by `://`). */
const TRANSPORT = /^(?:oci|dir|file|ocifile|oci-archive|docker-archive|containers-storage):/i;
const EXAMPLE = '"quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1" or "<repository>@sha256:<64 hex digits>"';

/**
 * Why `ref` is not an OCI image reference pulumi-kairos can upgrade to, or `undefined` when it is.
 * A digest reference is valid. A tag or a digest is required: without one the registry's `latest`
 * is used, which can change under the same input, so Pulumi would never see the upgrade.
 * The message names `field`, the value and what would be accepted.
 */
export function validateOsImageRef(field: string, ref: string): string | undefined {
  const bad = (why: string) => `${field}: ${JSON.stringify(ref)} is not an OCI image reference: ${why}; expected e.g. ${EXAMPLE}`;
  if (typeof ref !== "string") return `${field}: ${String(ref)} is not an OCI image reference: not a string; expected e.g. ${EXAMPLE}`;
  if (ref.trim() === "") return bad(ref === "" ? "it is empty" : "it is blank");
  if (/\s/.test(ref)) return bad("it contains whitespace");
  const transport = TRANSPORT.exec(ref);
  if (transport || ref.includes("://")) {
    const prefix = transport ? transport[0] : ref.slice(0, ref.indexOf("://") + 3);
    return bad(`it starts with the transport prefix "${prefix}"; give the bare reference (pulumi-kairos adds "oci:" for kairos-agent itself)`);
  }
  const m = REFERENCE.exec(ref);
  if (!m?.groups) {
    // Registry names, tags and digests may hold capitals; if lower-casing helps, the path had them.
    if (REFERENCE.test(ref.toLowerCase())) return bad("the repository path must be lower case");
    return bad("it does not follow the reference grammar [registry[:port]/]path[:tag][@algorithm:digest]");
  }
  if (m.groups.name.length > 255) return bad(`the repository name is ${m.groups.name.length} characters long, more than 255`);
  if (m.groups.tag === undefined && m.groups.digest === undefined) {
    return bad("it has neither tag nor digest, so the registry's moving \"latest\" would be used; name the tag or digest to install");
  }
  return undefined;
}
