/**
 * `ClusterReady` (`pulumi-nodejs:dynamic/kairos-readiness:ClusterReady`): a dynamic resource whose
 * create waits until the cluster is usable. What its provider does is ./impl.ts, reached by package
 * path (../driver-provider.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverResource } from "../driver-provider";


/** Inputs of ClusterReady; see ./driver.ts `ClusterReadyInputs` for meanings. */
export interface ClusterReadyArgs {
  mode: pulumi.Input<"explicit" | "p2p">;
  adminUser: pulumi.Input<string>;
  /** Secret. */
  privateKey: pulumi.Input<string>;
  nodes: pulumi.Input<pulumi.Input<{
    name: string; address: string; port?: number; consoleLogFile?: string; libvirt?: { uri: string; domain: string }; role?: "server" | "agent" | "node";
  }>[]>;
  endpoint?: pulumi.Input<string>;
  /** In seconds. */
  sshTimeoutSeconds: pulumi.Input<number>;
  /** In seconds. */
  readyTimeoutSeconds: pulumi.Input<number>;
  /** Pause between attempts, in ms. @default 2000 */
  intervalMs?: pulumi.Input<number>;
  /** Name of the kubeconfig's cluster, user and context. @default k3s' "default" */
  contextName?: pulumi.Input<string>;
  /** How a node that leaves is drained. @default 300 s, no force */
  drain?: pulumi.Input<{ timeoutSeconds: number; force: boolean }>;
}

export const CLUSTER_READY_MODULE = "kairos-readiness";

/**
 * Waits in create for SSH, k3s Ready and the kubeconfig; nodes joining or leaving are updates (a
 * node that leaves is drained and deleted from Kubernetes first); refresh looks again. Use through
 * KairosCluster; usable alone.
 */
export class ClusterReady extends DriverResource {
  /** Admin kubeconfig pointed at the endpoint. Secret. */
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly apiEndpoint: pulumi.Output<string>;
  declare readonly hostKeys: pulumi.Output<Record<string, string>>;
  declare readonly readyNodes: pulumi.Output<string[]>;
  /** Nodes a refresh found not Ready (or missing, or unreachable). */
  declare readonly notReady: pulumi.Output<Array<{ name: string; status: string }>>;
  /** When the kubeconfig's client certificate ends (ISO 8601), when known. */
  declare readonly certExpiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: ClusterReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { family: "readiness", kind: "clusterReady", module: CLUSTER_READY_MODULE, type: "ClusterReady" },
      name,
      {
        ...args, privateKey: pulumi.secret(args.privateKey), kubeconfig: undefined, apiEndpoint: undefined, hostKeys: undefined, readyNodes: undefined,
        notReady: undefined, certExpiresAt: undefined, kubeconfigContext: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig", "privateKey"] }),
    );
  }
}
