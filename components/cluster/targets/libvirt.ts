/**
 * The `libvirt` target: one VM per node on a libvirt host (local `qemu:///system` or remote
 * `qemu+ssh://...`). Shared per cluster: the base image volume (the Kairos disk image or ISO) and the
 * network (existing, or created and owned). Per node: a disk (qcow2 overlay of the base image, or an
 * empty disk for ISO install), a NoCloud `cidata` volume with the node's cloud-config
 * (content-addressed: a changed config is a new volume and a replaced VM), and the domain, whose
 * create waits for the node's DHCP address.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ValidationIssue } from "../../../kairos/cloudconfig/model";
import { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "../../../providers/libvirt";
import { isIsoUtc, nodeAddress, nodeCapacity, nodeMac } from "../../../kairos/libvirt";
import type { NodeTarget, ResolvedImage, TargetContext, TargetNode, TargetNodeSpec } from "./types";

/** A libvirt network to use as is, or one the cluster creates and deletes. */
export type LibvirtNetworkArgs =
  | {
    kind: "existing";
    /** Name of a running libvirt network, e.g. "default". */
    name: string;
  }
  | {
    kind: "create";
    /** `nat`: guests reach out through the host; `isolated`: no forwarding at all. */
    mode: "nat" | "isolated";
    /** IPv4 subnet, e.g. "10.77.0.0/24"; the host takes the first address, DHCP the rest. */
    cidr: string;
  };

/** The `libvirt` target: one VM per node on a local or remote (`qemu+ssh://`) libvirt host. */
export interface LibvirtTargetArgs {
  kind: "libvirt";
  /** libvirt URI. @default "qemu:///system". Remote: `qemu+ssh://user@host/system?keyfile=/path` */
  uri?: pulumi.Input<string>;
  /** Storage pool for every volume (must exist and run). @default "default" */
  pool?: pulumi.Input<string>;
  /** @default { kind: "existing", name: "default" } */
  network?: LibvirtNetworkArgs;
  /** Virtual CPUs per node. @default 2 */
  vcpus?: pulumi.Input<number>;
  /** Memory per node, in MiB. @default 4096 (Kairos with k3s wants at least 2048) */
  memoryMiB?: pulumi.Input<number>;
  /** Disk size per node, in GiB; at least the image's virtual size. @default 40 */
  diskGiB?: pulumi.Input<number>;
  /** `uefi` needs OVMF on the hypervisor host (apt-get install ovmf). @default "bios" */
  firmware?: pulumi.Input<"bios" | "uefi">;
  /** `auto` = kvm when usable, else qemu (software emulation, slow). @default "auto" */
  domainType?: pulumi.Input<"auto" | "kvm" | "qemu">;
  /**
   * Marks the cluster's libvirt objects (its network, when created, and every domain) as ephemeral,
   * so `pulumi-kairos reap` may remove them once `expiresAt` has passed or once `statePath` no
   * longer exists. Clusters without it are never reaped. Both are stamped at create: a later change
   * is ignored. @default - not ephemeral
   */
  ephemeral?: {
    /** When the cluster may be reaped: ISO-8601 UTC, e.g. "2026-12-02T13:00:00Z". */
    expiresAt?: string;
    /** Absolute path, on this machine, of the folder holding the cluster's state (e.g. its Pulumi backend). */
    statePath?: string;
  };
}

