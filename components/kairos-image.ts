/**
 * `KairosImage`: builds a Kairos image from a base distro (kairos-init in a generated Dockerfile ->
 * OCI image -> AuroraBoot ISO/raw, qcow2 via qemu-img), content-addressed so a no-op `pulumi up`
 * rebuilds nothing. Builds locally through docker/podman (`builder.kind: "local"`, the default) or
 * in a cluster through a kairos-operator `OSArtifact` (`builder.kind: "kubernetes"`).
 * Arguments, outputs and what is proven where: the README's KairosImage section.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  CLOUD_CONFIG_SECRET_KEY, DOCKER_CONFIG_SECRET_KEY, ImageSpecError, OSARTIFACT_API_VERSION, OSARTIFACT_KIND, OSARTIFACT_WAIT_FOR, clusterImageFor, imageTag, inClusterIssues,
  normalizeImageSpec, osArtifactManifest, registryOf, validateBuilder, validatePush,
  type ArtifactInfo, type ArtifactKind, type ClusterImageRef, type ImageSpec, type ImageSpecInput,
} from "../kairos/image";
import { physicalName } from "../kairos/names";
import { KairosImageBuild } from "../providers/image/local-build";

/** Build on the machine running Pulumi, through a container engine. */
export interface LocalImageBuilder {
  kind: "local";
  /** Engine CLI path. Default: `engine` ("docker" or "podman") from PATH. */
  engineBinary?: pulumi.Input<string>;
  /** Engine API socket AuroraBoot reads the image from. Default /var/run/docker.sock (docker), /run/podman/podman.sock (podman). */
  engineSocket?: pulumi.Input<string>;
  /** Timeout of each build step, in minutes. Default 120. */
  stepTimeoutMinutes?: pulumi.Input<number>;
}

/** Build in a Kubernetes cluster running kairos-operator, through an `OSArtifact`. */
export interface KubernetesImageBuilder {
  kind: "kubernetes";
  /** The @pulumi/kubernetes provider for the cluster. Default: the ambient provider. */
  provider?: k8s.Provider;
  /** Namespace of the OSArtifact and its Secrets. Default "default". */
  namespace?: pulumi.Input<string>;
  /** How long create waits for `status.phase` Ready, in minutes. Default 60. */
  timeoutMinutes?: number;
}

/** Arguments of {@link KairosImage}: base distro, version and artifacts are required. */
export interface KairosImageArgs {
  // --- What to build ---
  /** Base distro image, e.g. "ubuntu:24.04", "opensuse/leap:15.6", "fedora:42", "alpine:3.21", "ghcr.io/kairos-io/hadron:v0.5.1". */
  baseImage: pulumi.Input<string>;
  /** The image's own version (kairos-init --version, KAIROS_VERSION), semver, e.g. "v1.0.0"; a missing "v" is added. */
  version: pulumi.Input<string>;
  /**
   * Kubernetes distro baked in. Unset: a core image. Set: a standard image (kairos-init `-p <distro>
   * --provider-<distro>-version <version>`). Version default: k3s "v1.36.3+k3s1", k0s "v1.36.3+k0s.2".
   */
  kubernetes?: pulumi.Input<{ distro: pulumi.Input<"k3s" | "k0s">; version?: pulumi.Input<string> }>;
  /** Board model (kairos-init -m). Default "generic". */
  model?: pulumi.Input<string>;
  /** "amd64" or "arm64". Default "amd64". */
  arch?: pulumi.Input<"amd64" | "arm64">;
  /** Trusted boot (UKI) image. Default false. Note: only the "iso" artifact then (raw images are not UKI). */
  trustedBoot?: pulumi.Input<boolean>;
  /** FIPS build (kairos-init --fips). Default false. */
  fips?: pulumi.Input<boolean>;
  /** Extra distro packages, installed with the base's package manager. Default none. Not on Hadron; local builder only. */
  packages?: pulumi.Input<pulumi.Input<string>[]>;
  /** Extra Dockerfile instructions (one per entry, not FROM), before kairos-init runs. Local builder only. */
  dockerfileSteps?: pulumi.Input<pulumi.Input<string>[]>;
  /** Install and enable the nohang low-memory handler where the distro packages it (Ubuntu, Debian, Fedora). Default true. */
  lowMemoryHandler?: pulumi.Input<boolean>;
  /**
   * Cloud-config embedded in the artifacts (secret): ISO root `config.yaml`, raw OEM partition.
   * Default none (raw images then get no default user: `no_default_cloud_config`). Changing it rebuilds.
   */
  cloudConfig?: pulumi.Input<string>;

