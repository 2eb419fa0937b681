/**
 * Node media driver: writes a node's NoCloud seed ISO (`<node>-cidata.iso`, providers/cidata.ts)
 * and, when asked, its role's zero-touch installer ISO with the config at the ISO root as
 * `config.yaml` (docs/kairos-notes.md §7.3): remastered from a Kairos ISO with xorriso, or made by AuroraBoot
 * `build-iso --cloud-config` through the container engine (kairos/image/auroraboot.ts); see
 * RoleIsoSpec. Knows nothing of Pulumi.
 *
 * Files: the user's `outputDir` is created if missing but its permissions are never changed (it
 * may be `/tmp` or a home folder); the files go into our own folder inside it (`folder`, see
 * prepareMediaDir), created 0700, and are written 0600. Each file is built in a private work
 * directory inside that folder and renamed into place, so a final name never holds half a file. The
 * role config is a 0600 file in the work directory, mounted read-only, never on the command line, and
 * the work directory is removed whatever happens. A create that fails part-way removes what it wrote.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { buildCidataIso, copyFilePrivate } from "../cidata";
import { run } from "../exec";
import { fileSha256 } from "../image/driver";
import { buildIsoArgv, ISO_NAME } from "../../kairos/image/auroraboot";
import { DEFAULT_AURORABOOT_IMAGE, type ImageSpec } from "../../kairos/image/spec";
import { cidataPath, mediaDir, roleCloudConfig, roleIsoPath, type MediaFile, type NodeMediaInputs, type RoleIsoSpec } from "./spec";

const ENGINE_SOCKET = { docker: "/var/run/docker.sock", podman: "/run/podman/podman.sock" } as const;
const ENGINE_HINT = "install docker (apt-get install docker.io) or podman (apt-get install podman)";

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Creates `dir`, which must not exist, owner-only (0700) whatever the umask: it holds secrets. */
function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/**
 * Makes the folder the files go to and returns it (mediaDir). `outputDir` is the user's: created if
 * missing (0700, as it will hold secrets), never chmod-ed when it exists. Our `folder` inside it is
 * created 0700; an existing one is reused as it is (a sibling node's create may have made it).
 */
function prepareMediaDir(i: Pick<NodeMediaInputs, "outputDir" | "folder">): string {
  fs.mkdirSync(i.outputDir, { recursive: true, mode: 0o700 });
  const dir = mediaDir(i);
  if (dir === i.outputDir) return dir;
  try {
    makePrivateDir(dir);
  } catch (e) {
    if (errno(e) !== "EEXIST") throw e;
    if (!fs.statSync(dir).isDirectory()) throw new Error(`media: ${dir} exists and is not a folder; expected outputDir/${i.folder} to be a folder for the media files (or absent)`);
  }
  return dir;
}

/**
 * A private work directory inside the media folder. While it exists the folder is not empty, so a
 * sibling node's delete (which removes the folder once empty) cannot remove it under us; should
 * that happen between the two mkdirs, the folder is made again (at most 3 tries).
 */
function makeWorkDir(i: Pick<NodeMediaInputs, "outputDir" | "folder">): string {
  for (let attempt = 1; ; attempt++) {
    const work = path.join(prepareMediaDir(i), `.kairos-media-work-${randomBytes(6).toString("hex")}`);
    try {
      makePrivateDir(work);
      return work;
    } catch (e) {
      if (errno(e) !== "ENOENT" || attempt >= 3) throw e;
    }
  }
}

async function describe(file: string, kind: MediaFile["kind"]): Promise<MediaFile> {
  return { path: file, kind, sha256: await fileSha256(file), size: fs.statSync(file).size };
}

/** The ISO path where Kairos' live system finds an embedded config (`/run/initramfs/live/config.yaml`, docs/kairos-notes.md §7.3). */
export const EMBEDDED_CONFIG_PATH = "/config.yaml";

/**
 * Pure: xorriso argv adding the config to a copy of `baseIso`, boot records replayed so the result
 * boots like the original (mirrors AuroraBoot `pkg/ops/iso.go` InjectISO).
 */
export function remasterArgv(baseIso: string, outIso: string, cloudConfigFile: string): string[] {
  return ["xorriso", "-indev", baseIso, "-outdev", outIso, "-map", cloudConfigFile, EMBEDDED_CONFIG_PATH, "-boot_image", "any", "replay", "-end"];
}

