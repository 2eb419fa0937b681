/**
 * What the libvirt dynamic providers do, as plain functions over plain objects (no Pulumi import),
 * exported as `pulumi-kairos/drivers/libvirt` (../driver-provider.ts). One section per resource
 * type, each wrapped by `versioned` (../state-schema.ts); each has
 * check (validate + compute the physical name), diff (what replaces), create, read (drift and
 * out-of-band deletion: a missing object returns no id), delete (idempotent).
 */
import { createHash, randomBytes } from "crypto";
import * as os from "os";
import { physicalName } from "../../kairos/names";
import { NETWORK_MODES, domainSpecIssues, isIsoUtc, networkSpecIssues, DhcpHost, DomainSpec, NetworkSpec, OwnerMetadata } from "../../kairos/libvirt";
import * as d from "./driver";
import { bootDomain } from "./boot";
import { UNKNOWN_VALUE } from "../wire";
import { rewriteState, versioned } from "../state-schema";

type Props = Record<string, any>;
export interface CheckFailure { property: string; reason: string }

const isUnknown = (v: unknown) => v === UNKNOWN_VALUE;
const known = (p: Props): boolean => Object.values(p).every((v) => !isUnknown(v) && (typeof v !== "object" || v === null || known(v)));

export const DEFAULT_URI = "qemu:///system";
const GiB = 1024 * 1024 * 1024;

function conn(p: Props): d.Connection {
  return { uri: p.uri ?? DEFAULT_URI };
}

/**
 * The physical name: the user's (`name`), else the one chosen when the resource was created (kept
 * in state as an input, so a stack rename renames nothing), else a fresh one: the owner parts plus a
 * random suffix, as Pulumi's auto-naming does, so a replacement (checked again without old inputs)
 * never collides with what it replaces. `autoNamed: false` marks a user's name: replacing such a
 * resource must delete the old one first.
 */
function chooseName(olds: Props | undefined, news: Props, parts: string[]): { name: string; autoNamed: boolean } {
  if (news.name !== undefined) return { name: news.name, autoNamed: false };
  if (typeof olds?.name === "string" && olds.name !== "" && olds.autoNamed !== false) return { name: olds.name, autoNamed: true };
  return { name: `${physicalName(parts, 58)}-${randomBytes(2).toString("hex")}`, autoNamed: true };
}

/** stack/cluster/node/name checks shared by every resource; fills the physical name. */
function commonCheck(olds: Props | undefined, news: Props, kind: string, needsNode: boolean, failures: CheckFailure[]): Props {
  const out: Props = { uri: DEFAULT_URI, ...news };
  for (const f of ["stack", "cluster", ...(needsNode ? ["node"] : [])]) {
    const v = out[f];
    if (!isUnknown(v) && (typeof v !== "string" || v.trim() === "")) failures.push({ property: f, reason: `${f}: ${JSON.stringify(v)} is not valid; expected a non-empty string` });
  }
  if (typeof out.uri === "string") {
    try {
      d.parseLibvirtUri(out.uri);
    } catch (e) {
      failures.push({ property: "uri", reason: (e as Error).message });
    }
  }
  if ([out.stack, out.cluster, out.node].every((v) => !isUnknown(v)) && failures.length === 0) {
    Object.assign(out, chooseName(olds, news, [out.stack, out.cluster, ...(needsNode ? [out.node] : []), kind]));
  }
  return out;
}

function requireString(p: Props, field: string, failures: CheckFailure[], expected: string): void {
  const v = p[field];
  if (!isUnknown(v) && (typeof v !== "string" || v === "")) failures.push({ property: field, reason: `${field}: ${JSON.stringify(v)} is not valid; expected ${expected}` });
}

/**
 * `expiresAt` and `statePath` (ephemeral clusters, read by `pulumi-kairos reap`) are create-time
 * facts stamped in the object's owner metadata: diff ignores them, so changing them alone neither
 * replaces nor updates anything (the object keeps what it was created with).
 */
