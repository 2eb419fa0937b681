/**
 * The libvirt dynamic resources (type tokens `pulumi-nodejs:dynamic/kairos-libvirt:<Type>`), one per
 * libvirt object. Each names its object `physicalName([stack, cluster, node?, kind])` unless `name`
 * is given. Composed by KairosCluster; usable alone.
 */
import * as pulumi from "@pulumi/pulumi";
import { DriverKind, DriverResource } from "../driver-provider";
import type { DhcpHost } from "../../kairos/libvirt";

const MODULE = "kairos-libvirt";

// Each kind forwards to ./impl.ts by package path (../driver-provider.ts). Each class exposes as Output
// properties only what the components read: every property costs a registration step per resource
// (bench: plan). The providers' other outputs (paths, sizes, digests, UUID) are in state all the same.
const kind = (k: string, type: string): DriverKind => ({ family: "libvirt", kind: k, module: MODULE, type });

/** Where and whose: shared by every libvirt resource. */
export interface LibvirtOwnerArgs {
  /** libvirt URI. @default "qemu:///system". Remote: `qemu+ssh://user@host[:port]/system?keyfile=/path` */
  uri?: pulumi.Input<string>;
  /** Stack part of the physical name and metadata. @default the current Pulumi stack */
  stack?: pulumi.Input<string>;
  /** Cluster part of the physical name and metadata. */
  cluster: pulumi.Input<string>;
  /** Physical name override. @default - physicalName([stack, cluster, node?, kind]) */
  name?: pulumi.Input<string>;
}

/**
 * Marks an object of an ephemeral cluster in its owner metadata, so `pulumi-kairos reap` may remove
 * it once expired or once `statePath` is gone. Create-time facts: a later change of either is
 * ignored (no update, no replacement); the object keeps the values it was created with.
 */
export interface EphemeralMarkArgs {
  /** When the cluster may be reaped: ISO-8601 UTC, e.g. "2026-12-02T13:00:00Z". @default - never expires */
  expiresAt?: pulumi.Input<string>;
  /** Absolute path of the folder holding the cluster's state; once it is gone the cluster is orphaned. @default - never orphaned */
  statePath?: pulumi.Input<string>;
}

export interface BaseImageVolumeArgs extends LibvirtOwnerArgs {
  /** Storage pool (must exist and run). */
  pool: pulumi.Input<string>;
  /**
   * Image to import: a local qcow2/raw/ISO file (`{ kind: "file", path }`, format detected with
   * `qemu-img info`) or an http(s) URL verified against `sha256` before upload. An unchanged digest
   * is never re-uploaded; a changed one replaces the volume.
   */
  source: pulumi.Input<{ kind: "file"; path: string } | { kind: "url"; url: string; sha256?: string; checksumUrl?: string }>;
}

/** A base image volume in a storage pool, uploaded with `virsh vol-upload`. */
export class BaseImageVolume extends DriverResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly pool: pulumi.Output<string>;

  constructor(name: string, args: BaseImageVolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(kind("baseImage", "BaseImageVolume"), name, { ...args, stack: args.stack ?? pulumi.getStack(), name: args.name }, opts);
  }
}

export interface NodeDiskArgs extends LibvirtOwnerArgs {
  /** Node part of the physical name. */
  node: pulumi.Input<string>;
  pool: pulumi.Input<string>;
  /** Requested size, in GiB; the disk is at least the base image's virtual size. */
  sizeGiB: pulumi.Input<number>;
  /** A value whose change replaces the disk with a fresh one (KairosCluster's configChange "reinstall"). */
  reinstallDigest?: pulumi.Input<string>;
  /** Another such value (KairosCluster: the cluster's tokens, which a running node cannot take). */
  rebuildDigest?: pulumi.Input<string>;
  /** Base image volume to overlay (qcow2 backing store, never a copy). Omit for an empty disk (ISO-install mode). */
  baseVolume?: pulumi.Input<string>;
  /** Pool of the base volume. @default pool */
  basePool?: pulumi.Input<string>;
}

/** A node's disk: a qcow2 overlay over the base volume, or an empty qcow2. Any change replaces it. */
export class NodeDisk extends DriverResource {
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: NodeDiskArgs, opts?: pulumi.CustomResourceOptions) {
    super(kind("nodeDisk", "NodeDisk"), name, { ...args, stack: args.stack ?? pulumi.getStack(), name: args.name }, opts);
  }
}