  // --- What comes out ---
  /** Artifacts to produce: "iso", "raw-efi", "raw-bios", "qcow2". Required, non-empty. */
  artifacts: pulumi.Input<pulumi.Input<ArtifactKind>[]>;
  /** Raw disk size in MiB (AuroraBoot disk.size). Default: AuroraBoot's (sized to the image). */
  diskSizeMiB?: pulumi.Input<number>;
  /** Raw image the qcow2 is converted from. Default "raw-bios" (boots under SeaBIOS without OVMF). */
  qcow2Source?: pulumi.Input<"raw-efi" | "raw-bios">;
  /** Directory for the artifacts (local builder). Default "<program dir>/.kairos-images". Created 0700. */
  outputDir?: pulumi.Input<string>;
  /** Local image repository. Default "kairos-custom/<flavor>". The tag is always the Kairos-format tag. */
  repository?: pulumi.Input<string>;
  /** Push the image to a registry. `credentials.password` is a secret and reaches the engine on stdin only. */
  push?: pulumi.Input<{
    repository: pulumi.Input<string>;
    /** Default: the Kairos-format tag. */
    tag?: pulumi.Input<string>;
    credentials?: pulumi.Input<{ username: pulumi.Input<string>; password: pulumi.Input<string> }>;
  }>;

  // --- How ---
  /** Container engine: "docker" or "podman". Default "docker". */
  engine?: pulumi.Input<"docker" | "podman">;
  /** Where the build runs. Default { kind: "local" }. */
  builder?: LocalImageBuilder | KubernetesImageBuilder;
  /** kairos-init image. Default "quay.io/kairos/kairos-init:v0.17.2" (Kairos v4.2.0). */
  kairosInitImage?: pulumi.Input<string>;
  /** AuroraBoot image. Default "quay.io/kairos/auroraboot:v0.26.2". */
  auroraBootImage?: pulumi.Input<string>;
}

/** Where an in-cluster build's artifacts are. */
export interface OSArtifactLocation {
  namespace: string;
  /** The OSArtifact; the operator keeps its artifacts in a PVC it owns and labels with this name. */
  name: string;
}

const isKnown = (v: unknown): boolean =>
  !(pulumi.Output.isInstance(v) || v instanceof Promise) && (typeof v !== "object" || v === null || Object.values(v).every(isKnown));

const SPEC_FIELDS = [
  "baseImage", "version", "kubernetes", "model", "arch", "trustedBoot", "fips", "packages", "dockerfileSteps",
  "lowMemoryHandler", "artifacts", "diskSizeMiB", "qcow2Source", "engine", "repository", "kairosInitImage", "auroraBootImage",
] as const;

/**
 * A Kairos OS image built from a base distro image: kairos-init in a generated Dockerfile, then
 * AuroraBoot (ISO, raw) and qemu-img (qcow2), on this machine or in a cluster with kairos-operator.
 * Content-addressed: a no-op `up` builds nothing. Type token `kairos:index:KairosImage`.
 */
export class KairosImage extends pulumi.ComponentResource {
  /** Image reference: the pushed one, else the local one (in-cluster without push: ""). */
  readonly imageRef: pulumi.Output<string>;
  /** `sha256:...` of the image (pushed manifest digest, else local image ID; in-cluster: ""). */
  readonly imageDigest: pulumi.Output<string>;
  /** Built files with path, size, sha256 and kind (in-cluster: [], see `osArtifact`). */
  readonly artifacts: pulumi.Output<ArtifactInfo[]>;
  /** KAIROS_VERSION of the image. */
  readonly kairosVersion: pulumi.Output<string>;
  /** The generated Dockerfile (in-cluster: "", the operator generates its own from the same options). */
  readonly dockerfile: pulumi.Output<string>;
  /** Content key deciding rebuilds (local builder; in-cluster: ""). */
  readonly contentKey: pulumi.Output<string>;
  /** The OSArtifact holding in-cluster artifacts (undefined for local builds). */
  readonly osArtifact: pulumi.Output<OSArtifactLocation | undefined>;