const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));
const known = (v: unknown) => v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Every problem in the known values of `target` (field paths `target.*`). */
export function validateLibvirtTarget(t: LibvirtTargetArgs, nodes?: number): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const int = (path: string, v: unknown, min: number, max: number, unit: string) => {
    if (known(v) && !(typeof v === "number" && Number.isInteger(v) && v >= min && v <= max)) {
      issues.push({ path, value: show(v), expected: `a whole number of ${unit} from ${min} to ${max}` });
    }
  };
  if (known(t.uri) && (typeof t.uri !== "string" || !/^[a-z0-9+]+:\/\//.test(t.uri))) {
    issues.push({ path: "target.uri", value: show(t.uri), expected: 'a libvirt URI such as "qemu:///system" or "qemu+ssh://root@host/system"' });
  }
  if (known(t.pool) && (typeof t.pool !== "string" || t.pool === "")) issues.push({ path: "target.pool", value: show(t.pool), expected: "the name of a storage pool" });
  int("target.vcpus", t.vcpus, 1, 256, "vCPUs");
  int("target.memoryMiB", t.memoryMiB, 128, 4_194_304, "MiB");
  int("target.diskGiB", t.diskGiB, 1, 65_536, "GiB");
  if (known(t.firmware) && t.firmware !== "bios" && t.firmware !== "uefi") issues.push({ path: "target.firmware", value: show(t.firmware), expected: '"bios" or "uefi"' });
  if (known(t.domainType) && !["auto", "kvm", "qemu"].includes(t.domainType as string)) {
    issues.push({ path: "target.domainType", value: show(t.domainType), expected: '"auto", "kvm" or "qemu"' });
  }
  const e = t.ephemeral as Record<string, unknown> | undefined;
  if (e !== undefined) {
    if (e === null || typeof e !== "object") issues.push({ path: "target.ephemeral", value: show(e), expected: "an object with expiresAt and/or statePath" });
    else {
      if (e.expiresAt !== undefined && !isIsoUtc(e.expiresAt)) issues.push({ path: "target.ephemeral.expiresAt", value: show(e.expiresAt), expected: 'an ISO-8601 UTC timestamp such as "2026-12-02T13:00:00Z"' });
      if (e.statePath !== undefined && (typeof e.statePath !== "string" || !e.statePath.startsWith("/"))) issues.push({ path: "target.ephemeral.statePath", value: show(e.statePath), expected: "an absolute path" });
    }
  }
  const n = t.network as Record<string, unknown> | undefined;
  if (n !== undefined) {
    if (n === null || typeof n !== "object" || (n.kind !== "existing" && n.kind !== "create")) {
      issues.push({ path: "target.network.kind", value: show(n?.kind), expected: '"existing" (with name) or "create" (with mode and cidr)' });
    } else if (n.kind === "existing") {
      if (typeof n.name !== "string" || n.name === "") issues.push({ path: "target.network.name", value: show(n.name), expected: 'the name of a libvirt network, e.g. "default"' });
    } else {
      if (n.mode !== "nat" && n.mode !== "isolated") issues.push({ path: "target.network.mode", value: show(n.mode), expected: '"nat" or "isolated"' });
      const m = typeof n.cidr === "string" ? CIDR.exec(n.cidr) : null;
      if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 8 || Number(m[5]) > 29) {
        issues.push({ path: "target.network.cidr", value: show(n.cidr), expected: 'an IPv4 subnet from /8 to /29, e.g. "10.77.0.0/24"' });
      } else if (nodes !== undefined && nodes > nodeCapacity(n.cidr as string)) {
        issues.push({
          path: "target.network.cidr", value: show(n.cidr),
          expected: `a subnet with a reserved address for each of the ${nodes} nodes (from .10 up; this one has room for ${nodeCapacity(n.cidr as string)}): a larger subnet, e.g. a /24 for up to 245`,
        });
      }
    }
  }
  return issues;
}

