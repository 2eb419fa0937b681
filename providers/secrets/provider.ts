/**
 * Dynamic provider of the secrets root (`pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets`).
 * Generates once in `create` and keeps the bundle in state; `diff` replaces only on `rotate` or a
 * changed user-supplied value, so a no-op `pulumi up` changes nothing; `read` returns the state as is
 * (nothing exists outside Pulumi's state); `delete` has nothing to remove. No file, no log line.
 *
 * Serialization: Pulumi serializes this provider object with its captured variables into the
 * `__provider` text that its dynamic-provider host (a fresh, plain `node` process) loads. The methods
 * therefore `require()` the driver inside their bodies, by an absolute path computed here (a relative
 * `require` would resolve from the host's cwd). From source (`.ts`, e.g. this repo's own `pulumi up`
 * or the L3 tests) the host has no TypeScript loader, so `loadDriverModule` (../load-driver.ts)
 * registers ts-node first; from the built package (`dist/*.js`) it is a plain require.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadDriverModule } from "../load-driver";
// Pulumi's wire encodings without the SDK (a serialized provider must not capture it).
import { SECRET_SIG, SIG_KEY, UNKNOWN_VALUE as UNKNOWN } from "../wire";
import type * as Driver from "./driver";

const DRIVER_MODULE = path.join(__dirname, "driver");

/** Loads the driver in whatever process runs the provider (see the header). */
function loadDriver(): typeof Driver {
  return loadDriverModule<typeof Driver>(DRIVER_MODULE);
}

const SECRET_FIELDS = ["networkToken", "k3sToken", "sshPrivateKey"];

/** Output fields returned as secret values, so the engine stores them encrypted. */
function wrapSecrets(outs: Record<string, unknown>): Record<string, unknown> {
  const result = { ...outs };
  for (const f of SECRET_FIELDS) {
    const v = result[f];
    if (v !== undefined && !(typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG)) {
      result[f] = { [SIG_KEY]: SECRET_SIG, value: v };
    }
  }
  return result;
}

/** Inputs with unknown (preview) values left out: they are checked once known. */
function knownOnly(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== UNKNOWN));
}

export const clusterSecretsProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const driver = loadDriver();
    const failures = driver.validateClusterSecretsInputs(knownOnly(news));
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const driver = loadDriver();
    const replaces = driver.replacementReasons(olds, news, (v) => v === UNKNOWN);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const driver = loadDriver();
    const bundle = driver.generateClusterSecrets(inputs);
    const state: Driver.ClusterSecretsState = {
      ...bundle,
      suppliedFields: driver.suppliedFields(inputs),
      ...(inputs.rotate !== undefined ? { rotate: inputs.rotate } : {}),
      ...(typeof inputs.networkTokenIntervalSeconds === "number" ? { networkTokenIntervalSeconds: inputs.networkTokenIntervalSeconds } : {}),
    };
    return { id: driver.newSecretsId(), outs: wrapSecrets({ ...state }) };
  },

  async read(id, props) {
    return { id, props: wrapSecrets(props) };
  },

  async delete() {
    // Nothing exists outside Pulumi's state.
  },
};

/** Inputs of the dynamic resource; user-supplied values must be passed as secrets. */
export interface ClusterSecretsResourceArgs {
  rotate?: pulumi.Input<string>;
  networkToken?: pulumi.Input<string>;
  k3sToken?: pulumi.Input<string>;
  sshPrivateKey?: pulumi.Input<string>;
  networkTokenIntervalSeconds?: pulumi.Input<number>;
}

/** Module and type of the dynamic resource: token `pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets`. */
export const CLUSTER_SECRETS_MODULE = "kairos-secrets";
export const CLUSTER_SECRETS_TYPE = "ClusterSecrets";

/** The one resource that holds the bundle in state. Use the `ClusterSecrets` component instead. */
export class ClusterSecretsResource extends pulumi.dynamic.Resource {
  declare readonly networkToken: pulumi.Output<string>;
  declare readonly k3sToken: pulumi.Output<string>;
  declare readonly sshPrivateKey: pulumi.Output<string>;
  declare readonly sshPublicKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterSecretsResourceArgs, opts?: pulumi.CustomResourceOptions) {
    const secret = <T>(v: pulumi.Input<T> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
    super(
      clusterSecretsProvider,
      name,
      {
        rotate: args.rotate,
        networkToken: secret(args.networkToken),
        k3sToken: secret(args.k3sToken),
        sshPrivateKey: secret(args.sshPrivateKey),
        networkTokenIntervalSeconds: args.networkTokenIntervalSeconds,
        // outputs, unknown until create
        sshPublicKey: undefined,
        suppliedFields: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: SECRET_FIELDS }),
      CLUSTER_SECRETS_MODULE,
      CLUSTER_SECRETS_TYPE,
    );
  }
}
