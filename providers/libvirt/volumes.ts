/**
 * Storage volumes: base images (imported from a local file or an http(s) URL with a verified
 * sha256), node disks (qcow2 overlays over the base, or empty), cidata seed volumes. Content always
 * goes through `virsh vol-upload`, never by writing into the pool directory, so remote hypervisors
 * work the same.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { PROGRESS_EVERY_MS, ProgressLog, formatTransfer, heartbeat, stderrLog } from "../progress";
import * as path from "path";
import { convert } from "xmlbuilder2";
import { buildDirPoolXml, buildVolumeXml } from "../../kairos/libvirt";
import { CidataContent, buildCidataIso, withPrivateTempDir } from "../cidata";
import { run } from "../exec";
import { checkReadable } from "./preflight";
import { Connection, QEMU_IMG_INSTALL_HINT, destroyAndUndefine, virsh, virshOrMissing, virshWithXml } from "./virsh";
import { parseSha256Sums } from "../../kairos/checksums";
import { PermanentError, retryUntil } from "../retry";

export type ImageFormat = "qcow2" | "raw" | "iso";

export interface VolumeInfo {
  pool: string;
  name: string;
  /** Path on the hypervisor host. */
  path: string;
  /** Virtual size, bytes. */
  capacityBytes: number;
  /** Bytes actually used on the host. */
  allocationBytes: number;
  /** libvirt's format ("qcow2", "raw", "iso", …). */
  format: string;
  /** Backing file path, for overlays. */
  backingPath?: string;
}

// ---------- local image inspection ----------

export interface QemuImgInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFilename?: string;
}

export async function qemuImgInfo(file: string): Promise<QemuImgInfo> {
  // -U: read even while a VM holds the image open.
  const r = await run(["qemu-img", "info", "-U", "--output=json", file], { timeoutMs: 60_000, installHint: QEMU_IMG_INSTALL_HINT });
  const j = JSON.parse(r.stdout);
  return { format: j["format"], virtualSize: j["virtual-size"], actualSize: j["actual-size"], backingFilename: j["backing-filename"] };
}

/** ISO9660 primary volume descriptor: "CD001" at byte 32769 (ECMA-119 §8.4). */
export function isIso9660(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(5);
    return fs.readSync(fd, buf, 0, 5, 32769) === 5 && buf.toString("latin1") === "CD001";
  } finally {
    fs.closeSync(fd);
  }
}