function checkEphemeral(p: Props, failures: CheckFailure[]): void {
  const e = p.expiresAt;
  if (e !== undefined && !isUnknown(e) && !isIsoUtc(e)) failures.push({ property: "expiresAt", reason: `expiresAt: ${JSON.stringify(e)} is not valid; expected an ISO-8601 UTC timestamp such as "2026-12-02T11:35:00Z"` });
  const s = p.statePath;
  if (s !== undefined && !isUnknown(s) && (typeof s !== "string" || !s.startsWith("/") || s.includes("\0"))) failures.push({ property: "statePath", reason: `statePath: ${JSON.stringify(s)} is not valid; expected an absolute path` });
}

/** Create-time facts: when, and with a state folder, on which machine (the reaper judges the folder only there). */
function createStamps(inputs: Props): Props {
  return { ...inputs, createdAt: new Date().toISOString(), ...(typeof inputs.statePath === "string" ? { stateHost: os.hostname() } : {}) };
}

/** The owner metadata stamped on a network or domain: who, and the create-time facts kept in state. */
function ownerOf(p: Props, node?: string): OwnerMetadata {
  const o: OwnerMetadata = { stack: p.stack, cluster: p.cluster, ...(node !== undefined ? { node } : {}) };
  for (const f of ["createdAt", "expiresAt", "statePath", "stateHost"] as const) if (typeof p[f] === "string") o[f] = p[f];
  return o;
}

function changed(olds: Props, news: Props, fields: string[]): string[] {
  return fields.filter((f) => JSON.stringify(olds[f]) !== JSON.stringify(news[f]));
}

/** A replacement deletes first only when the name is the user's (an auto-name is fresh each time). */
function diffResult(news: Props, replaces: string[], updates: string[] = []) {
  return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 && news.autoNamed === false };
}

// ---------------------------------------------------------------- base image volume

/** Inputs: uri, pool, stack, cluster, name?, source: { kind: "file", path } | { kind: "url", url, sha256 | checksumUrl }. */
export const baseImage = versioned("kairos-libvirt:BaseImageVolume", {
  async check(olds: Props, news: Props) {
    const failures: CheckFailure[] = [];
    const inputs = commonCheck(olds, news, "base", false, failures);
    requireString(inputs, "pool", failures, "the name of a storage pool");
    const s = inputs.source;
    if (!isUnknown(s)) {
      if (!s || typeof s !== "object" || !["file", "url"].includes(s.kind)) {
        failures.push({ property: "source", reason: `source: ${JSON.stringify(s)} is not valid; expected { kind: "file", path } or { kind: "url", url, sha256 }` });
      } else if (s.kind === "file" && !isUnknown(s.path) && (typeof s.path !== "string" || !s.path.startsWith("/"))) {
        failures.push({ property: "source.path", reason: `source.path: ${JSON.stringify(s.path)} is not valid; expected an absolute path to a qcow2, raw or ISO image` });
      } else if (s.kind === "url") {
        if (!isUnknown(s.url) && !/^https?:\/\//.test(String(s.url))) failures.push({ property: "source.url", reason: `source.url: ${JSON.stringify(s.url)} is not valid; expected an http:// or https:// URL` });
        if (s.sha256 === undefined && s.checksumUrl === undefined) failures.push({ property: "source.sha256", reason: "source.sha256: undefined is not valid; a URL image needs its digest: set sha256 (64 hex characters) or checksumUrl (a sha256sum file)" });
        else if (s.sha256 !== undefined && s.checksumUrl !== undefined) failures.push({ property: "source.checksumUrl", reason: "source.checksumUrl: sha256 and checksumUrl are mutually exclusive; set one" });
        if (s.sha256 !== undefined && !isUnknown(s.sha256) && !/^[0-9a-fA-F]{64}$/.test(String(s.sha256))) failures.push({ property: "source.sha256", reason: `source.sha256: ${JSON.stringify(s.sha256)} is not valid; expected 64 hex characters` });
        if (s.checksumUrl !== undefined && !isUnknown(s.checksumUrl) && !/^https?:\/\//.test(String(s.checksumUrl))) failures.push({ property: "source.checksumUrl", reason: `source.checksumUrl: ${JSON.stringify(s.checksumUrl)} is not valid; expected an http:// or https:// URL` });
      }
    }
    return { inputs, failures };
  },

  /** The digest decides: an unchanged file or checksum means no new upload. */
  async diff(_id: string, olds: Props, news: Props) {
    const replaces = changed(olds, news, ["uri", "pool", "name"]);
    const s = news.source;
    if (isUnknown(s) || (s && typeof s === "object" && !known(s))) replaces.push("source"); // decided at apply time
    else if (s?.kind === "url") {
      // A given digest decides; with a checksum file, the same URL and checksum URL mean the same image.
      if (olds.source?.kind !== "url") replaces.push("source");
      else if (s.sha256 !== undefined ? String(s.sha256).toLowerCase() !== olds.sha256 : s.url !== olds.source.url || s.checksumUrl !== olds.source.checksumUrl) replaces.push("source");
    } else if (s?.kind === "file") {
      let digest: string | undefined;
      try {
        digest = await d.sha256File(s.path);
      } catch {
        digest = undefined; // unreadable now: create will say why
      }
      if (digest !== olds.sha256) replaces.push("source");
    }
    return diffResult(news, [...new Set(replaces)]);
  },

  async create(inputs: Props) {
    const c = conn(inputs);
    await d.checkConnection(c);
    await d.checkPool(c, inputs.pool);
    const r = await d.whileCreating(c, { kind: "volume", pool: inputs.pool, name: inputs.name }, () => d.importBaseImage(c, { pool: inputs.pool, name: inputs.name, source: inputs.source }));
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...inputs, sha256: r.sha256, format: r.format, path: r.volume.path, capacityBytes: r.volume.capacityBytes } };
  },

  async read(id: string, props: Props) {
    const v = await d.readVolume(conn(props), props.pool, props.name);
    return v ? { id, props: { ...props, path: v.path, capacityBytes: v.capacityBytes } } : { id: "", props: {} };
  },

  update: rewriteState,

  async delete(_id: string, props: Props) {
    await d.deleteVolume(conn(props), props.pool, props.name);
  },
});

