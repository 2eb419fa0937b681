/**
 * The reaper's effects: find the libvirt objects carrying the project's owner metadata, grouped by
 * cluster, and remove one cluster's objects. Which clusters go is decided in kairos/libvirt/reap.ts.
 *
 * Volumes carry no metadata in libvirt: a cluster's volumes are found through its domains (disk,
 * cidata and install-ISO sources, and the base image that a disk overlays). Volumes of a cluster
 * whose create died before any domain was defined are therefore not found; they are left alone on
 * purpose rather than guessed from name prefixes, which another cluster may share.
 */
import { convert } from "xmlbuilder2";
import { OwnerMetadata, parseOwnerMetadata } from "../../kairos/libvirt";
import type { ReapFacts } from "../../kairos/libvirt/reap";
import { deleteDomain, serialLogPath } from "./domains";
import { deleteNetwork } from "./networks";
import { deleteVolume, readVolume } from "./volumes";
import { Connection, virsh, virshOrMissing } from "./virsh";

export interface OwnedVolume {
  pool: string;
  name: string;
  /** Path on the hypervisor host. */
  path: string;
}

export interface OwnedDomain {
  name: string;
  uuid: string;
  owner: OwnerMetadata;
  /** Serial console log named in the domain's XML, if any. */
  serialLogFile?: string;
  /** Pool volumes the domain uses: node disk, cidata, install ISO. */
  volumes: OwnedVolume[];
  /** The pool volumes backing its overlay disks: the cluster's base image. */
  backing: OwnedVolume[];
}

export interface OwnedNetwork {
  name: string;
  uuid: string;
  owner: OwnerMetadata;
}

/** One (stack, cluster)'s objects; createdAt and expiresAt are the earliest over its objects. */
export interface OwnedCluster extends ReapFacts {
  stack: string;
  cluster: string;
  domains: OwnedDomain[];
  networks: OwnedNetwork[];
}

/** Which owners to consider. For tests and scripts that must not touch other clusters on the host. */
export type OwnerFilter = (owner: { stack: string; cluster: string }) => boolean;

export interface ReapObject {
  kind: "domain" | "network" | "volume";
  name: string;
  pool?: string;
}

// ---------- reading domain XML (pure) ----------

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A domain's disk sources: pool volumes (`type='volume'`) and host files (`type='file'`, and backing chains libvirt shows). */
export interface DomainDiskSources {
  volumes: { pool: string; name: string }[];
  files: string[];
  serialLogFile?: string;
  uuid?: string;
}

/** Pure: the disk and cdrom sources of a `virsh dumpxml` document. */
export function domainDiskSources(xml: string): DomainDiskSources {
  const d = (convert(xml, { format: "object" }) as any).domain ?? {};
  const out: DomainDiskSources = { volumes: [], files: [] };
  const chain = (b: any): void => {
    for (const s of list<any>(b)) {
      if (s?.source?.["@file"]) out.files.push(s.source["@file"]);
      if (s?.backingStore) chain(s.backingStore);
    }
  };
  for (const disk of list<any>(d.devices?.disk)) {
    const src = disk?.source;
    if (disk?.["@type"] === "volume" && src?.["@pool"] && src?.["@volume"]) out.volumes.push({ pool: src["@pool"], name: src["@volume"] });
    else if (src?.["@file"]) out.files.push(src["@file"]);
    chain(disk?.backingStore);
  }
  const log = list<any>(d.devices?.serial).find((s) => s?.log?.["@file"]);
  if (log) out.serialLogFile = log.log["@file"];
  if (typeof d.uuid === "string") out.uuid = d.uuid;
  return out;
}

// ---------- finding ----------

async function names(conn: Connection, args: string[]): Promise<string[]> {
  return (await virsh(conn, args)).stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** The pool volume at `path` on the host, if libvirt knows one. */
async function volumeAtPath(conn: Connection, path: string): Promise<OwnedVolume | undefined> {
  const name = await virshOrMissing(conn, ["vol-name", path]);
  const pool = name && (await virshOrMissing(conn, ["vol-pool", path]));
  return name && pool ? { pool: pool.stdout.trim(), name: name.stdout.trim(), path } : undefined;
}

interface HostDomain {
  name: string;
  xml: string;
}

/** Every domain on the host with its XML; one that vanishes while listed is skipped (its owner destroyed it). */
async function hostDomains(conn: Connection): Promise<HostDomain[]> {
  const out: HostDomain[] = [];
  for (const name of await names(conn, ["list", "--all", "--name"])) {
    const r = await virshOrMissing(conn, ["dumpxml", name]);
    if (r) out.push({ name, xml: r.stdout });
  }
  return out;
}

async function readOwnedDomain(conn: Connection, d: HostDomain, owner: OwnerMetadata): Promise<OwnedDomain> {
  const src = domainDiskSources(d.xml);
  const volumes: OwnedVolume[] = [];
  const backing: OwnedVolume[] = [];
  for (const ref of src.volumes) {
    const v = await readVolume(conn, ref.pool, ref.name);
    if (!v) continue; // already gone
    volumes.push({ pool: v.pool, name: v.name, path: v.path });
    if (v.backingPath) {
      const b = await volumeAtPath(conn, v.backingPath);
      if (b && !backing.some((x) => x.path === b.path)) backing.push(b);
    }
  }
  return { name: d.name, uuid: src.uuid ?? "", owner, serialLogFile: src.serialLogFile, volumes, backing };
}

const earliest = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : Date.parse(b) < Date.parse(a) ? b : a);