/** Creates the libvirt target (a TargetFactory): the base volume and the network, now. */
export function createLibvirtTarget(args: LibvirtTargetArgs, image: ResolvedImage, ctx: TargetContext): NodeTarget {
  const parent = ctx.parent;
  const owner = { uri: args.uri ?? "qemu:///system", stack: ctx.stack, cluster: ctx.cluster };
  const pool = args.pool ?? "default";
  const mark = { ...(args.ephemeral?.expiresAt ? { expiresAt: args.ephemeral.expiresAt } : {}), ...(args.ephemeral?.statePath ? { statePath: args.ephemeral.statePath } : {}) };
  const net = args.network ?? { kind: "existing" as const, name: "default" };
  const source = pulumi.all([image.path, image.url, image.sha256, image.checksumUrl]).apply(([path, url, sha256, checksumUrl]) =>
    url
      ? { kind: "url" as const, url, ...(checksumUrl ? { checksumUrl } : { sha256: sha256 ?? "" }) }
      : { kind: "file" as const, path: path ?? "" });
  const base = new BaseImageVolume(`${ctx.cluster}-base`, { ...owner, pool, source }, { parent });
  // On a network the cluster owns, every node has a fixed MAC and a reserved address (by its
  // position in the plan): a replaced node comes back at the same address, so the address other
  // nodes join (the first server's) is known before anything boots, and never changes.
  const fixed = new Map(ctx.nodeNames.map((name, ordinal) => [name, {
    mac: nodeMac(ctx.cluster, name), ip: net.kind === "create" ? nodeAddress(net.cidr, ordinal) : undefined,
  }]));
  const hosts = net.kind === "create" ? ctx.nodeNames.map((name) => ({ mac: fixed.get(name)!.mac, ip: fixed.get(name)!.ip!, name })) : [];
  const network = new Network(
    `${ctx.cluster}-network`,
    net.kind === "existing" ? { ...owner, mode: "existing", name: net.name } : { ...owner, ...mark, mode: net.mode, cidr: net.cidr, hosts },
    { parent },
  );
  const isIso = image.kind.apply((k) => k === "iso");

  return {
    kind: "libvirt",
    bootMode: image.kind.apply((k) => (k === "iso" ? "iso" : "disk")),
    installDevice: undefined, // iso: "auto" picks the only (empty) disk; the cidata and ISO cdroms are not disks
    connects: true,
    // A created network reserves each node's address; on an existing one it is known once leased.
    staticAddress: (name) => fixed.get(name)?.ip,
    createNode(spec: TargetNodeSpec, opts: { dependsOn: pulumi.Resource[] }): TargetNode {
      const nodeOpts = { parent, dependsOn: opts.dependsOn };
      const disk = new NodeDisk(`${spec.name}-disk`, {
        ...owner, node: spec.name, pool, sizeGiB: args.diskGiB ?? 40,
        // configChange "reinstall": a new config means a fresh disk (and so a new VM on it); so do new
        // cluster tokens, which a running node cannot take.
        ...(spec.configChange === "reinstall" ? { reinstallDigest: spec.configDigest } : {}),
        rebuildDigest: spec.secretsDigest,
        baseVolume: pulumi.all([isIso, base.name]).apply(([iso, b]) => (iso ? undefined : b)) as pulumi.Output<string>,
      }, nodeOpts);
      const cidata = new CidataVolume(`${spec.name}-cidata`, { ...owner, node: spec.name, pool, userData: spec.cloudConfig }, nodeOpts);
      const domain = new Domain(spec.name, {
        ...owner,
        ...mark,
        node: spec.name,
        domainType: args.domainType ?? "auto",
        firmware: args.firmware ?? "bios",
        vcpus: args.vcpus ?? 2,
        memoryMiB: args.memoryMiB ?? 4096,
        pool,
        diskVolume: disk.name,
        cidataVolume: cidata.name,
        installIsoVolume: pulumi.all([isIso, base.name]).apply(([iso, b]) => (iso ? b : undefined)) as pulumi.Output<string>,
        network: network.name,
        mac: fixed.get(spec.name)!.mac,
        waitForAddress: true,
        addressTimeoutSeconds: ctx.timeouts.addressSeconds,
      }, { parent, dependsOn: [...opts.dependsOn, disk, cidata] });
      return {
        name: spec.name,
        role: spec.role,
        address: domain.address,
        macAddress: domain.macAddress,
        domainName: domain.name,
        // The serial log lives on the hypervisor host: readable here only for a local URI.
        consoleLogFile: pulumi.all([pulumi.output(owner.uri), domain.serialLogFile]).apply(([u, f]) => (/^qemu(\+unix)?:\/\/\//.test(u) ? f : undefined)),
        libvirt: pulumi.all([pulumi.output(owner.uri), domain.uuid]).apply(([uri, d]) => ({ uri, domain: d })),
        restartDigest: pulumi.all([pulumi.output(args.vcpus ?? 2), pulumi.output(args.memoryMiB ?? 4096)]).apply(([v, m]) => `vcpus=${v} memoryMiB=${m}`),
        ready: [domain],
      };
    },
  };
}
