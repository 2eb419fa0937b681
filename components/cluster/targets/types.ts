/**
 * The contract between KairosCluster and where its nodes run (a "target"): libvirt VMs
 * (./libvirt.ts), bare-metal hosts over SSH (./ssh.ts) or boot media written to a folder
 * (./media.ts). The component plans roles and renders one cloud-config per node; a target turns
 * each rendered config into a machine (or a file) and says how to reach it.
 *
 * Lifecycle, as KairosCluster drives it:
 * 1. `create<Kind>Target(args, ctx)` once per cluster: shared objects (base image volume, network)
 *    are created here, as children of `ctx.parent`.
 * 2. `target.staticAddress(...)` for the first server: when it returns an address (a known SSH
 *    host), every node is rendered at once; else the first server is created first and the others
 *    are rendered with its `address` (Output chaining: only joining nodes depend on it).
 * 3. `target.createNode(spec, { dependsOn })` per node, in plan order.
 * 4. When `target.connects`, a ClusterReady resource waits on every `TargetNode.ready` and then
 *    SSHes to `address` as `ctx.adminUser`.
 *
 * Everything here is internal to the package: users see only KairosClusterArgs.target.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeRole } from "../../../kairos/roles";
import type { BootMode } from "../../../kairos/cluster-config";

/** Timeouts after defaults were applied, in seconds. */
export interface ResolvedTimeouts {
  /** Bound of the wait for a node's IPv4 address (libvirt lease/agent/ARP). */
  addressSeconds: number;
  /** Bound of the wait for SSH as the admin user on every node (and, bare metal, the install reboot). */
  sshSeconds: number;
  /** Bound of the wait for the k3s API and every expected node Ready. */
  readySeconds: number;
}

/** The cluster-wide facts a target needs. */
export interface TargetContext {
  /** Pulumi stack name (part of physical names and metadata). */
  stack: string;
  /** Cluster name = the KairosCluster resource name; node names start with it. */
  cluster: string;
  /** The KairosCluster: parent of every resource a target creates. */
  parent: pulumi.Resource;
  /** Admin user created on every node (group admin, SSH keys only). */
  adminUser: string;
  /** OpenSSH private key of the admin user. Secret. */
  adminPrivateKey: pulumi.Output<string>;
  /** Public key matching `adminPrivateKey`. */
  adminPublicKey: pulumi.Output<string>;
  timeouts: ResolvedTimeouts;
  /** Every node name of the plan, servers first: a node's position here is its ordinal (fixed addresses). */
  nodeNames: readonly string[];
}

/**
 * The image to boot, resolved from KairosClusterArgs.image (a local file or a URL with checksum).
 * Outputs throughout: the image may come from `KairosImage.clusterImage()`, known only after a build.
 */
export interface ResolvedImage {
  /** `disk`: a pre-installed raw/qcow2 image that boots directly; `iso`: a live ISO that installs. */
  kind: pulumi.Output<"disk" | "iso">;
  /** Local file path (absolute). Exactly one of path / url. */
  path?: pulumi.Output<string>;
  /** http(s) URL, verified against `sha256`. */
  url?: pulumi.Output<string>;
  /** sha256 (hex) of the URL's bytes; required with `url`. */
  sha256?: pulumi.Output<string>;
  /** URL of a sha256sum file naming the image (instead of `sha256`). */
  checksumUrl?: pulumi.Output<string>;
  /** Image format, when the user said so. @default - detected */
  format?: pulumi.Output<"qcow2" | "raw" | "iso" | undefined>;
}

