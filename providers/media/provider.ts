/**
 * `NodeMedia`: a Pulumi dynamic resource writing one node's boot media (seed ISO, optionally its
 * role's installer ISO) into a folder. What its provider does is ./impl.ts, reached by package path
 * (../driver-provider.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverResource } from "../driver-provider";
import type { MediaFile, RoleIsoSpec } from "./spec";


/** Inputs of {@link NodeMedia}; see `NodeMediaInputs` in spec.ts. */
export interface NodeMediaArgs {
  /** Absolute folder holding ours; created if missing, its permissions never changed. */
  outputDir: pulumi.Input<string>;
  /**
   * Our folder inside `outputDir` (e.g. the cluster name), created 0700 and removed on delete once
   * empty. A change moves the files (replace). @default - the files go directly into `outputDir`
   */
  folder?: pulumi.Input<string>;
  /** Node name; the seed ISO is `<outputDir>/<folder>/<node>-cidata.iso`. */
  node: pulumi.Input<string>;
  /** The node's rendered cloud-config (made secret here). A change rewrites the files. */
  cloudConfig: pulumi.Input<string>;
  /** Also write the role's zero-touch ISO `<outputDir>/<folder>/<roleIso.name>.iso` (AuroraBoot build-iso). */
  roleIso?: pulumi.Input<RoleIsoSpec>;
}

/** One node's boot media. Type token `pulumi-nodejs:dynamic/kairos:NodeMedia`. */
export class NodeMedia extends DriverResource {
  /** Files written, with sha256 and size. */
  declare readonly files: pulumi.Output<MediaFile[]>;
  declare readonly configDigest: pulumi.Output<string>;
  /** Changes `read` found (missing or changed files); empty when intact. */
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: NodeMediaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { family: "media", kind: "nodeMedia", module: "kairos", type: "NodeMedia" },
      name,
      { ...args, cloudConfig: pulumi.secret(args.cloudConfig), files: undefined, configDigest: undefined, drift: undefined },
      { ...opts, additionalSecretOutputs: ["cloudConfig", ...(opts?.additionalSecretOutputs ?? [])] },
    );
  }
}
