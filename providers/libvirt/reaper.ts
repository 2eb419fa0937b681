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

/** What a domain uses: pool volumes (`type='volume'`), host files (`type='file'`, and backing chains libvirt shows), networks. */
export interface DomainSources {
  volumes: { pool: string; name: string }[];
  files: string[];
  networks: string[];
  serialLogFile?: string;
  uuid?: string;
}

/** Pure: the disk and cdrom sources and the networks of a `virsh dumpxml` document. */
export function domainSources(xml: string): DomainSources {
  const d = (convert(xml, { format: "object" }) as any).domain ?? {};
  const out: DomainSources = { volumes: [], files: [], networks: [] };
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
  for (const nic of list<any>(d.devices?.interface)) if (nic?.["@type"] === "network" && nic?.source?.["@network"]) out.networks.push(nic.source["@network"]);
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

/** What the domain's XML alone says. */
function fromXml(d: HostDomain, src: DomainSources, owner: OwnerMetadata): Omit<OwnedDomain, "volumes" | "backing"> {
  return { name: d.name, uuid: src.uuid ?? "", owner, serialLogFile: src.serialLogFile };
}

async function readOwnedDomain(conn: Connection, d: HostDomain, owner: OwnerMetadata): Promise<OwnedDomain> {
  const src = domainSources(d.xml);
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
  return { ...fromXml(d, src, owner), volumes, backing };
}

const earliest = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : Date.parse(b) < Date.parse(a) ? b : a);

/**
 * Every domain and network carrying the project's owner metadata, grouped by (stack, cluster),
 * with the volumes its domains use. `filter` narrows the owners considered (tests and scripts).
 * `withVolumes` says, once a cluster's facts are known, whether its volumes are needed (reading
 * them costs a few virsh calls per domain): the reaper asks only for the clusters it removes.
 * Without it every cluster's volumes are read; the others keep empty `volumes` and `backing`.
 */
export async function findOwnedClusters(conn: Connection, opts: { filter?: OwnerFilter; withVolumes?: (c: OwnedCluster) => boolean } = {}): Promise<OwnedCluster[]> {
  const clusters = new Map<string, OwnedCluster>();
  const domainsOf = new Map<OwnedCluster, Array<{ d: HostDomain; owner: OwnerMetadata }>>();
  const clusterOf = (o: OwnerMetadata): OwnedCluster | undefined => {
    if (opts.filter && !opts.filter({ stack: o.stack, cluster: o.cluster })) return undefined;
    const key = JSON.stringify([o.stack, o.cluster]);
    let c = clusters.get(key);
    if (!c) clusters.set(key, (c = { stack: o.stack, cluster: o.cluster, domains: [], networks: [] }));
    c.createdAt = earliest(c.createdAt, o.createdAt);
    c.expiresAt = earliest(c.expiresAt, o.expiresAt);
    c.statePath ??= o.statePath;
    c.stateHost ??= o.stateHost;
    return c;
  };
  for (const d of await hostDomains(conn)) {
    const owner = parseOwnerMetadata(d.xml);
    const c = owner && clusterOf(owner);
    if (c) domainsOf.set(c, [...(domainsOf.get(c) ?? []), { d, owner: owner! }]);
  }
  for (const name of await names(conn, ["net-list", "--all", "--name"])) {
    const r = await virshOrMissing(conn, ["net-dumpxml", name]);
    const owner = r && parseOwnerMetadata(r.stdout);
    const c = owner && clusterOf(owner);
    if (c) c.networks.push({ name, uuid: (convert(r!.stdout, { format: "object" }) as any).network?.uuid ?? "", owner: owner! });
  }
  // Volumes last: whether they are wanted depends on facts gathered from every object of the cluster.
  for (const [c, found] of domainsOf) {
    const wanted = opts.withVolumes?.(c) ?? true;
    for (const { d, owner } of found) c.domains.push(wanted ? await readOwnedDomain(conn, d, owner) : { ...fromXml(d, domainSources(d.xml), owner), volumes: [], backing: [] });
  }
  return [...clusters.values()].sort((a, b) => (a.stack + "/" + a.cluster).localeCompare(b.stack + "/" + b.cluster));
}

