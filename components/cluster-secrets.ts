/**
 * `ClusterSecrets`: the root of a cluster's secrets, generated once and kept in Pulumi state (like
 * Talos' `talos_machine_secrets`): the edgevpn network token, the k3s join token and the ed25519 SSH
 * key pair of the nodes' admin user. They change only when `rotate` changes or a value you bring
 * changes; a no-op `pulumi up` leaves them alone.
 */
import * as pulumi from "@pulumi/pulumi";
import { validateClusterSecretsInputs } from "../providers/secrets/driver";
import { ClusterSecretsResource } from "../providers/secrets/provider";

/** Arguments of {@link ClusterSecrets}; every field is optional. */
export interface ClusterSecretsArgs {
  /**
   * Any value; changing it regenerates every secret that you did not supply (e.g. a date:
   * "2026-11-25"). Replaces the secrets resource, and so the nodes that use the secrets.
   * @default - unset: secrets are generated once and kept.
   */
  rotate?: pulumi.Input<string>;
  /**
   * Bring your own edgevpn network token (base64 of edgevpn's YAML, e.g. from `edgevpn -g` or
   * `kairosctl generate-token`); validated by decoding it. Stored as a secret.
   * Note: excludes `networkTokenIntervalSeconds`.
   * @default - generated with a CSPRNG.
   */
  networkToken?: pulumi.Input<string>;
  /**
   * Bring your own k3s join token: 16-256 characters of `[A-Za-z0-9._-]` not starting with "K10",
   * or a full k3s token `K10<64 hex>::<user>:<password>`. Stored as a secret.
   * @default - generated: 48 characters of `[a-z0-9]`.
   */
  k3sToken?: pulumi.Input<string>;
  /**
   * Bring your own SSH key for the nodes' admin user: an unencrypted ed25519 private key in OpenSSH
   * format (`ssh-keygen -t ed25519 -N ""`). The public key is derived from it. Stored as a secret.
   * @default - a new ed25519 key pair.
   */
  sshPrivateKey?: pulumi.Input<string>;
  /**
   * OTP rotation period of a generated network token, in seconds (`otp.dht.interval` and
   * `otp.crypto.interval`). Note: excludes `networkToken`.
   * Rotation needs synced clocks on every node (docs/kairos-notes.md §4).
   * @default - no rotation (interval MaxInt64, as `kairosctl generate-token`; `kairos/edgevpn/token.ts`).
   */
  networkTokenIntervalSeconds?: pulumi.Input<number>;
}

/**
 * The root of a cluster's secrets, generated once and kept in Pulumi state (edgevpn network token,
 * k3s join token, the admin user's ed25519 key pair). `KairosCluster` makes one; use it directly to
 * share secrets between stacks or programs. Type token `kairos:index:ClusterSecrets`.
 */
export class ClusterSecrets extends pulumi.ComponentResource {
  /** edgevpn network token (`p2p.network_token`). Secret. */
  readonly networkToken: pulumi.Output<string>;
  /** k3s join token (`K3S_TOKEN`). Secret. */
  readonly k3sToken: pulumi.Output<string>;
  /** OpenSSH ed25519 private key of the nodes' admin user. Secret. */
  readonly sshPrivateKey: pulumi.Output<string>;
  /** `ssh-ed25519 AAAA... pulumi-kairos`, for `ssh_authorized_keys`. Not secret. */
  readonly sshPublicKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("kairos:index:ClusterSecrets", name, {}, opts);
    // Values known now fail here, at construction; the rest are checked by the provider's check.
    const known = Object.fromEntries(Object.entries(args).filter(([, v]) => !pulumi.Output.isInstance(v) && !(v instanceof Promise)));
    const issues = validateClusterSecretsInputs(known);
    if (issues.length > 0) throw new pulumi.ResourceError(issues.map((i) => i.reason).join("\n"), this);

    const secrets = new ClusterSecretsResource(`${name}-secrets`, args, { parent: this });
    this.networkToken = pulumi.secret(secrets.networkToken);
    this.k3sToken = pulumi.secret(secrets.k3sToken);
    this.sshPrivateKey = pulumi.secret(secrets.sshPrivateKey);
    this.sshPublicKey = secrets.sshPublicKey;
    this.registerOutputs({
      networkToken: this.networkToken,
      k3sToken: this.k3sToken,
      sshPrivateKey: this.sshPrivateKey,
      sshPublicKey: this.sshPublicKey,
    });
  }
}