/**
 * Every domain and network carrying the project's owner metadata, grouped by (stack, cluster),
 * with the volumes its domains use. `filter` narrows the owners considered (tests and scripts).
 */
export async function findOwnedClusters(conn: Connection, opts: { filter?: OwnerFilter } = {}): Promise<OwnedCluster[]> {
  const clusters = new Map<string, OwnedCluster>();
  const clusterOf = (o: OwnerMetadata): OwnedCluster | undefined => {
    if (opts.filter && !opts.filter({ stack: o.stack, cluster: o.cluster })) return undefined;
    const key = JSON.stringify([o.stack, o.cluster]);
    let c = clusters.get(key);
    if (!c) clusters.set(key, (c = { stack: o.stack, cluster: o.cluster, domains: [], networks: [] }));
    c.createdAt = earliest(c.createdAt, o.createdAt);
    c.expiresAt = earliest(c.expiresAt, o.expiresAt);
    c.statePath ??= o.statePath;
    return c;
  };
  for (const d of await hostDomains(conn)) {
    const owner = parseOwnerMetadata(d.xml);
    const c = owner && clusterOf(owner);
    if (c) c.domains.push(await readOwnedDomain(conn, d, owner!));
  }
  for (const name of await names(conn, ["net-list", "--all", "--name"])) {
    const r = await virshOrMissing(conn, ["net-dumpxml", name]);
    const owner = r && parseOwnerMetadata(r.stdout);
    const c = owner && clusterOf(owner);
    if (c) c.networks.push({ name, uuid: (convert(r!.stdout, { format: "object" }) as any).network?.uuid ?? "", owner: owner! });
  }
  return [...clusters.values()].sort((a, b) => (a.stack + "/" + a.cluster).localeCompare(b.stack + "/" + b.cluster));
}

// ---------- removing ----------

/**
 * Host paths used by domains outside `cluster` (disks, cdroms and their backing files): a volume
 * at one of them is someone else's too and stays.
 */
async function pathsUsedOutside(conn: Connection, cluster: OwnedCluster): Promise<Set<string>> {
  const mine = new Set(cluster.domains.map((d) => d.name));
  const used = new Set<string>();
  for (const d of await hostDomains(conn)) {
    if (mine.has(d.name)) continue;
    const src = domainDiskSources(d.xml);
    src.files.forEach((f) => used.add(f));
    for (const ref of src.volumes) {
      const v = await readVolume(conn, ref.pool, ref.name);
      if (v?.path) used.add(v.path);
      if (v?.backingPath) used.add(v.backingPath);
    }
  }
  return used;
}

/**
 * Removes one cluster's objects, in order: its domains (destroyed and undefined, nvram included),
 * their volumes and the base volumes their disks overlay (each only if no domain outside the
 * cluster uses it as disk, cdrom or backing file), then its networks. Objects already gone are fine
 * (the owner may be destroying the cluster at the same time). Returns every object removed; with
 * `dryRun`, removes nothing and returns the same list.
 */
export async function removeOwnedCluster(conn: Connection, cluster: OwnedCluster, opts: { dryRun?: boolean; log?: (line: string) => void } = {}): Promise<ReapObject[]> {
  const log = opts.log ?? (() => undefined);
  const used = await pathsUsedOutside(conn, cluster);
  const volumes: OwnedVolume[] = [];
  const add = (v: OwnedVolume) => {
    if (volumes.some((x) => x.pool === v.pool && x.name === v.name)) return;
    if (used.has(v.path)) log(`keeping volume ${v.pool}/${v.name}: a domain outside ${cluster.stack}/${cluster.cluster} uses it`);
    else volumes.push(v);
  };
  cluster.domains.forEach((d) => d.volumes.forEach(add));
  cluster.domains.forEach((d) => d.backing.forEach(add));

  const plan: ReapObject[] = [
    ...cluster.domains.map((d) => ({ kind: "domain" as const, name: d.name })),
    ...volumes.map((v) => ({ kind: "volume" as const, name: v.name, pool: v.pool })),
    ...cluster.networks.map((n) => ({ kind: "network" as const, name: n.name })),
  ];
  if (opts.dryRun) return plan;

  for (const d of cluster.domains) {
    log(`removing domain ${d.name}`);
    await deleteDomain(conn, d.uuid || d.name, { name: d.name, serialLogFile: d.serialLogFile ?? serialLogPath(d.name) });
  }
  // Overlays before the base they sit on.
  for (const v of volumes) {
    log(`removing volume ${v.pool}/${v.name}`);
    await deleteVolume(conn, v.pool, v.name);
  }
  for (const n of cluster.networks) {
    log(`removing network ${n.name}`);
    await deleteNetwork(conn, n.uuid || n.name);
  }
  return plan;
}
