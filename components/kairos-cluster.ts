/**
 * `KairosCluster`: a Kairos k3s cluster in one resource. Plans the roles (explicit or p2p), renders
 * and validates one cloud-config per node, boots the nodes on a target (libvirt VMs, or machines in
 * the live ISO over SSH), waits until SSH, the k3s API and every node are Ready, and returns the
 * kubeconfig, tokens and a ready `@pulumi/kubernetes` Provider. Arguments: ./cluster/args.ts;
 * the builder: ./cluster/create.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { createCluster, type ClusterNodeInfo } from "./cluster/create";
import type { KairosClusterArgs } from "./cluster/args";
import type { NodeOsInfo } from "../providers/lifecycle";

export type {
  KairosClusterArgs, ClusterImageArgs, ClusterTargetArgs, ClusterK3sArgs, ClusterP2pArgs, ClusterSecretsOptions, ClusterTimeoutsArgs, ClusterRolloutArgs, ClusterUpgradeArgs,
  LibvirtTargetArgs, LibvirtNetworkArgs, SshTargetArgs, SshTargetHost, MediaTargetArgs,
} from "./cluster/args";
export { KairosClusterArgsError } from "./cluster/args";
export type { ClusterNodeInfo } from "./cluster/create";
export type { NodeOsInfo } from "../providers/lifecycle";

/**
 * A Kairos k3s cluster: plans the roles (explicit or p2p), renders and validates one cloud-config
 * per node, boots the nodes on the target and waits until every node is Ready. Outputs the
 * kubeconfig, tokens and SSH key (secrets) and a `@pulumi/kubernetes` Provider. Type token
 * `kairos:index:KairosCluster`. See the README for what each argument change does to a running cluster.
 */
export class KairosCluster extends pulumi.ComponentResource {
  /** Every node: name, role, address, MAC address, libvirt domain name ("" where not applicable). */
  readonly nodes: pulumi.Output<ClusterNodeInfo[]>;
  /**
   * What each node reports running, by node name: Kairos version, flavor and shipped k3s version
   * (/etc/kairos-release), boot state (`active_boot`; `passive_boot` after a fallback) and
   * `k3s --version`. Read at create, after an upgrade and on `pulumi refresh` (so an upgrade by hand
   * shows); `{}` for a node that could not be read, and for targets that do not connect.
   */
  readonly nodeOs: pulumi.Output<Record<string, NodeOsInfo>>;
  /** `https://<endpoint>:6443` (VIP or first server; p2p: the elected master). */
  readonly apiEndpoint: pulumi.Output<string>;
  /** Admin kubeconfig pointed at apiEndpoint. Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** edgevpn network token (used in p2p mode). Secret. */
  readonly networkToken: pulumi.Output<string>;
  /** k3s join token. Secret. */
  readonly k3sToken: pulumi.Output<string>;
  /** The admin user's ed25519 private key (OpenSSH). Secret. */
  readonly sshPrivateKey: pulumi.Output<string>;
  /** The admin user's public key. */
  readonly sshPublicKey: pulumi.Output<string>;
  /** Rendered cloud-config per node name. Secret (holds tokens). */
  readonly cloudConfigs: pulumi.Output<Record<string, string>>;
  /** A @pulumi/kubernetes Provider for this cluster (undefined when the target does not connect). */
  readonly kubernetesProvider: k8s.Provider | undefined;

  constructor(name: string, args: KairosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kairos:index:KairosCluster", name, {}, opts);
    const c = createCluster(name, this, args);
    this.nodes = c.nodes;
    this.nodeOs = c.nodeOs;
    this.apiEndpoint = c.apiEndpoint;
    this.kubeconfig = c.kubeconfig;
    this.networkToken = c.networkToken;
    this.k3sToken = c.k3sToken;
    this.sshPrivateKey = c.sshPrivateKey;
    this.sshPublicKey = c.sshPublicKey;
    this.cloudConfigs = c.cloudConfigs;
    this.kubernetesProvider = c.kubernetesProvider;
    this.registerOutputs({
      nodes: this.nodes, nodeOs: this.nodeOs, apiEndpoint: this.apiEndpoint, kubeconfig: this.kubeconfig, networkToken: this.networkToken,
      k3sToken: this.k3sToken, sshPrivateKey: this.sshPrivateKey, sshPublicKey: this.sshPublicKey, cloudConfigs: this.cloudConfigs,
      kubernetesProvider: this.kubernetesProvider,
    });
  }
}