  constructor(name: string, args: KairosImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kairos:index:KairosImage", name, {}, opts);
    const builder = args.builder ?? { kind: "local" as const };
    const fail = (issues: { path: string; value: string; expected: string }[]) => {
      if (issues.length) throw new pulumi.ResourceError(`KairosImage ${name}: ${new ImageSpecError(issues).message}`, this);
    };
    // The k8s provider object is not a value to validate (nor a plain one to walk).
    const builderFields: Record<string, unknown> = { ...(builder as object) };
    delete builderFields.provider;
    if (isKnown(builderFields)) fail(validateBuilder(builderFields));
    if (args.push !== undefined && isKnown(args.push)) fail(validatePush(args.push as never));
    const specInput: Record<string, unknown> = {};
    for (const k of SPEC_FIELDS) specInput[k] = args[k];
    // Known values fail at construction; values that are outputs fail when they resolve (still at preview).
    const toSpec = (i: ImageSpecInput): ImageSpec => {
      const spec = normalizeImageSpec(i);
      if (builder.kind === "kubernetes") {
        const issues = inClusterIssues(spec);
        if (issues.length) throw new ImageSpecError(issues);
      }
      return spec;
    };
    if (isKnown(specInput)) {
      try {
        toSpec(specInput as ImageSpecInput);
      } catch (e) {
        throw new pulumi.ResourceError(`KairosImage ${name}: ${(e as Error).message}`, this);
      }
    }
    const spec = pulumi.output(specInput).apply((i) => toSpec(i as unknown as ImageSpecInput));
    const cloudConfig = args.cloudConfig === undefined ? undefined : pulumi.secret(args.cloudConfig);

    if (builder.kind === "local") {
      const push = args.push === undefined ? undefined : pulumi.output(args.push).apply((p) => {
        const issues = validatePush(p);
        if (issues.length) throw new ImageSpecError(issues);
        return p;
      });
      const build = new KairosImageBuild(`${name}-build`, {
        spec,
        outputDir: pulumi.output(args.outputDir ?? ".kairos-images").apply((d) => path.resolve(d)),
        cloudConfig,
        push: push?.apply((p) => ({ repository: p.repository, tag: p.tag, username: p.credentials?.username })),
        pushPassword: push === undefined ? undefined : pulumi.secret(push.apply((p) => p.credentials?.password)) as pulumi.Output<string>,
        engineBinary: builder.engineBinary,
        engineSocket: builder.engineSocket,
        stepTimeoutMs: builder.stepTimeoutMinutes === undefined ? undefined : pulumi.output(builder.stepTimeoutMinutes).apply((m) => m * 60_000),
      }, { parent: this });
      this.imageRef = build.imageRef;
      this.imageDigest = build.imageDigest;
      this.artifacts = build.artifacts;
      this.kairosVersion = build.kairosVersion;
      this.dockerfile = build.dockerfile;
      this.contentKey = build.contentKey;
      this.osArtifact = pulumi.output(undefined);
    } else {
      const located = createOSArtifact(this, name, builder, spec, cloudConfig, args.push);
      this.imageRef = located.imageRef;
      this.imageDigest = pulumi.output("");
      this.artifacts = pulumi.output([]);
      this.kairosVersion = spec.version;
      this.dockerfile = pulumi.output("");
      this.contentKey = pulumi.output("");
      this.osArtifact = located.location;
    }
    this.registerOutputs({
      imageRef: this.imageRef, imageDigest: this.imageDigest, artifacts: this.artifacts, kairosVersion: this.kairosVersion,
      dockerfile: this.dockerfile, contentKey: this.contentKey, osArtifact: this.osArtifact,
    });
  }

  /**
   * This image as `KairosCluster.image`: qcow2/raw -> `{ kind: "disk" }`, iso -> `{ kind: "iso" }`.
   * `prefer`: the artifact kind to use; default the first built of qcow2, raw-bios, raw-efi, iso.
   */
  clusterImage(prefer?: ArtifactKind): pulumi.Output<ClusterImageRef> {
    return this.artifacts.apply((as) => pickClusterImage(as, prefer));
  }
}

