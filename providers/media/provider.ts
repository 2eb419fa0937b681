/**
 * `NodeMedia`: a Pulumi dynamic resource writing one node's boot media (seed ISO, optionally its
 * role's installer ISO) into a folder. No connection to any machine.
 *
 * The provider object is serialized into state and run by the dynamic-provider host in a fresh
 * process, so its methods load spec/driver with `loadDriverModule` by absolute path inside their
 * bodies (see providers/load-driver.ts).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadDriverModule } from "../load-driver";
import type * as driverTypes from "./driver";
import type * as specTypes from "./spec";
import type { MediaFile, NodeMediaInputs, NodeMediaOutputs, RoleIsoSpec } from "./spec";

const DRIVER_MODULE = path.join(__dirname, "driver");
const SPEC_MODULE = path.join(__dirname, "spec");

// Pulumi's secret signature (sdk/nodejs/runtime/rpc.ts `specialSigKey`/`specialSecretSig`): the
// config comes back from create/read wrapped, so state keeps it encrypted.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function withSecret(outs: NodeMediaOutputs): Record<string, unknown> {
  const o: Record<string, unknown> = { ...outs, cloudConfig: { [SECRET_SIG]: SECRET_VALUE, value: outs.cloudConfig } };
  if (o.roleIso === undefined) delete o.roleIso; // a protobuf Struct has no undefined
  return o;
}

export const nodeMediaProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const spec = loadDriverModule<typeof specTypes>(SPEC_MODULE);
    return { inputs: news, failures: spec.checkInputs(news).map((i) => ({ property: i.path, reason: spec.formatIssue(i) })) };
  },

  async diff(_id, olds, news) {
    const spec = loadDriverModule<typeof specTypes>(SPEC_MODULE);
    const replaces = spec.diffInputs(olds as NodeMediaOutputs, news as NodeMediaInputs);
    // Same file names: the old files must go before the new ones are written.
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    const spec = loadDriverModule<typeof specTypes>(SPEC_MODULE);
    const i = inputs as NodeMediaInputs;
    const p = require("@pulumi/pulumi") as typeof pulumi;
    const files = await driver.writeNodeMedia(i, { log: (m) => p.log.info(m) });
    const outs: NodeMediaOutputs = { ...i, configDigest: spec.configDigest(i.cloudConfig), files, drift: [] };
    return { id: spec.cidataPath(i), outs: withSecret(outs) };
  },

  async read(id, props) {
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    const state = props as NodeMediaOutputs;
    const drift = await driver.checkNodeMedia(state.files ?? []);
    return { id, props: withSecret({ ...state, drift }) };
  },

  async delete(_id, props) {
    const driver = loadDriverModule<typeof driverTypes>(DRIVER_MODULE);
    driver.removeNodeMedia((props as NodeMediaOutputs).files ?? []);
  },
};

/** Inputs of {@link NodeMedia}; see `NodeMediaInputs` in spec.ts. */
export interface NodeMediaArgs {
  /** Absolute folder for the files; created and kept 0700. */
  outputDir: pulumi.Input<string>;
  /** Node name; the seed ISO is `<outputDir>/<node>-cidata.iso`. */
  node: pulumi.Input<string>;
  /** The node's rendered cloud-config (made secret here). A change rewrites the files. */
  cloudConfig: pulumi.Input<string>;
  /** Also write the role's zero-touch ISO `<outputDir>/<roleIso.name>.iso` (AuroraBoot build-iso). */
  roleIso?: pulumi.Input<RoleIsoSpec>;
}

/** One node's boot media. Type token `pulumi-nodejs:dynamic/kairos:NodeMedia`. */
export class NodeMedia extends pulumi.dynamic.Resource {
  /** Files written, with sha256 and size. */
  declare readonly files: pulumi.Output<MediaFile[]>;
  declare readonly configDigest: pulumi.Output<string>;
  /** Changes `read` found (missing or changed files); empty when intact. */
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: NodeMediaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      nodeMediaProvider,
      name,
      { ...args, cloudConfig: pulumi.secret(args.cloudConfig), files: undefined, configDigest: undefined, drift: undefined },
      { ...opts, additionalSecretOutputs: ["cloudConfig", ...(opts?.additionalSecretOutputs ?? [])] },
      "kairos",
      "NodeMedia",
    );
  }
}
