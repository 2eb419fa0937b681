/**
 * `KairosImageBuild`: the dynamic resource that builds a Kairos image on the machine running
 * Pulumi. The provider object below is what Pulumi serializes; each method requires the
 * implementation by absolute path at run time (a relative `require` would resolve against Pulumi's
 * provider host, and a captured module would be serialized by value: pulumi runtime/closure
 * createClosure.js `captureModuleAsync`), so the stored provider stays small and loads in a fresh process.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { ArtifactInfo, ImageSpec } from "../../kairos/image";
import type * as Impl from "./provider-impl";

// Extension-less: resolves to provider-impl.js in the built package, .ts under ts-node.
const IMPL = path.join(__dirname, "provider-impl");

const provider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => (require(IMPL) as typeof Impl).check(olds, news),
  diff: (id, olds, news) => (require(IMPL) as typeof Impl).diff(id, olds, news),
  create: (inputs) => (require(IMPL) as typeof Impl).create(inputs),
  read: (id, props) => (require(IMPL) as typeof Impl).read(id, props),
  update: (id, olds, news) => (require(IMPL) as typeof Impl).update(id, olds, news),
  delete: (id, props) => (require(IMPL) as typeof Impl).remove(id, props),
};

export interface KairosImageBuildArgs {
  spec: pulumi.Input<ImageSpec>;
  outputDir: pulumi.Input<string>;
  /** Secret. */
  cloudConfig?: pulumi.Input<string>;
  push?: pulumi.Input<{ repository: string; tag?: string; username?: string }>;
  /** Secret. */
  pushPassword?: pulumi.Input<string>;
  engineBinary?: pulumi.Input<string>;
  engineSocket?: pulumi.Input<string>;
  stepTimeoutMs?: pulumi.Input<number>;
}

export class KairosImageBuild extends pulumi.dynamic.Resource {
  declare readonly contentKey: pulumi.Output<string>;
  declare readonly imageRef: pulumi.Output<string>;
  declare readonly imageDigest: pulumi.Output<string>;
  declare readonly kairosVersion: pulumi.Output<string>;
  declare readonly dockerfile: pulumi.Output<string>;
  declare readonly artifacts: pulumi.Output<ArtifactInfo[]>;
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: KairosImageBuildArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        contentKey: undefined, imageRef: undefined, imageDigest: undefined, kairosVersion: undefined,
        dockerfile: undefined, artifacts: undefined, drift: undefined, recordPath: undefined,
        ...args,
      },
      { ...opts, additionalSecretOutputs: ["cloudConfig", "pushPassword"] },
      "kairos-image",
      "KairosImageBuild",
    );
  }
}
