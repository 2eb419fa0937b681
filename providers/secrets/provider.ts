/**
 * The secrets root's dynamic resource (`pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets`); what
 * its provider does is ./impl.ts, reached by package path (../driver-provider.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverResource } from "../driver-provider";
import { SECRET_FIELDS } from "./impl";


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
export class ClusterSecretsResource extends DriverResource {
  declare readonly networkToken: pulumi.Output<string>;
  declare readonly k3sToken: pulumi.Output<string>;
  declare readonly sshPrivateKey: pulumi.Output<string>;
  declare readonly sshPublicKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterSecretsResourceArgs, opts?: pulumi.CustomResourceOptions) {
    const secret = <T>(v: pulumi.Input<T> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
    super(
      { family: "secrets", kind: "clusterSecrets", module: CLUSTER_SECRETS_MODULE, type: CLUSTER_SECRETS_TYPE },
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
    );
  }
}