export interface CidataVolumeArgs extends LibvirtOwnerArgs {
  node: pulumi.Input<string>;
  pool: pulumi.Input<string>;
  /** The node's rendered cloud-config (first line `#cloud-config`). Kept secret; only its sha256 is an output. */
  userData: pulumi.Input<string>;
  /** meta-data text. @default `instance-id: <digest>` and `local-hostname: <node>` */
  metaData?: pulumi.Input<string>;
}

/** A NoCloud seed volume (ISO9660 labelled `cidata`). Content-addressed: changed user-data = new volume. */
export class CidataVolume extends DriverResource {
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: CidataVolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(kind("cidata", "CidataVolume"), name, { ...args, stack: args.stack ?? pulumi.getStack(), name: args.name, userData: pulumi.secret(args.userData) }, opts);
  }
}

export interface NetworkArgs extends LibvirtOwnerArgs, EphemeralMarkArgs {
  /** `existing` uses the network `name` as is (never deleted); `nat` or `isolated` create one owned by the cluster. */
  mode: pulumi.Input<"existing" | "nat" | "isolated">;
  /** IPv4 subnet for a created network, e.g. `10.77.0.0/24`; the host takes the first address. */
  cidr?: pulumi.Input<string>;
  /** DHCP range. @default - second address to the one before broadcast */
  dhcpStart?: pulumi.Input<string>;
  dhcpEnd?: pulumi.Input<string>;
  /** DHCP reservations of a created network; changes are applied in place. @default [] */
  hosts?: pulumi.Input<pulumi.Input<DhcpHost>[]>;
}

/** A libvirt network: existing, or created (autostart off) and destroyed + undefined on delete. */
export class Network extends DriverResource {
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(kind("network", "Network"), name, { ...args, stack: args.stack ?? pulumi.getStack(), name: args.name }, opts);
  }
}

export interface DomainArgs extends LibvirtOwnerArgs, EphemeralMarkArgs {
  node: pulumi.Input<string>;
  /** `auto` = `kvm` when usable, else `qemu` (software emulation). @default "auto" */
  domainType?: pulumi.Input<"auto" | "kvm" | "qemu">;
  /** @default "bios". `uefi` needs OVMF on the hypervisor host (apt-get install ovmf); its nvram is removed on delete. */
  firmware?: pulumi.Input<"bios" | "uefi">;
  /** @default "/usr/share/OVMF/OVMF_CODE_4M.fd" */
  ovmfLoader?: pulumi.Input<string>;
  /** @default "/usr/share/OVMF/OVMF_VARS_4M.fd" */
  ovmfVars?: pulumi.Input<string>;
  vcpus: pulumi.Input<number>;
  /** Memory, in MiB. */
  memoryMiB: pulumi.Input<number>;
  /** Pool holding the node's volumes. */
  pool: pulumi.Input<string>;
  /** The node disk volume (virtio, boot order 1). */
  diskVolume: pulumi.Input<string>;
  /** The cidata volume (read-only SATA cdrom). */
  cidataVolume?: pulumi.Input<string>;
  /** ISO-install mode: the Kairos ISO volume (SATA cdrom, boot order 2: after the install reboot the disk wins). */
  installIsoVolume?: pulumi.Input<string>;
  /** libvirt network for the virtio NIC. */
  network: pulumi.Input<string>;
  /** Fixed MAC. @default - libvirt picks one */
  mac?: pulumi.Input<string>;
  /** Wait in create for an IPv4 address (lease, then guest agent, then ARP). @default true */
  waitForAddress?: pulumi.Input<boolean>;
  /** Bound of that wait, in seconds. @default 300 */
  addressTimeoutSeconds?: pulumi.Input<number>;
}

/** A node VM. vCPUs, memory and the cidata volume change in place; disk, network, MAC and firmware replace it. */
export class Domain extends DriverResource {
  declare readonly name: pulumi.Output<string>;
  /** MAC address of the NIC (the fixed one, or the one libvirt picked). */
  declare readonly macAddress: pulumi.Output<string>;
  /** IPv4 address found in create ("" when not awaited). */
  declare readonly address: pulumi.Output<string>;
  /** Serial console log on the hypervisor host. */
  declare readonly serialLogFile: pulumi.Output<string>;
  /** libvirt's UUID of the domain (its id): what read, delete and a power cycle address. */
  declare readonly uuid: pulumi.Output<string>;

  constructor(name: string, args: DomainArgs, opts?: pulumi.CustomResourceOptions) {
    super(kind("domain", "Domain"), name, { ...args, stack: args.stack ?? pulumi.getStack(), name: args.name, macAddress: undefined, address: undefined, serialLogFile: undefined, uuid: undefined }, opts);
  }
}
