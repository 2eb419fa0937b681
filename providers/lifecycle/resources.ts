/**
 * The lifecycle dynamic resources (`pulumi-nodejs:dynamic/kairos-lifecycle:<Type>`): what happens
 * to running nodes after the first `up`. What their provider does is ./impl.ts, reached by package
 * path (../driver-provider.ts). Composed by KairosCluster.
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverResource } from "../driver-provider";

/** A node as kubectl and SSH reach it. */
export interface NodeAccessArgs {
  name: string;
  address: string;
  /** @default 22 */
  port?: number;
}

export interface NodeConfigArgs {
  /** Kubernetes node name (= hostname). */
  node: pulumi.Input<string>;
  /** Where SSH reaches the node. */
  address: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  adminUser: pulumi.Input<string>;
  /** The admin user's private key (made secret here). After a change, nodes still on the old key are reached with that. */
  privateKey: pulumi.Input<string>;
  /** The node's rendered cloud-config (made secret here). */
  cloudConfig: pulumi.Input<string>;
  /** sha256 of cloudConfig: a change is applied to the running node. */
  configDigest: pulumi.Input<string>;
  /** sha256 of the config's k3s settings: a change also re-runs Kairos' k3s bootstrap at the next boot. */
  k3sDigest: pulumi.Input<string>;
  /** Digest of the settings that need a power cycle (vCPUs, memory): a change power-cycles the node. */
  restartDigest?: pulumi.Input<string>;
  /** Digest of the cluster's join and network tokens: a running node cannot take new ones in place. */
  secretsDigest?: pulumi.Input<string>;
  /** The machine (libvirt domain UUID) when its target rebuilds nodes: a new one booted its config already. */
  machineId?: pulumi.Input<string>;
  /** The servers, in plan order: kubectl (cordon, drain, uncordon) runs on one of them over SSH. */
  servers: pulumi.Input<pulumi.Input<NodeAccessArgs>[]>;
  /** `reboot`, `staged` (written to /oem, applied at the next reboot) or `reinstall` (the node is rebuilt instead: only recorded). */
  mode: pulumi.Input<"reboot" | "staged" | "reinstall">;
  drain: pulumi.Input<{ timeoutSeconds: number; force: boolean }>;
  /** Bound of the node's way back after a restart, in seconds. */
  readySeconds: pulumi.Input<number>;
  /** The node's libvirt domain (power cycle; waits end at once when it stops). */
  libvirt?: pulumi.Input<{ uri: string; domain: string }>;
  /** Serial console readable here, for diagnostics. */
  consoleLogFile?: pulumi.Input<string>;
  /** The OS image (OCI reference) the node should run: a change upgrades it in place (A/B). */
  osImage?: pulumi.Input<string>;
  /** How an osImage change is carried out: over SSH here, or by the kairos-operator (only recorded here). */
  upgrade?: pulumi.Input<{ by: "ssh" | "operator"; recovery: boolean; force: boolean }>;
}

/** What a node reports running: /etc/kairos-release, its boot state, its k3s version. */
export interface NodeOsInfo {
  kairosVersion?: string;
  flavor?: string;
  softwareVersion?: string;
  bootState?: string;
  k3sVersion?: string;
}

/** A running node's config and hardware settings as applied; changes roll through updates. */
export class NodeConfig extends DriverResource {
  declare readonly appliedConfigDigest: pulumi.Output<string>;
  declare readonly pendingReboot: pulumi.Output<boolean>;
  /** What the node reports running (read at create, after an upgrade and on refresh); undefined when it could not be read. */
  declare readonly os: pulumi.Output<NodeOsInfo | undefined>;

  constructor(name: string, args: NodeConfigArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { family: "lifecycle", kind: "nodeConfig", module: "kairos-lifecycle", type: "NodeConfig" },
      name,
      { ...args, cloudConfig: pulumi.secret(args.cloudConfig), privateKey: pulumi.secret(args.privateKey), appliedConfigDigest: undefined, pendingReboot: undefined, os: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["cloudConfig", "privateKey"] }),
    );
  }
}