/** The artifact KairosCluster should boot, mapped to its `image` input. */
export function pickClusterImage(artifacts: readonly ArtifactInfo[], prefer?: ArtifactKind): ClusterImageRef {
  const order: ArtifactKind[] = prefer ? [prefer] : ["qcow2", "raw-bios", "raw-efi", "iso"];
  for (const kind of order) {
    const a = artifacts.find((x) => x.kind === kind);
    if (a) return clusterImageFor(a);
  }
  throw new Error(`image: no ${order.join(" / ")} artifact among ${JSON.stringify(artifacts.map((a) => a.kind))}; add one to KairosImage.artifacts`);
}

/** Secrets first, then the OSArtifact that references them; create waits for phase Ready. */
function createOSArtifact(
  parent: KairosImage, name: string, builder: KubernetesImageBuilder, spec: pulumi.Output<ImageSpec>,
  cloudConfig: pulumi.Output<string> | undefined, push: KairosImageArgs["push"],
): { imageRef: pulumi.Output<string>; location: pulumi.Output<OSArtifactLocation> } {
  const namespace = pulumi.output(builder.namespace ?? "default");
  const timeoutMinutes = builder.timeoutMinutes ?? 60;
  const opts = { parent, provider: builder.provider };
  // The operator's export Job names append "-export-N" and must stay a 63-char label (kairos-operator osartifact_names_test.go).
  const objectName = physicalName([pulumi.getStack(), name], 50);
  const dependsOn: pulumi.Resource[] = [];

  let cloudConfigSecretName: string | undefined;
  if (cloudConfig) {
    cloudConfigSecretName = `${objectName}-cc`;
    dependsOn.push(new k8s.core.v1.Secret(`${name}-cloud-config`, {
      metadata: { name: cloudConfigSecretName, namespace },
      type: "Opaque",
      stringData: { [CLOUD_CONFIG_SECRET_KEY]: cloudConfig },
    }, opts));
  }
  const pushOut = push === undefined ? undefined : pulumi.output(push);
  let credentialsSecretName: string | undefined;
  if (pushOut) {
    credentialsSecretName = `${objectName}-push`;
    const dockerConfig = pulumi.secret(pushOut.apply((p) => {
      if (!p.credentials) return JSON.stringify({ auths: {} });
      const auth = Buffer.from(`${p.credentials.username}:${p.credentials.password}`).toString("base64");
      return JSON.stringify({ auths: { [registryOf(p.repository)]: { auth } } });
    }));
    dependsOn.push(new k8s.core.v1.Secret(`${name}-push-credentials`, {
      metadata: { name: credentialsSecretName, namespace },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { [DOCKER_CONFIG_SECRET_KEY]: dockerConfig },
    }, opts));
  }

  const manifest = pulumi.all([spec, namespace, pushOut]).apply(([s, ns, p]) => {
    const pushOpt = p ? splitPush(p.repository, p.tag ?? imageTag(s), credentialsSecretName) : undefined;
    return osArtifactManifest(s, { name: objectName, namespace: ns, cloudConfigSecretName, push: pushOpt });
  });
  const cr = new k8s.apiextensions.CustomResource(`${name}-osartifact`, {
    apiVersion: OSARTIFACT_API_VERSION,
    kind: OSARTIFACT_KIND,
    metadata: manifest.apply((m) => {
      const md = m.metadata as { name: string; namespace: string; labels: Record<string, string> };
      return {
        ...md,
        annotations: {
          // @pulumi/kubernetes await annotations: create returns only when the operator says Ready.
          "pulumi.com/waitFor": OSARTIFACT_WAIT_FOR,
          "pulumi.com/timeoutSeconds": String(timeoutMinutes * 60),
        },
      };
    }),
    spec: manifest.apply((m) => m.spec),
  }, { ...opts, dependsOn, customTimeouts: { create: `${timeoutMinutes}m`, update: `${timeoutMinutes}m` } });

  const imageRef = pushOut
    ? pulumi.all([pushOut, spec]).apply(([p, s]) => `${p.repository}:${p.tag ?? imageTag(s)}`)
    : pulumi.output("");
  const location = pulumi.all([namespace, cr.id]).apply(([ns]) => ({ namespace: ns, name: objectName }));
  return { imageRef, location };
}

function splitPush(repository: string, tag: string, credentialsSecretName?: string) {
  const registry = registryOf(repository);
  const repo = repository.startsWith(`${registry}/`) ? repository.slice(registry.length + 1) : repository;
  return { registry, repository: repo, tag, imageCredentialsSecretName: credentialsSecretName };
}