// ---------------------------------------------------------------- node disk

/** Inputs: uri, pool, stack, cluster, node, name?, sizeGiB, baseVolume? (same pool unless basePool). */
export const nodeDisk = versioned("kairos-libvirt:NodeDisk", {
  async check(olds: Props, news: Props) {
    const failures: CheckFailure[] = [];
    const inputs = commonCheck(olds, news, "disk", true, failures);
    requireString(inputs, "pool", failures, "the name of a storage pool");
    const size = inputs.sizeGiB;
    if (!isUnknown(size) && (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 65536)) {
      failures.push({ property: "sizeGiB", reason: `sizeGiB: ${JSON.stringify(size)} is not valid; expected an integer from 1 to 65536 (GiB)` });
    }
    if (inputs.baseVolume !== undefined) requireString(inputs, "baseVolume", failures, "the base image volume's name");
    return { inputs, failures };
  },

  /**
   * A new disk for a new size or base, and when a reinstall is asked for (`reinstallDigest`,
   * `rebuildDigest` changed). State written before a digest existed only records it: a provider
   * upgrade never rebuilds a node.
   */
  async diff(_id: string, olds: Props, news: Props) {
    const rebuild = ["reinstallDigest", "rebuildDigest"].filter((k) => olds[k] !== undefined && olds[k] !== news[k]);
    const record = ["reinstallDigest", "rebuildDigest"].filter((k) => olds[k] === undefined && news[k] !== undefined);
    return diffResult(news, [...changed(olds, news, ["uri", "pool", "name", "sizeGiB", "baseVolume", "basePool"]), ...rebuild], record);
  },

  async create(inputs: Props) {
    const c = conn(inputs);
    await d.checkConnection(c);
    await d.checkPool(c, inputs.pool);
    const base = inputs.baseVolume ? { pool: inputs.basePool ?? inputs.pool, name: inputs.baseVolume } : undefined;
    const v = await d.whileCreating(c, { kind: "volume", pool: inputs.pool, name: inputs.name }, () => d.createNodeDisk(c, { pool: inputs.pool, name: inputs.name, capacityBytes: inputs.sizeGiB * GiB, base }));
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...inputs, path: v.path, capacityBytes: v.capacityBytes, backingPath: v.backingPath ?? "" } };
  },

  async read(id: string, props: Props) {
    const v = await d.readVolume(conn(props), props.pool, props.name);
    return v ? { id, props: { ...props, path: v.path, capacityBytes: v.capacityBytes, backingPath: v.backingPath ?? "" } } : { id: "", props: {} };
  },

  /** Only a first record of a digest (or a stale state) comes here. */
  async update(_id: string, olds: Props, news: Props) {
    const digests = Object.fromEntries(["reinstallDigest", "rebuildDigest"].filter((k) => news[k] !== undefined).map((k) => [k, news[k]]));
    return { outs: { ...olds, ...digests } };
  },

  async delete(_id: string, props: Props) {
    await d.deleteVolume(conn(props), props.pool, props.name);
  },
});

