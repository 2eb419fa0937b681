/**
 * `BareMetalNode`: a Pulumi dynamic resource per machine that installs Kairos over SSH from the live
 * ISO. What its provider does is ./impl.ts, reached by package path (../driver-provider.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverResource } from "../driver-provider";
import type { BareMetalHost, BareMetalTimeouts } from "./spec";


/** Inputs of {@link BareMetalNode}; see `BareMetalNodeInputs` in spec.ts for each field. */
export interface BareMetalNodeArgs {
  host: pulumi.Input<{ [K in keyof BareMetalHost]: pulumi.Input<BareMetalHost[K]> }>;
  /** The node's rendered cloud-config (made secret here). Changing it replaces (reinstalls) the node. */
  cloudConfig: pulumi.Input<string>;
  adminUser: pulumi.Input<string>;
  /** The cluster's private key for `adminUser` (made secret here). */
  adminPrivateKey: pulumi.Input<string>;
  timeouts?: pulumi.Input<BareMetalTimeouts>;
  /** "none" (default) leaves the machine as is on destroy; "reset" runs `kairos-agent reset`. */
  onDestroy?: pulumi.Input<"none" | "reset">;
}

/**
 * One bare-metal machine installed with Kairos over SSH. Type token
 * `pulumi-nodejs:dynamic/kairos:BareMetalNode`.
 */
export class BareMetalNode extends DriverResource {
  declare readonly address: pulumi.Output<string>;
  declare readonly hostKeyLive: pulumi.Output<string>;
  declare readonly hostKey: pulumi.Output<string>;
  declare readonly installedAt: pulumi.Output<string>;
  declare readonly configDigest: pulumi.Output<string>;
  declare readonly reachable: pulumi.Output<boolean>;

  constructor(name: string, args: BareMetalNodeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { family: "baremetal", kind: "node", module: "kairos", type: "BareMetalNode" },
      name,
      {
        ...args,
        cloudConfig: pulumi.secret(args.cloudConfig),
        adminPrivateKey: pulumi.secret(args.adminPrivateKey),
        address: undefined, hostKeyLive: undefined, hostKey: undefined, installedAt: undefined, configDigest: undefined, reachable: undefined,
      },
      { ...opts, additionalSecretOutputs: ["cloudConfig", "adminPrivateKey", ...(opts?.additionalSecretOutputs ?? [])] },
    );
  }
}