/** qcow2 or raw as `qemu-img info` detects it; a raw file holding ISO9660 is reported as `iso`. */
export async function detectImageFormat(file: string): Promise<ImageFormat> {
  const info = await qemuImgInfo(file);
  if (info.format === "qcow2") {
    if (info.backingFilename) throw new Error(`image '${file}' is a qcow2 overlay (backing file ${info.backingFilename}); flatten it first: qemu-img convert -O qcow2 ${file} flat.qcow2`);
    return "qcow2";
  }
  if (info.format === "raw") return isIso9660(file) ? "iso" : "raw";
  throw new Error(`image '${file}': format '${info.format}' is not supported; use 'qcow2', 'raw' or 'iso' (convert with qemu-img convert -O qcow2)`);
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    fs.createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** Progress of a transfer: where lines go and how often. */
export interface TransferOptions {
  /** @default stderr (providers/progress.ts) */
  log?: ProgressLog;
  /** @default 15000 (ms) */
  progressEveryMs?: number;
}

/**
 * Streams `url` to `dest` (0600), hashing on the way; rejects (and removes `dest`) when the sha256
 * differs, the status is not 200, or `timeoutMs` passes. Follows up to 5 redirects. Reports bytes,
 * total and rate every `progressEveryMs`.
 */
export function downloadVerified(url: string, sha256: string, dest: string, opts: TransferOptions & { timeoutMs?: number } = {}, redirects = 5): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  return new Promise((resolve, reject) => {
    let stopReporting = () => undefined as void;
    const fail = (e: Error) => {
      stopReporting();
      fs.rmSync(dest, { force: true });
      reject(e);
    };
    const get = url.startsWith("https:") ? https.get : url.startsWith("http:") ? http.get : undefined;
    if (!get) return reject(new Error(`source.url: "${url}" is not valid; expected an http:// or https:// URL`));
    const req = get(url, (res) => {
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects > 0) {
        res.resume();
        downloadVerified(new URL(res.headers.location, url).toString(), sha256, dest, opts, redirects - 1).then(resolve, reject);
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        return fail(new Error(`download of ${url} failed: HTTP ${res.statusCode}`));
      }
      const h = createHash("sha256");
      const out = fs.createWriteStream(dest, { mode: 0o600 });
      const total = Number(res.headers["content-length"]) || undefined;
      let bytes = 0;
      const log = opts.log ?? stderrLog;
      stopReporting = heartbeat(opts.progressEveryMs ?? PROGRESS_EVERY_MS, (ms) => log.info(`downloading ${url}: ${formatTransfer(bytes, total, ms)}`));
      res.on("data", (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      res.pipe(out);
      res.on("error", fail);
      out.on("error", fail);
      out.on("finish", () => {
        stopReporting();
        const got = h.digest("hex");
        if (got !== sha256.toLowerCase()) fail(new Error(`download of ${url}: sha256 ${got} does not match the expected ${sha256}; refusing to use it`));
        else resolve();
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`download of ${url} timed out after ${timeoutMs} milliseconds`)));
    req.on("error", fail);
  });
}

// ---------- libvirt volumes ----------

function asNumber(v: unknown): number {
  const t = typeof v === "object" && v !== null ? (v as Record<string, unknown>)["#"] : v;
  return Number(t);
}

/** Parses `virsh vol-dumpxml`. */
export function parseVolumeXml(pool: string, xml: string): VolumeInfo {
  const v = (convert(xml, { format: "object" }) as any).volume;
  return {
    pool,
    name: v.name,
    path: v.target?.path,
    capacityBytes: asNumber(v.capacity),
    allocationBytes: asNumber(v.allocation),
    format: v.target?.format?.["@type"] ?? "raw",
    backingPath: v.backingStore?.path || undefined,
  };
}

/** The volume, or `undefined` when it does not exist. */
export async function readVolume(conn: Connection, pool: string, name: string): Promise<VolumeInfo | undefined> {
  const r = await virshOrMissing(conn, ["vol-dumpxml", "--pool", pool, name]);
  return r ? parseVolumeXml(pool, r.stdout) : undefined;
}

/** Deletes a volume; a volume already gone is success. */
export async function deleteVolume(conn: Connection, pool: string, name: string): Promise<void> {
  await virshOrMissing(conn, ["vol-delete", "--pool", pool, name]);
}

/** Runs `fn`; if it throws, deletes the volume it may have created and rethrows the first error. */
async function cleanupOnFailure<T>(conn: Connection, pool: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await deleteVolume(conn, pool, name).catch(() => undefined);
    throw e;
  }
}

async function createVolumeFromXml(conn: Connection, pool: string, xml: string): Promise<void> {
  await virshWithXml(conn, "vol-create", xml, [pool]);
}

/**
 * Creates volume `name` sized to `file` and streams the file into it with `vol-upload`, reporting
 * how much has arrived (the volume's allocation) every `progressEveryMs`.
 */
export async function uploadFileAsVolume(conn: Connection, pool: string, name: string, file: string, format: ImageFormat, opts: TransferOptions = {}): Promise<VolumeInfo> {
  if (await readVolume(conn, pool, name)) throw new Error(`volume '${name}' already exists in pool '${pool}' on ${conn.uri}; delete it or choose another name`);
  const size = fs.statSync(file).size;
  await createVolumeFromXml(conn, pool, buildVolumeXml({ name, capacityBytes: Math.max(size, 1), format }));
  return cleanupOnFailure(conn, pool, name, async () => {
    const log = opts.log ?? stderrLog;
    const stop = heartbeat(opts.progressEveryMs ?? PROGRESS_EVERY_MS, async (ms) => {
      const v = await readVolume(conn, pool, name).catch(() => undefined);
      log.info(`uploading ${path.basename(file)} to volume '${name}' in pool '${pool}' on ${conn.uri}: ${formatTransfer(v?.allocationBytes ?? 0, size, ms)}`);
    });
    try {
      await virsh(conn, ["vol-upload", "--pool", pool, name, file], { timeoutMs: 60 * 60_000 });
    } finally {
      stop();
    }
    // Let libvirt re-probe the uploaded header (qcow2 virtual size differs from the file size).
    await refreshPool(conn, pool);
    const v = await readVolume(conn, pool, name);
    if (!v) throw new Error(`volume '${name}' vanished from pool '${pool}' right after upload`);
    return v;
  });
}

/**
 * Where a base image comes from. A URL needs its digest: `sha256` given, or `checksumUrl`, a
 * `sha256sum`-style file published beside it (Kairos releases ship `<iso>.sha256`), read over HTTPS.
 */
export type BaseImageSource = { kind: "file"; path: string } | { kind: "url"; url: string; sha256?: string; checksumUrl?: string };

/** Fetches a small text document (a checksum file): 200 only, bounded size and time, redirects followed. */
export function fetchText(url: string, timeoutMs = 60_000, maxBytes = 1024 * 1024, redirects = 5): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith("https:") ? https.get : url.startsWith("http:") ? http.get : undefined;
    if (!get) return reject(new Error(`source.checksumUrl: "${url}" is not valid; expected an http:// or https:// URL`));
    const req = get(url, (res) => {
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects > 0) {
        res.resume();
        fetchText(new URL(res.headers.location, url).toString(), timeoutMs, maxBytes, redirects - 1).then(resolve, reject);
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`download of ${url} failed: HTTP ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new Error(`${url} is larger than ${maxBytes} bytes; not a checksum file`));
        else chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`download of ${url} timed out after ${timeoutMs} milliseconds`)));
    req.on("error", reject);
  });
}

/** The expected digest of a URL source: the given sha256, or the one its checksum file names. */
export async function expectedSha256(source: { url: string; sha256?: string; checksumUrl?: string }): Promise<string> {
  if (source.sha256 !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(source.sha256)) {
      throw new Error(`source.sha256: "${source.sha256}" is not valid; expected 64 hex characters (the image's SHA-256)`);
    }
    return source.sha256.toLowerCase();
  }
  if (!source.checksumUrl) throw new Error("source: a URL image needs sha256 or checksumUrl; neither is set");
  const fileName = new URL(source.url).pathname;
  return parseSha256Sums(await fetchText(source.checksumUrl), fileName);
}

export interface BaseImageResult {
  volume: VolumeInfo;
  /** sha256 (hex) of the uploaded bytes; kept in state so an unchanged image is not re-uploaded. */
  sha256: string;
  format: ImageFormat;
}

/**
 * `pool-refresh`, retried while another upload into the same pool is running: libvirt refuses a
 * refresh then ("pool '…' has asynchronous jobs running"), and `pulumi up` uploads every node's
 * cidata volume at once. Bounded: 2 minutes.
 */
async function refreshPool(conn: Connection, pool: string): Promise<void> {
  await retryUntil(
    async () => {
      try {
        await virsh(conn, ["pool-refresh", pool]);
        return true;
      } catch (e) {
        if (e instanceof Error && /asynchronous jobs running/.test(e.message)) throw e; // busy: try again
        throw new PermanentError(e instanceof Error ? e.message : String(e));
      }
    },
    { what: `libvirt to refresh pool '${pool}' (other uploads into it were running)`, timeoutMs: 120_000, intervalMs: 500 },
  );
}

/** Imports a base image into `pool` as volume `name`. URL downloads are verified before upload. */
export async function importBaseImage(conn: Connection, args: { pool: string; name: string; source: BaseImageSource } & TransferOptions): Promise<BaseImageResult> {
  const { pool, name, source } = args;
  const transfer: TransferOptions = { log: args.log, progressEveryMs: args.progressEveryMs };
  if (source.kind === "file") {
    checkReadable("source.path", source.path);
    const format = await detectImageFormat(source.path);
    const sha256 = await sha256File(source.path);
    return { volume: await uploadFileAsVolume(conn, pool, name, source.path, format, transfer), sha256, format };
  }
  const sha256 = await expectedSha256(source);
  return withPrivateTempDir("kairos-image-", async (dir) => {
    const file = path.join(dir, "image");
    await downloadVerified(source.url, sha256, file, transfer);
    const format = await detectImageFormat(file);
    return { volume: await uploadFileAsVolume(conn, pool, name, file, format, transfer), sha256, format };
  });
}

/**
 * A node disk: a qcow2 overlay whose backing store is the base volume (capacity = max(requested,
 * base)), or an empty qcow2 of `capacityBytes` when there is no base (ISO-install mode).
 */
export async function createNodeDisk(
  conn: Connection,
  args: { pool: string; name: string; capacityBytes: number; base?: { pool: string; name: string } },
): Promise<VolumeInfo> {
  const { pool, name } = args;
  let backing: { path: string; format: "qcow2" | "raw" } | undefined;
  let capacity = args.capacityBytes;
  if (args.base) {
    const base = await readVolume(conn, args.base.pool, args.base.name);
    if (!base) throw new Error(`base: volume '${args.base.name}' not found in pool '${args.base.pool}' on ${conn.uri}`);
    if (base.format !== "qcow2" && base.format !== "raw") {
      throw new Error(`base: volume '${args.base.name}' has format '${base.format}'; a node disk can only overlay a 'qcow2' or 'raw' image (an ISO boots as installIso instead)`);
    }
    backing = { path: base.path, format: base.format };
    capacity = Math.max(capacity, base.capacityBytes);
  }
  if (await readVolume(conn, pool, name)) throw new Error(`volume '${name}' already exists in pool '${pool}' on ${conn.uri}; delete it or choose another name`);
  await createVolumeFromXml(conn, pool, buildVolumeXml({ name, capacityBytes: capacity, format: "qcow2", backing }));
  return cleanupOnFailure(conn, pool, name, async () => {
    const v = await readVolume(conn, pool, name);
    if (!v) throw new Error(`volume '${name}' vanished from pool '${pool}' right after vol-create`);
    return v;
  });
}

export interface CidataVolumeResult {
  volume: VolumeInfo;
  /** sha256 (hex) of the user-data: the volume's identity (a changed config = a new volume). */
  userDataSha256: string;
}

/** Builds the cidata ISO locally (private temp dir, removed afterwards) and uploads it. */
export async function createCidataVolume(conn: Connection, args: { pool: string; name: string; content: CidataContent }): Promise<CidataVolumeResult> {
  const userDataSha256 = createHash("sha256").update(args.content.userData).digest("hex");
  return withPrivateTempDir("kairos-cidata-vol-", async (dir) => {
    const iso = path.join(dir, "cidata.iso");
    await buildCidataIso(iso, args.content);
    return { volume: await uploadFileAsVolume(conn, args.pool, args.name, iso, "iso"), userDataSha256 };
  });
}

/** Downloads a volume's bytes to a local file (0600) with `vol-download`. */
export async function downloadVolume(conn: Connection, pool: string, name: string, dest: string): Promise<void> {
  fs.writeFileSync(dest, "", { mode: 0o600 });
  await virsh(conn, ["vol-download", "--pool", pool, name, dest], { timeoutMs: 60 * 60_000 });
}

// ---------- pools ----------

/** Defines, builds and starts a `dir` pool at `dir` on the hypervisor host, unless it exists. */
export async function ensureDirPool(conn: Connection, name: string, dir: string): Promise<void> {
  const existing = await virshOrMissing(conn, ["pool-info", name]);
  if (!existing) {
    await virshWithXml(conn, "pool-define", buildDirPoolXml({ name, path: dir }));
    await virsh(conn, ["pool-build", name]);
  }
  if (!/State:\s+running/.test(existing?.stdout ?? "")) await virsh(conn, ["pool-start", name]);
}

/** Stops and undefines a pool (volumes must be gone); already gone is success. */
export async function deletePool(conn: Connection, name: string): Promise<void> {
  await destroyAndUndefine(conn, "pool", name);
}
