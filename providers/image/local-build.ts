/**
 * `KairosImageBuild`: the dynamic resource that builds a Kairos image on the machine running
 * Pulumi. What its provider does is ./impl.ts (`localBuild`), reached by package path
 * (../driver-provider.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArtifactInfo, ImageSpec } from "../../kairos/image";
import { DriverResource } from "../driver-provider";


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

export class KairosImageBuild extends DriverResource {
  declare readonly contentKey: pulumi.Output<string>;
  declare readonly imageRef: pulumi.Output<string>;
  declare readonly imageDigest: pulumi.Output<string>;
  declare readonly kairosVersion: pulumi.Output<string>;
  declare readonly dockerfile: pulumi.Output<string>;
  declare readonly artifacts: pulumi.Output<ArtifactInfo[]>;
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: KairosImageBuildArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { family: "image", kind: "localBuild", module: "kairos-image", type: "KairosImageBuild" },
      name,
      {
        contentKey: undefined, imageRef: undefined, imageDigest: undefined, kairosVersion: undefined,
        dockerfile: undefined, artifacts: undefined, drift: undefined, recordPath: undefined,
        ...args,
      },
      { ...opts, additionalSecretOutputs: ["cloudConfig", "pushPassword"] },
    );
  }
}
