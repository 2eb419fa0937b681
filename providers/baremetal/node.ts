/**
 * `BareMetalNode`: a Pulumi dynamic resource per machine that installs Kairos over SSH from the live
 * ISO (see driver.ts for the steps and the host-key rules).
 *
 * The provider object is serialized by Pulumi into state and run by the dynamic-provider host in a
 * fresh process, so its methods load everything with `require()` by absolute path inside their
 * bodies (Pulumi's closure serialization captures the module-level path strings by value, and
 * only `require` calls of non-relative names stay requires). Running from TypeScript sources (tests,
 * `pulumi up` of a TS program) the host has no TypeScript loader: `loadDriverModule` (../load-driver.ts)
 * registers ts-node.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadDriverModule } from "../load-driver";
import { SECRET_SIG, SIG_KEY } from "../wire";
import type * as driverTypes from "./driver";
import type * as specTypes from "./spec";
import type { BareMetalHost, BareMetalNodeInputs, BareMetalNodeOutputs, BareMetalTimeouts } from "./spec";

const DRIVER_MODULE = path.join(__dirname, "driver");
const SPEC_MODULE = path.join(__dirname, "spec");


/** Drops undefined members: the host serializes outputs into a protobuf Struct, which has no undefined. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function withSecrets(outs: BareMetalNodeOutputs): Record<string, unknown> {
  // Wrapped as secrets, state values are stored encrypted even though they came back from `create`.
  const wrap = (v: unknown) => (v === undefined ? undefined : { [SIG_KEY]: SECRET_SIG, value: v });
  const host = defined({ ...outs.host, password: wrap(outs.host.password), privateKey: wrap(outs.host.privateKey) });
  return defined({ ...outs, host, cloudConfig: wrap(outs.cloudConfig), adminPrivateKey: wrap(outs.adminPrivateKey) });
}

function pulumiLog() {
  const p = require("@pulumi/pulumi") as typeof pulumi;
  return { info: (m: string) => p.log.info(m), warn: (m: string) => p.log.warn(m) };
}

export const bareMetalNodeProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const spec = loadDriverModule<typeof specTypes>(SPEC_MODULE);
    const failures = spec.checkInputs(news).map((i) => ({ property: i.path, reason: spec.formatIssue(i) }));
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const spec = loadDriverModule<typeof specTypes>(SPEC_MODULE);
    const d = spec.diffInputs(olds as BareMetalNodeOutputs, news as BareMetalNodeInputs);
    // Same machine: the old node must be gone (reset) before the new install.
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.replaces.length > 0 };
  },

  async create(inputs) {
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    const i = inputs as BareMetalNodeInputs;
    const installed = await driver.installNode(i, { log: pulumiLog() });
    return { id: `${i.host.name}@${i.host.address}`, outs: withSecrets({ ...i, ...installed }) };
  },

  async read(id, props) {
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    const state = props as BareMetalNodeOutputs;
    const reachable = await driver.probeNode(state);
    return { id, props: withSecrets({ ...state, reachable }) };
  },

  async update(_id, olds, news) {
    // Only connection settings changed (diff replaces everything else): keep what the install found.
    const o = olds as BareMetalNodeOutputs;
    return { outs: withSecrets({ ...(news as BareMetalNodeInputs), address: o.address, hostKeyLive: o.hostKeyLive, hostKey: o.hostKey, installedAt: o.installedAt, configDigest: o.configDigest, reachable: o.reachable }) };
  },

  async delete(_id, props) {
    const state = props as BareMetalNodeOutputs;
    if ((state.onDestroy ?? "none") !== "reset") return; // bare metal is not wiped unless asked
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    await driver.resetNode(state, { log: pulumiLog() });
  },
};

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
export class BareMetalNode extends pulumi.dynamic.Resource {
  declare readonly address: pulumi.Output<string>;
  declare readonly hostKeyLive: pulumi.Output<string>;
  declare readonly hostKey: pulumi.Output<string>;
  declare readonly installedAt: pulumi.Output<string>;
  declare readonly configDigest: pulumi.Output<string>;
  declare readonly reachable: pulumi.Output<boolean>;

  constructor(name: string, args: BareMetalNodeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      bareMetalNodeProvider,
      name,
      {
        ...args,
        cloudConfig: pulumi.secret(args.cloudConfig),
        adminPrivateKey: pulumi.secret(args.adminPrivateKey),
        address: undefined, hostKeyLive: undefined, hostKey: undefined, installedAt: undefined, configDigest: undefined, reachable: undefined,
      },
      { ...opts, additionalSecretOutputs: ["cloudConfig", "adminPrivateKey", ...(opts?.additionalSecretOutputs ?? [])] },
      "kairos",
      "BareMetalNode",
    );
  }
}