/** Pure: the AuroraBoot argv for a role ISO (the config is the mounted file, not text). */
export function roleIsoArgv(r: RoleIsoSpec, outDir: string, cloudConfigFile: string): string[] {
  const engine = r.engine ?? "docker";
  const spec = { auroraBootImage: r.auroraBootImage ?? DEFAULT_AURORABOOT_IMAGE, arch: r.arch ?? "amd64" } as ImageSpec;
  return buildIsoArgv(spec, {
    engineBinary: r.engineBinary ?? engine,
    imageRef: r.imageRef ?? "",
    outputDir: outDir,
    cloudConfigFile,
    engineSocket: r.engineSocket ?? ENGINE_SOCKET[engine],
  });
}

/** Builds the role ISO in `work` (the node's work directory) and returns its path there (0600). */
async function buildRoleIso(work: string, r: RoleIsoSpec, nodeConfig: string, log: (m: string) => void): Promise<string> {
  const config = roleCloudConfig(nodeConfig);
  const secretDir = path.join(work, "secret");
  const out = path.join(work, "out");
  makePrivateDir(secretDir);
  makePrivateDir(out);
  const file = path.join(secretDir, "cloud-config.yaml");
  fs.writeFileSync(file, config, { mode: 0o600 });
  const built = path.join(out, `${ISO_NAME}.iso`);
  const redact = [config, nodeConfig];
  if (r.isoPath !== undefined) {
    if (!fs.existsSync(r.isoPath)) throw new Error(`roleIso.isoPath: ${JSON.stringify(r.isoPath)} does not exist; expected a Kairos ISO file`);
    log(`media: writing ${r.name}.iso from ${r.isoPath} with the role config embedded...`);
    await run(remasterArgv(r.isoPath, built, file), { timeoutMs: r.timeoutMs ?? 600_000, installHint: "apt-get install xorriso", redact });
  } else {
    log(`media: building ${r.name}.iso with AuroraBoot from ${r.imageRef}...`);
    await run(roleIsoArgv(r, out, file), { timeoutMs: r.timeoutMs ?? 3_600_000, installHint: ENGINE_HINT, redact });
  }
  if (!fs.existsSync(built)) throw new Error(`media: the ISO build finished but wrote no ${ISO_NAME}.iso for roleIso ${JSON.stringify(r.name)}`);
  // AuroraBoot may run as root and leave a root-owned 0644 file: copy into our own 0600 file.
  const iso = path.join(work, "role.iso");
  copyFilePrivate(built, iso);
  return iso;
}

/** Writes every file of the node; on failure removes what it wrote and rethrows. */
export async function writeNodeMedia(i: NodeMediaInputs, opts: { log?: (m: string) => void } = {}): Promise<MediaFile[]> {
  const log = opts.log ?? (() => undefined);
  const work = makeWorkDir(i);
  const written: string[] = [];
  try {
    const seed = cidataPath(i);
    const seedTmp = path.join(work, "cidata.iso");
    await buildCidataIso(seedTmp, { userData: i.cloudConfig, hostname: i.node });
    written.push(seed);
    fs.renameSync(seedTmp, seed);
    const files = [await describe(seed, "cidata")];
    if (i.roleIso) {
      const iso = roleIsoPath(mediaDir(i), i.roleIso);
      const isoTmp = await buildRoleIso(work, i.roleIso, i.cloudConfig, log);
      written.push(iso);
      fs.renameSync(isoTmp, iso);
      files.push(await describe(iso, "role-iso"));
    }
    log(`media: wrote ${files.map((f) => f.path).join(", ")}`);
    return files;
  } catch (e) {
    for (const f of written) fs.rmSync(f, { force: true });
    throw e;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** What changed since the files were written: one line per missing or changed file; empty when intact. */
export async function checkNodeMedia(files: readonly MediaFile[]): Promise<string[]> {
  const problems: string[] = [];
  for (const f of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f.path);
    } catch {
      problems.push(`${f.path} is missing`);
      continue;
    }
    if (st.size !== f.size || (await fileSha256(f.path)) !== f.sha256) problems.push(`${f.path} changed (sha256 differs)`);
    else if ((st.mode & 0o077) !== 0) problems.push(`${f.path} is readable by others (mode ${(st.mode & 0o777).toString(8)})`);
  }
  return problems;
}

/**
 * Removes the files (paths as recorded in state); already gone is fine. `ownDir`, the resource's own
 * folder (never the user's `outputDir`), is removed too once empty: other nodes' files keep it.
 */
export function removeNodeMedia(files: readonly MediaFile[], ownDir?: string): void {
  for (const f of files) fs.rmSync(f.path, { force: true });
  if (ownDir === undefined) return;
  try {
    fs.rmdirSync(ownDir);
  } catch (e) {
    if (!["ENOTEMPTY", "EEXIST", "ENOENT"].includes(errno(e) ?? "")) throw e;
  }
}