/** One node to create, with its rendered cloud-config. */
export interface TargetNodeSpec {
  /** Node name and hostname, e.g. `demo-server-0` (kairos/roles). Also the Pulumi child-name suffix. */
  name: string;
  role: NodeRole;
  /** Position within its group (servers, agents or p2p nodes), from 0. */
  index: number;
  /** Group the node was planned in: explicit `server`/`agent`, p2p `node`. */
  group: "server" | "agent" | "node";
  /** Rendered cloud-config (`#cloud-config` first line). Secret. */
  cloudConfig: pulumi.Output<string>;
  /** sha256 hex of `cloudConfig`. Not secret. */
  configDigest: pulumi.Output<string>;
  /**
   * How a changed config reaches a running node: `reboot`/`staged` through /oem (KairosCluster's
   * NodeConfig; the target must not rebuild the node for it), `reinstall` by a fresh disk (the
   * target rebuilds the node when `configDigest` changes).
   */
  configChange: ConfigChange;
  /**
   * Digest of the cluster's k3s join token and edgevpn network token. A running node cannot take
   * new ones: a target that can rebuild nodes does so when it changes.
   */
  secretsDigest: pulumi.Output<string>;
}

/** See KairosClusterArgs.configChange. */
export type ConfigChange = "reboot" | "staged" | "reinstall";

/** What a target made of one node. */
export interface TargetNode {
  name: string;
  role: NodeRole;
  /** IPv4 address or DNS name reachable over SSH; undefined when the target does not connect (media). */
  address: pulumi.Output<string | undefined>;
  /** SSH port on `address`. @default 22 */
  sshPort?: pulumi.Output<number | undefined>;
  /** NIC MAC address, when known. */
  macAddress?: pulumi.Output<string | undefined>;
  /** libvirt domain name (libvirt target only). */
  domainName?: pulumi.Output<string | undefined>;
  /** Serial console log on the machine running Pulumi, for timeout diagnostics (local libvirt only). */
  consoleLogFile?: pulumi.Output<string | undefined>;
  /** The node's libvirt domain (UUID), so waits end at once when it stops running, and for a power cycle. */
  libvirt?: pulumi.Output<{ uri: string; domain: string }>;
  /** Digest of the settings that take a power cycle (libvirt: vCPUs, memory); a change power-cycles the node, rolling. */
  restartDigest?: pulumi.Output<string>;
  /** Resources the readiness wait must follow (the domain, the install, the written media). */
  ready: pulumi.Resource[];
}

/** A place where nodes run. One instance per cluster. */
export interface NodeTarget {
  /** Target kind, as in KairosClusterArgs.target.kind. */
  readonly kind: "libvirt" | "ssh" | "media";
  /**
   * How Kairos gets onto the node's disk (decides the `install` block, kairos/cluster-config):
   * `disk` boots a pre-installed image; `iso` and `baremetal` install to `installDevice`.
   * An Output when it follows an image known only after a build (libvirt: the image's kind).
   */
  readonly bootMode: pulumi.Input<BootMode>;
  /** Install target for iso/baremetal: `auto`, `/dev/...` or `script://...`. @default "auto" */
  readonly installDevice?: string;
  /**
   * false when nothing can be reached from here (media): KairosCluster then creates no readiness
   * wait and its kubeconfig/apiEndpoint outputs are "".
   */
  readonly connects: boolean;
  /**
   * The node's address when known before anything boots (an SSH host's address), else undefined
   * (a DHCP lease). Used for the endpoint: known => render every node at once.
   */
  staticAddress(name: string, index: number, group: "server" | "agent" | "node"): string | undefined;
  /** Create the node's resources (children of ctx.parent, names prefixed with the node name). */
  createNode(spec: TargetNodeSpec, opts: { dependsOn: pulumi.Resource[] }): TargetNode;
}

/** Signature every target module exports, e.g. `createLibvirtTarget(args, image, ctx)`. */
export type TargetFactory<Args> = (args: Args, image: ResolvedImage, ctx: TargetContext, counts?: TargetCounts) => NodeTarget;

/** The planned node counts, for targets that map hosts to nodes (ssh). */
export interface TargetCounts {
  servers: number;
  agents: number;
  mode?: "explicit" | "p2p";
}