// ---------------------------------------------------------------- cidata volume

export function userDataDigest(userData: string): string {
  return createHash("sha256").update(userData).digest("hex");
}

/**
 * Inputs: uri, pool, stack, cluster, node, userData (secret), metaData?. Content-addressed: the
 * name carries the first 12 hex chars of the user-data digest, so a changed config is a new volume
 * (Kairos reads user-data once) and create-before-delete never collides. The user-data itself is
 * never returned in the outputs; only its digest is.
 */
export const cidata = versioned("kairos-libvirt:CidataVolume", {
  async check(olds: Props, news: Props) {
    const failures: CheckFailure[] = [];
    const ud = news.userData;
    let kind = "cidata";
    if (!isUnknown(ud)) {
      if (typeof ud !== "string" || !ud.startsWith("#cloud-config")) {
        failures.push({ property: "userData", reason: "userData: <secret> is not valid; expected cloud-config text whose first line is #cloud-config" });
      } else kind = `cidata-${userDataDigest(ud).slice(0, 12)}`;
    }
    const inputs = commonCheck(olds, news, kind, true, failures);
    if (isUnknown(ud)) delete inputs.name;
    requireString(inputs, "pool", failures, "the name of a storage pool");
    return { inputs, failures };
  },

  async diff(_id: string, olds: Props, news: Props) {
    const replaces = changed(olds, news, ["uri", "pool", "name", "metaData"]);
    if (isUnknown(news.userData) || typeof news.userData !== "string" || userDataDigest(news.userData) !== olds.userDataSha256) replaces.push("userData");
    return diffResult(news, [...new Set(replaces)]);
  },

  async create(inputs: Props) {
    const c = conn(inputs);
    await d.checkConnection(c);
    await d.checkPool(c, inputs.pool);
    const r = await d.whileCreating(c, { kind: "volume", pool: inputs.pool, name: inputs.name }, () =>
      d.createCidataVolume(c, { pool: inputs.pool, name: inputs.name, content: { userData: inputs.userData, metaData: inputs.metaData, hostname: inputs.node } }));
    const { userData: _secret, ...rest } = inputs;
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...rest, userDataSha256: r.userDataSha256, path: r.volume.path } };
  },

  async read(id: string, props: Props) {
    const v = await d.readVolume(conn(props), props.pool, props.name);
    return v ? { id, props: { ...props, path: v.path } } : { id: "", props: {} };
  },

  update: rewriteState,

  async delete(_id: string, props: Props) {
    await d.deleteVolume(conn(props), props.pool, props.name);
  },
});

// ---------------------------------------------------------------- network

/**
 * Inputs: uri, stack, cluster, mode ("existing" | "nat" | "isolated"), name (required for
 * "existing", else derived), cidr, dhcpStart?, dhcpEnd?, expiresAt?, statePath? (create-time
 * facts, see checkEphemeral). An existing network is only checked, never stamped and never deleted.
 * create stamps `createdAt` in the metadata and keeps it in state.
 */