// ---------- removing ----------

/**
 * What domains outside `cluster` use: host paths (disks, cdroms and their backing files) and
 * networks. A volume or network among them is someone else's too and stays.
 */
async function usedOutside(conn: Connection, cluster: OwnedCluster): Promise<{ paths: Set<string>; networks: Set<string> }> {
  const mine = new Set(cluster.domains.map((d) => d.name));
  const paths = new Set<string>();
  const networks = new Set<string>();
  for (const d of await hostDomains(conn)) {
    if (mine.has(d.name)) continue;
    const src = domainSources(d.xml);
    src.files.forEach((f) => paths.add(f));
    src.networks.forEach((n) => networks.add(n));
    for (const ref of src.volumes) {
      const v = await readVolume(conn, ref.pool, ref.name);
      if (v?.path) paths.add(v.path);
      if (v?.backingPath) paths.add(v.backingPath);
    }
  }
  return { paths, networks };
}

/**
 * Removes one cluster's objects, in order: its domains (destroyed and undefined, nvram included),
 * their volumes and the base volumes their disks overlay, then its networks. A volume or network
 * that a domain outside the cluster also uses (as disk, cdrom, backing file or NIC network) stays,
 * with a log line. Objects already gone are fine (the owner may be destroying the cluster at the
 * same time). Returns every object removed; with `dryRun`, removes nothing and returns the same
 * list. `onRemoved` hears each object as it goes, so a caller knows what went before a failure.
 */
export async function removeOwnedCluster(
  conn: Connection, cluster: OwnedCluster,
  opts: { dryRun?: boolean; log?: (line: string) => void; onRemoved?: (o: ReapObject) => void } = {},
): Promise<ReapObject[]> {
  const log = opts.log ?? (() => undefined);
  const owner = `${cluster.stack}/${cluster.cluster}`;
  const used = await usedOutside(conn, cluster);
  const volumes: OwnedVolume[] = [];
  const addVolume = (v: OwnedVolume) => {
    if (volumes.some((x) => x.pool === v.pool && x.name === v.name)) return;
    if (used.paths.has(v.path)) log(`keeping volume ${v.pool}/${v.name}: a domain outside ${owner} uses it`);
    else volumes.push(v);
  };
  cluster.domains.forEach((d) => d.volumes.forEach(addVolume));
  cluster.domains.forEach((d) => d.backing.forEach(addVolume)); // overlays before the base they sit on
  const networks = cluster.networks.filter((n) => {
    if (used.networks.has(n.name)) log(`keeping network ${n.name}: a domain outside ${owner} is attached to it`);
    return !used.networks.has(n.name);
  });

  const steps: { object: ReapObject; remove: () => Promise<void> }[] = [
    ...cluster.domains.map((d) => ({
      object: { kind: "domain" as const, name: d.name },
      remove: () => deleteDomain(conn, d.uuid || d.name, { name: d.name, serialLogFile: d.serialLogFile ?? serialLogPath(d.name) }),
    })),
    ...volumes.map((v) => ({ object: { kind: "volume" as const, name: v.name, pool: v.pool }, remove: () => deleteVolume(conn, v.pool, v.name) })),
    ...networks.map((n) => ({ object: { kind: "network" as const, name: n.name }, remove: () => deleteNetwork(conn, n.uuid || n.name) })),
  ];
  if (!opts.dryRun) {
    for (const s of steps) {
      log(`removing ${s.object.kind} ${s.object.pool ? `${s.object.pool}/` : ""}${s.object.name}`);
      await s.remove();
      opts.onRemoved?.(s.object);
    }
  }
  return steps.map((s) => s.object);
}
