/**
 * The plain, validated description of one Kairos image build: what kairos-init, AuroraBoot and
 * qemu-img are asked to do. Components resolve their Pulumi inputs into this shape; everything
 * else in `kairos/image` is a pure function of it.
 */
import type { ValidationIssue } from "../cloudconfig/model";

/** Tool pins of the Kairos v4.2.0 release (docs/kairos-notes.md §1: `kairos images/Dockerfile`, `kairos-init Makefile`). */
export const DEFAULT_KAIROS_INIT_IMAGE = "quay.io/kairos/kairos-init:v0.17.2";
export const DEFAULT_AURORABOOT_IMAGE = "quay.io/kairos/auroraboot:v0.26.2";
/** k3s version kairos-init v0.17.2 pins (docs/kairos-notes.md §1). */
export const DEFAULT_K3S_VERSION = "v1.36.3+k3s1";
export const DEFAULT_K0S_VERSION = "v1.36.3+k0s.2";

export const ARTIFACT_KINDS = ["iso", "raw-efi", "raw-bios", "qcow2"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const ENGINES = ["docker", "podman"] as const;
export type Engine = (typeof ENGINES)[number];

export const ARCHES = ["amd64", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

/** `kairos-init -m` values (`kairos-init main.go`, docs/kairos-notes.md §7.1). */
export const MODELS = [
  "generic", "rpi3", "rpi4", "nvidia-jetson-agx-orin", "nvidia-jetson-orin-nx", "nvidia-jetson-thor", "nvidia-dgx-spark",
] as const;

export const KUBERNETES_DISTROS = ["k3s", "k0s"] as const;
export type KubernetesDistro = (typeof KUBERNETES_DISTROS)[number];

export interface KubernetesSpec {
  distro: KubernetesDistro;
  /** Upstream tag, e.g. `v1.36.3+k3s1`. */
  version: string;
}

/** Everything that decides the bytes of the image and its artifacts (secrets excluded). */
export interface ImageSpec {
  /** Base distro image, e.g. `ubuntu:24.04`, `ghcr.io/kairos-io/hadron:v0.5.1`. */
  baseImage: string;
  /** The image's own version, `kairos-init --version` (KAIROS_VERSION); `v` prefix forced. */
  version: string;
  kubernetes?: KubernetesSpec;
  model: string;
  arch: Arch;
  trustedBoot: boolean;
  fips: boolean;
  packages: string[];
  dockerfileSteps: string[];
  lowMemoryHandler: boolean;
  artifacts: ArtifactKind[];
  /** `disk.size` for raw images, MiB; undefined = AuroraBoot's default. */
  diskSizeMiB?: number;
  /** Which raw image qcow2 is converted from. */
  qcow2Source: "raw-efi" | "raw-bios";
  engine: Engine;
  /** Repository part of the local image reference, e.g. `kairos-custom/ubuntu` or a registry path. */
  repository: string;
  kairosInitImage: string;
  auroraBootImage: string;
}

/** Input accepted by `normalizeImageSpec`: the same fields, most optional. */
export interface ImageSpecInput {
  baseImage?: string;
  version?: string;
  kubernetes?: { distro?: string; version?: string };
  model?: string;
  arch?: string;
  trustedBoot?: boolean;
  fips?: boolean;
  packages?: string[];
  dockerfileSteps?: string[];
  lowMemoryHandler?: boolean;
  artifacts?: string[];
  diskSizeMiB?: number;
  qcow2Source?: string;
  engine?: string;
  repository?: string;
  kairosInitImage?: string;
  auroraBootImage?: string;
}

export class ImageSpecError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.value} is not valid; expected ${i.expected}`).join("\n"));
    this.name = "ImageSpecError";
  }
}

// An OCI reference without shell-significant characters: registry[:port]/path[:tag][@digest].
const IMAGE_REF = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._/-]*[a-z0-9])?)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const REPOSITORY = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;
const SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
// Distro package names: apt/dnf/zypper/apk all stay within this set; it also keeps RUN lines shell-safe.
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9.+_:=~-]*$/;
const K8S_VERSION: Record<KubernetesDistro, RegExp> = {
  k3s: /^v\d+\.\d+\.\d+\+k3s\d+$/,
  k0s: /^v\d+\.\d+\.\d+\+k0s\.\d+$/,
};

const show = (v: unknown): string => (v === undefined ? "(unset)" : JSON.stringify(v));
const oneOf = (xs: readonly string[]): string => `one of ${xs.map((x) => `"${x}"`).join(", ")}`;

/** Validates every field and fills defaults; throws ImageSpecError listing every problem. */
export function normalizeImageSpec(input: ImageSpecInput): ImageSpec {
  const issues = validateImageSpec(input);
  if (issues.length > 0) throw new ImageSpecError(issues);
  const distro = input.kubernetes?.distro as KubernetesDistro | undefined;
  const artifacts = [...new Set(input.artifacts as ArtifactKind[])].sort(
    (a, b) => ARTIFACT_KINDS.indexOf(a) - ARTIFACT_KINDS.indexOf(b),
  );
  return {
    baseImage: input.baseImage!,
    version: input.version!.startsWith("v") ? input.version! : `v${input.version}`,
    kubernetes: distro
      ? { distro, version: input.kubernetes!.version ?? (distro === "k3s" ? DEFAULT_K3S_VERSION : DEFAULT_K0S_VERSION) }
      : undefined,
    model: input.model ?? "generic",
    arch: (input.arch ?? "amd64") as Arch,
    trustedBoot: input.trustedBoot ?? false,
    fips: input.fips ?? false,
    packages: [...(input.packages ?? [])],
    dockerfileSteps: [...(input.dockerfileSteps ?? [])],
    lowMemoryHandler: input.lowMemoryHandler ?? true,
    artifacts,
    diskSizeMiB: input.diskSizeMiB,
    qcow2Source: (input.qcow2Source ?? "raw-bios") as ImageSpec["qcow2Source"],
    engine: (input.engine ?? "docker") as Engine,
    repository: input.repository ?? `kairos-custom/${baseFlavor(input.baseImage!).flavor}`,
    kairosInitImage: input.kairosInitImage ?? DEFAULT_KAIROS_INIT_IMAGE,
    auroraBootImage: input.auroraBootImage ?? DEFAULT_AURORABOOT_IMAGE,
  };
}

/** Every problem with `input`, as `{ path, value, expected }`; empty when valid. */
export function validateImageSpec(input: ImageSpecInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const bad = (path: string, value: unknown, expected: string) => issues.push({ path, value: show(value), expected });

  if (typeof input.baseImage !== "string" || !IMAGE_REF.test(input.baseImage)) {
    bad("baseImage", input.baseImage, 'an image reference such as "ubuntu:24.04" or "ghcr.io/kairos-io/hadron:v0.5.1"');
  } else if (!familyOf(input.baseImage)) {
    bad("baseImage", input.baseImage, `a base of a known family (${FAMILIES.map((f) => f.family).join(", ")}), recognised by the image name`);
  }
  if (typeof input.version !== "string" || !SEMVER.test(input.version)) {
    bad("version", input.version, 'a semantic version such as "v1.0.0" (kairos-init --version)');
  }
  if (input.kubernetes !== undefined) {
    const d = input.kubernetes.distro;
    if (!KUBERNETES_DISTROS.includes(d as KubernetesDistro)) {
      bad("kubernetes.distro", d, oneOf(KUBERNETES_DISTROS));
    } else if (input.kubernetes.version !== undefined && !K8S_VERSION[d as KubernetesDistro].test(input.kubernetes.version)) {
      bad("kubernetes.version", input.kubernetes.version, d === "k3s" ? 'a k3s release tag such as "v1.36.3+k3s1"' : 'a k0s release tag such as "v1.36.3+k0s.2"');
    }
  }
  if (input.model !== undefined && !MODELS.includes(input.model as (typeof MODELS)[number])) bad("model", input.model, oneOf(MODELS));
  if (input.arch !== undefined && !ARCHES.includes(input.arch as Arch)) bad("arch", input.arch, oneOf(ARCHES));
  if (input.engine !== undefined && !ENGINES.includes(input.engine as Engine)) bad("engine", input.engine, oneOf(ENGINES));
  for (const k of ["trustedBoot", "fips", "lowMemoryHandler"] as const) {
    if (input[k] !== undefined && typeof input[k] !== "boolean") bad(k, input[k], "true or false");
  }
  (input.packages ?? []).forEach((p, i) => {
    if (typeof p !== "string" || !PACKAGE.test(p)) bad(`packages[${i}]`, p, "a distro package name (letters, digits and . + _ : = ~ -)");
  });
  if (input.packages?.length && typeof input.baseImage === "string" && familyOf(input.baseImage)?.family === "hadron") {
    bad("packages", input.packages, "no packages on a Hadron base (Hadron has no package manager); use dockerfileSteps to COPY files in");
  }
  (input.dockerfileSteps ?? []).forEach((s, i) => {
    if (typeof s !== "string" || s.trim() === "" || /\n/.test(s) || /^\s*FROM\s/i.test(s)) {
      bad(`dockerfileSteps[${i}]`, s, "one Dockerfile instruction on one line (RUN, COPY, ENV, ...), not FROM");
    }
  });
  if (!Array.isArray(input.artifacts) || input.artifacts.length === 0) {
    bad("artifacts", input.artifacts, `a non-empty list of ${oneOf(ARTIFACT_KINDS)}`);
  } else {
    input.artifacts.forEach((a, i) => {
      if (!ARTIFACT_KINDS.includes(a as ArtifactKind)) bad(`artifacts[${i}]`, a, oneOf(ARTIFACT_KINDS));
    });
  }
  if (input.diskSizeMiB !== undefined && (!Number.isInteger(input.diskSizeMiB) || input.diskSizeMiB < 4096 || input.diskSizeMiB > 4_194_304)) {
    bad("diskSizeMiB", input.diskSizeMiB, "an integer number of MiB between 4096 and 4194304");
  }
  if (input.qcow2Source !== undefined && !["raw-efi", "raw-bios"].includes(input.qcow2Source)) {
    bad("qcow2Source", input.qcow2Source, oneOf(["raw-efi", "raw-bios"]));
  }
  if (input.repository !== undefined && !REPOSITORY.test(input.repository)) {
    bad("repository", input.repository, 'a lower-case image repository such as "registry.example.com/team/kairos"');
  }
  for (const k of ["kairosInitImage", "auroraBootImage"] as const) {
    if (input[k] !== undefined && !IMAGE_REF.test(input[k]!)) bad(k, input[k], "an image reference pinned by tag or digest");
  }
  if (input.trustedBoot && input.artifacts?.some((a) => a !== "iso")) {
    bad("trustedBoot", true, "false when raw or qcow2 artifacts are requested (trusted boot images are UKI; build them with AuroraBoot build-uki)");
  }
  return issues;
}

/** Package manager families kairos-init supports (docs/kairos-notes.md §7.1 CI-tested bases). */
export type PackageManager = "apt" | "zypper" | "dnf" | "apk" | "none";

interface Family {
  family: string;
  match: RegExp;
  pm: PackageManager;
  /** Whether the distro's own repositories carry nohang (Debian >= 11, Ubuntu >= 20.04 universe, Fedora). */
  nohang: boolean;
}

const FAMILIES: Family[] = [
  { family: "hadron", match: /(^|\/)hadron(-trusted)?$/, pm: "none", nohang: false },
  { family: "ubuntu", match: /(^|\/)ubuntu$/, pm: "apt", nohang: true },
  { family: "debian", match: /(^|\/)debian$/, pm: "apt", nohang: true },
  { family: "opensuse", match: /(^|\/)(opensuse\/(leap|tumbleweed)|leap|tumbleweed)$/, pm: "zypper", nohang: false },
  { family: "fedora", match: /(^|\/)fedora$/, pm: "dnf", nohang: true },
  { family: "rockylinux", match: /(^|\/)rockylinux(\/rockylinux)?$/, pm: "dnf", nohang: false },
  { family: "almalinux", match: /(^|\/)almalinux$/, pm: "dnf", nohang: false },
  { family: "alpine", match: /(^|\/)alpine$/, pm: "apk", nohang: false },
];

function splitRef(ref: string): { name: string; tag: string } {
  const noDigest = ref.split("@")[0];
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  if (colon > slash) return { name: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
  return { name: noDigest, tag: "latest" };
}

function familyOf(baseImage: string): Family | undefined {
  const { name } = splitRef(baseImage);
  return FAMILIES.find((f) => f.match.test(name));
}

/** Package manager and nohang availability for a base image. */
export function baseFamily(baseImage: string): { family: string; packageManager: PackageManager; nohangPackaged: boolean } {
  const f = familyOf(baseImage);
  if (!f) throw new ImageSpecError([{ path: "baseImage", value: show(baseImage), expected: "a base of a known family" }]);
  return { family: f.family, packageManager: f.pm, nohangPackaged: f.nohang };
}

/**
 * Flavor and flavor release as the Kairos factory names them (`factory reusable-factory.yaml`):
 * `ubuntu:24.04` -> ubuntu / 24.04, `opensuse/leap:15.6` -> opensuse / leap-15.6.
 */
export function baseFlavor(baseImage: string): { flavor: string; flavorRelease: string } {
  const { name, tag } = splitRef(baseImage);
  const f = familyOf(baseImage);
  const family = f?.family ?? name.split("/").pop()!;
  if (family === "opensuse") {
    const sub = /tumbleweed/.test(name) ? "tumbleweed" : "leap";
    return { flavor: "opensuse", flavorRelease: sub === "tumbleweed" && tag === "latest" ? "tumbleweed" : `${sub}-${tag}` };
  }
  return { flavor: family, flavorRelease: tag };
}

/** Problems with a push target (`push.repository`, `push.tag`, `push.credentials`). */
export function validatePush(push: { repository?: unknown; tag?: unknown; credentials?: { username?: unknown; password?: unknown } } | undefined): ValidationIssue[] {
  if (push === undefined) return [];
  const issues: ValidationIssue[] = [];
  if (typeof push.repository !== "string" || !REPOSITORY.test(push.repository)) {
    issues.push({ path: "push.repository", value: show(push.repository), expected: 'a lower-case repository such as "registry.example.com/team/kairos"' });
  }
  if (push.tag !== undefined && (typeof push.tag !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(push.tag))) {
    issues.push({ path: "push.tag", value: show(push.tag), expected: "an OCI tag (letters, digits, _ . -; at most 128 characters)" });
  }
  if (push.credentials !== undefined) {
    const u = push.credentials.username;
    if (typeof u !== "string" || u === "" || /\s/.test(u)) issues.push({ path: "push.credentials.username", value: show(u), expected: "a non-empty user name without spaces" });
    // The password is a secret: never echoed.
    if (typeof push.credentials.password !== "string" || push.credentials.password === "") {
      issues.push({ path: "push.credentials.password", value: "<secret>", expected: "a non-empty string" });
    }
  }
  return issues;
}

/** Problems with builder options (`builder.*`). */
export function validateBuilder(b: { kind?: unknown; engineBinary?: unknown; engineSocket?: unknown; stepTimeoutMinutes?: unknown; namespace?: unknown; timeoutMinutes?: unknown }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const bad = (p: string, v: unknown, e: string) => issues.push({ path: `builder.${p}`, value: show(v), expected: e });
  if (b.kind !== "local" && b.kind !== "kubernetes") bad("kind", b.kind, oneOf(["local", "kubernetes"]));
  if (b.engineBinary !== undefined && (typeof b.engineBinary !== "string" || !/^(\/[^\0]+|[A-Za-z0-9._-]+)$/.test(b.engineBinary))) {
    bad("engineBinary", b.engineBinary, "a command name on PATH or an absolute path");
  }
  if (b.engineSocket !== undefined && (typeof b.engineSocket !== "string" || !b.engineSocket.startsWith("/") || b.engineSocket.includes(":"))) {
    bad("engineSocket", b.engineSocket, "an absolute path to the engine's API socket, without ':'");
  }
  for (const k of ["stepTimeoutMinutes", "timeoutMinutes"] as const) {
    const v = b[k];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > 7 * 24 * 60)) bad(k, v, "a number of minutes greater than 0 and at most 10080");
  }
  if (b.namespace !== undefined && (typeof b.namespace !== "string" || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(b.namespace))) {
    bad("namespace", b.namespace, "a Kubernetes namespace name (DNS label)");
  }
  return issues;
}
