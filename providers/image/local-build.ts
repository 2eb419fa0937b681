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
import { loadDriverModule } from "../load-driver";
import type * as Impl from "./provider-impl";

// Extension-less: provider-impl.js in the built package, .ts from source (loadDriverModule registers ts-node).
const IMPL = path.join(__dirname, "provider-impl");

const provider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => loadDriverModule<typeof Impl>(IMPL).check(olds, news),
  diff: (id, olds, news) => loadDriverModule<typeof Impl>(IMPL).diff(id, olds, news),
  create: (inputs) => loadDriverModule<typeof Impl>(IMPL).create(inputs),
  read: (id, props) => loadDriverModule<typeof Impl>(IMPL).read(id, props),
  update: (id, olds, news) => loadDriverModule<typeof Impl>(IMPL).update(id, olds, news),
  delete: (id, props) => loadDriverModule<typeof Impl>(IMPL).remove(id, props),
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