export const network = versioned("kairos-libvirt:Network", {
  async check(olds: Props, news: Props) {
    const failures: CheckFailure[] = [];
    const modes = ["existing", ...NETWORK_MODES];
    if (!isUnknown(news.mode) && !modes.includes(news.mode)) {
      failures.push({ property: "mode", reason: `mode: ${JSON.stringify(news.mode)} is not valid; expected one of ${modes.map((m) => `'${m}'`).join(", ")}` });
    }
    if (news.mode === "existing") {
      const inputs = { uri: DEFAULT_URI, ...news };
      requireString(inputs, "name", failures, "the name of an existing libvirt network");
      return { inputs, failures };
    }
    const inputs = commonCheck(olds, news, "net", false, failures);
    checkEphemeral(inputs, failures);
    if (known(inputs) && failures.length === 0) {
      for (const i of networkSpecIssues(toNetworkSpec(inputs))) {
        const property = i.path.startsWith("dhcpRange.") ? (i.path === "dhcpRange.start" ? "dhcpStart" : "dhcpEnd") : i.path.replace(/\[.*$/, "");
        failures.push({ property, reason: `${property}: ${i.value} is not valid; expected ${i.expected}` });
      }
    }
    return { inputs, failures };
  },

  /**
   * Reservations (`hosts`) change in place, and a network of ours found inactive by refresh is
   * started again; anything else is another network.
   */
  async diff(_id: string, olds: Props, news: Props) {
    const owned = news.mode !== "existing";
    const hosts = owned && JSON.stringify(olds.hosts ?? []) !== JSON.stringify(news.hosts ?? []) ? ["hosts"] : [];
    const stopped = owned && olds.active === false ? ["active"] : [];
    return diffResult(news, changed(olds, news, ["uri", "mode", "name", "cidr", "dhcpStart", "dhcpEnd"]), [...hosts, ...stopped]);
  },

  async create(inputs: Props) {
    const c = conn(inputs);
    await d.checkConnection(c);
    if (inputs.mode === "existing") {
      const info = await d.requireNetwork(c, inputs.name);
      return { id: info.uuid, outs: { ...inputs, uuid: info.uuid, bridge: info.bridge, owned: false } };
    }
    const stamped = createStamps(inputs);
    const info = await d.whileCreating(c, { kind: "network", name: inputs.name }, () => d.createNetwork(c, toNetworkSpec(stamped)));
    return { id: info.uuid, outs: { ...stamped, uuid: info.uuid, bridge: info.bridge, owned: true } };
  },

  /** By UUID (state written before 0.2 has none: by name, and the UUID is recorded). */
  async read(id: string, props: Props) {
    const n = await d.readNetwork(conn(props), props.uuid || props.name);
    return n ? { id, props: { ...props, uuid: n.uuid, bridge: n.bridge, active: n.active } } : { id: "", props: {} };
  },

  async update(_id: string, olds: Props, news: Props) {
    if (news.mode !== "existing") {
      const key = (h: DhcpHost) => `${h.mac} ${h.ip} ${h.name}`;
      const before: DhcpHost[] = olds.hosts ?? [];
      const after: DhcpHost[] = news.hosts ?? [];
      const add = after.filter((h) => !before.some((b) => key(b) === key(h)));
      const remove = before.filter((b) => !after.some((h) => key(b) === key(h)));
      if (add.length + remove.length > 0) await d.updateDhcpHosts(conn(olds), olds.uuid || olds.name, { add, remove });
      const now = await d.readNetwork(conn(olds), olds.uuid || olds.name);
      if (!now) throw new Error(`network '${olds.name}' (${olds.uuid || olds.name}) not found on ${conn(olds).uri}; it was removed outside Pulumi: pulumi refresh, then pulumi up, recreates it`);
      if (!now.active) await d.startNetwork(conn(olds), olds.uuid || olds.name);
    }
    const { active: _seen, ...rest } = olds;
    return { outs: { ...rest, ...(news.hosts === undefined ? {} : { hosts: news.hosts }) } };
  },

  /** Only the network with this state's UUID; an existing network the cluster only used is never deleted. */
  async delete(_id: string, props: Props) {
    if (props.mode !== "existing") await d.deleteNetwork(conn(props), props.uuid || props.name);
  },
});

function toNetworkSpec(p: Props): NetworkSpec {
  return {
    name: p.name,
    mode: p.mode,
    cidr: p.cidr,
    dhcpRange: p.dhcpStart || p.dhcpEnd ? { start: p.dhcpStart, end: p.dhcpEnd } : undefined,
    hosts: p.hosts ?? [],
    owner: ownerOf(p),
  };
}

// ---------------------------------------------------------------- domain

/**
 * Inputs: uri, stack, cluster, node, name?, domainType ("auto" | "kvm" | "qemu", default auto),
 * firmware ("bios" | "uefi", default bios), ovmfLoader?, ovmfVars?, vcpus, memoryMiB, pool,
 * diskVolume, cidataVolume?, installIsoVolume?, network, mac?, waitForAddress (default true),
 * addressTimeoutSeconds (default 300), expiresAt?, statePath? (create-time facts, see
 * checkEphemeral; create stamps `createdAt`, and a redefinition keeps all three). Every change replaces the domain (Kairos reads its
 * configuration once; a new node is the honest update).
 */
export const domain = versioned("kairos-libvirt:Domain", {
  async check(olds: Props, news: Props) {
    const failures: CheckFailure[] = [];
    const inputs = commonCheck(olds, { domainType: "auto", firmware: "bios", waitForAddress: true, addressTimeoutSeconds: 300, ...news }, "vm", true, failures);
    if (!isUnknown(inputs.domainType) && !["auto", "kvm", "qemu"].includes(inputs.domainType)) {
      failures.push({ property: "domainType", reason: `domainType: ${JSON.stringify(inputs.domainType)} is not valid; expected one of 'auto', 'kvm', 'qemu'` });
    }
    const t = inputs.addressTimeoutSeconds;
    if (!isUnknown(t) && (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 7200)) {
      failures.push({ property: "addressTimeoutSeconds", reason: `addressTimeoutSeconds: ${JSON.stringify(t)} is not valid; expected an integer from 1 to 7200 (seconds)` });
    }
    checkEphemeral(inputs, failures);
    if (known(inputs) && failures.length === 0) {
      const spec = toDomainSpec(inputs, inputs.domainType === "auto" ? "qemu" : inputs.domainType);
      const map: Record<string, string> = { "disk.volume": "diskVolume", "disk.pool": "pool", "cidata.volume": "cidataVolume", "installIso.volume": "installIsoVolume", "ovmf.loader": "ovmfLoader", "ovmf.nvramTemplate": "ovmfVars" };
      for (const i of domainSpecIssues(spec)) {
        const property = map[i.path] ?? i.path;
        failures.push({ property, reason: `${property}: ${i.value} is not valid; expected ${i.expected}` });
      }
    }
    return { inputs, failures };
  },

  /**
   * Replaces on what makes another machine (disk, network, MAC, firmware, type); changes in place:
   * vCPUs and memory (redefined; the node's power cycle, rolling, is KairosCluster's NodeConfig),
   * the cidata volume (swapped: a running Kairos node reads cidata only once), the wait settings,
   * and a domain found stopped by refresh (started again).
   */
  async diff(_id: string, olds: Props, news: Props) {
    const fields = ["uri", "name", "domainType", "firmware", "ovmfLoader", "ovmfVars", "pool", "diskVolume", "installIsoVolume", "network", "mac"];
    const updates = changed(olds, news, ["vcpus", "memoryMiB", "cidataVolume", "waitForAddress", "addressTimeoutSeconds"]);
    if (typeof olds.state === "string" && !/^running/.test(olds.state)) updates.push("state");
    const r = diffResult(news, changed(olds, news, fields), updates);
    // A fixed MAC cannot be on the network twice: the old VM goes before its replacement starts.
    return { ...r, deleteBeforeReplace: r.deleteBeforeReplace || (r.replaces.length > 0 && !!news.mac) };
  },

  async create(inputs: Props) {
    const c = conn(inputs);
    await d.checkConnection(c);
    await d.checkPool(c, inputs.pool);
    const stamped = createStamps(inputs);
    const spec = toDomainSpec(stamped, "qemu");
    if (spec.firmware === "uefi") {
      const type = inputs.domainType === "auto" ? await d.detectDomainType(c) : inputs.domainType;
      await d.checkOvmf(c, type, spec.ovmf!.loader, spec.ovmf!.nvramTemplate);
    }
    const { type: _probed, ...rest } = spec;
    const booted = await d.whileCreating(c, { kind: "domain", name: spec.name }, () => bootDomain(c, rest, {
      domainType: inputs.domainType, waitForAddress: inputs.waitForAddress !== false, addressTimeoutMs: inputs.addressTimeoutSeconds * 1000,
    }));
    return {
      id: booted.info.uuid,
      outs: {
        ...stamped, resolvedDomainType: booted.type, ...(booted.fallback ? { domainTypeFallback: booted.fallback } : {}),
        uuid: booted.info.uuid, macAddress: booted.info.mac ?? "", address: booted.address?.address ?? "", addressSource: booted.address?.source ?? "",
        serialLogFile: spec.serialLogFile,
      },
    };
  },

  /** By UUID: a domain of the same name made by someone else is not this one. */
  async read(id: string, props: Props) {
    const info = await d.readDomain(conn(props), props.uuid || props.name);
    return info ? { id, props: { ...props, state: info.state, macAddress: info.mac ?? "" } } : { id: "", props: {} };
  },

  async update(_id: string, olds: Props, news: Props) {
    const c = conn(olds);
    const ref = olds.uuid || olds.name;
    if (olds.vcpus !== news.vcpus || olds.memoryMiB !== news.memoryMiB) {
      if (!olds.uuid) throw new Error(`domain '${olds.name}': state written before 0.2 has no UUID; run pulumi refresh first`);
      const spec = toDomainSpec({ ...olds, vcpus: news.vcpus, memoryMiB: news.memoryMiB, cidataVolume: news.cidataVolume }, olds.resolvedDomainType ?? "qemu");
      await d.redefineDomain(c, { ...spec, uuid: olds.uuid });
    }
    if (olds.cidataVolume !== news.cidataVolume && news.cidataVolume) await d.swapCidata(c, ref, { pool: news.pool, volume: news.cidataVolume });
    const info = await d.readDomain(c, ref);
    if (!info) throw new Error(`domain '${olds.name}' (${ref}) not found on ${c.uri}; it was removed outside Pulumi: pulumi refresh, then pulumi up, recreates it`);
    if (!/^running/.test(info.state)) await d.startDomain(c, ref);
    const { state: _seen, ...rest } = olds;
    return {
      outs: {
        ...rest, vcpus: news.vcpus, memoryMiB: news.memoryMiB, cidataVolume: news.cidataVolume,
        waitForAddress: news.waitForAddress, addressTimeoutSeconds: news.addressTimeoutSeconds,
      },
    };
  },

  /** Only the domain with this state's UUID: never its successor of the same name. */
  async delete(_id: string, props: Props) {
    await d.deleteDomain(conn(props), props.uuid || props.name, { name: props.name, serialLogFile: props.serialLogFile ?? d.serialLogPath(props.name) });
  },
});

function toDomainSpec(p: Props, type: "kvm" | "qemu"): DomainSpec {
  const ref = (volume: unknown) => (volume ? { pool: p.pool, volume: String(volume) } : undefined);
  return {
    name: p.name,
    type,
    firmware: p.firmware,
    ovmf: p.firmware === "uefi" ? { loader: p.ovmfLoader ?? "/usr/share/OVMF/OVMF_CODE_4M.fd", nvramTemplate: p.ovmfVars ?? "/usr/share/OVMF/OVMF_VARS_4M.fd" } : undefined,
    vcpus: p.vcpus,
    memoryMiB: p.memoryMiB,
    disk: { pool: p.pool, volume: p.diskVolume, format: "qcow2" },
    cidata: ref(p.cidataVolume),
    installIso: ref(p.installIsoVolume),
    network: p.network,
    mac: p.mac,
    serialLogFile: d.serialLogPath(p.name),
    owner: ownerOf(p, p.node),
  };
}
