/**
 * Node media driver: writes a node's NoCloud seed ISO (`<node>-cidata.iso`, providers/cidata.ts)
 * and, when asked, its role's zero-touch installer ISO with the config at the ISO root as
 * `config.yaml` (docs/kairos-notes.md §7.3): remastered from a Kairos ISO with xorriso, or made by AuroraBoot
 * `build-iso --cloud-config` through the container engine (kairos/image/auroraboot.ts); see
 * RoleIsoSpec. Knows nothing of Pulumi.
 *
 * Files: the output directory is kept 0700 and every file written 0600; the role config is a 0600
 * file in a private work directory, mounted read-only, never on the command line, and the work
 * directory is removed whatever happens. A create that fails part-way removes what it wrote.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { buildCidataIso, copyFilePrivate } from "../cidata";
import { run } from "../exec";
import { fileSha256 } from "../image/driver";
import { buildIsoArgv, ISO_NAME } from "../../kairos/image/auroraboot";
import { DEFAULT_AURORABOOT_IMAGE, type ImageSpec } from "../../kairos/image/spec";
import { cidataPath, roleCloudConfig, roleIsoPath, type MediaFile, type NodeMediaInputs, type RoleIsoSpec } from "./spec";

const ENGINE_SOCKET = { docker: "/var/run/docker.sock", podman: "/run/podman/podman.sock" } as const;
const ENGINE_HINT = "install docker (apt-get install docker.io) or podman (apt-get install podman)";

/** Creates `dir` if missing and makes it owner-only (0700): it holds secrets. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
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

/** Builds the role ISO into `dest` (0600). */
async function writeRoleIso(outputDir: string, r: RoleIsoSpec, nodeConfig: string, log: (m: string) => void): Promise<void> {
  const config = roleCloudConfig(nodeConfig);
  const work = path.join(outputDir, `.kairos-media-work-${randomBytes(6).toString("hex")}`);
  ensurePrivateDir(work);
  try {
    const secretDir = path.join(work, "secret");
    const out = path.join(work, "out");
    ensurePrivateDir(secretDir);
    ensurePrivateDir(out);
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
    copyFilePrivate(built, roleIsoPath(outputDir, r));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Writes every file of the node; on failure removes what it wrote and rethrows. */
export async function writeNodeMedia(i: NodeMediaInputs, opts: { log?: (m: string) => void } = {}): Promise<MediaFile[]> {
  const log = opts.log ?? (() => undefined);
  ensurePrivateDir(i.outputDir);
  const written: string[] = [];
  try {
    const seed = cidataPath(i);
    written.push(seed);
    await buildCidataIso(seed, { userData: i.cloudConfig, hostname: i.node });
    const files = [await describe(seed, "cidata")];
    if (i.roleIso) {
      const iso = roleIsoPath(i.outputDir, i.roleIso);
      written.push(iso);
      await writeRoleIso(i.outputDir, i.roleIso, i.cloudConfig, log);
      files.push(await describe(iso, "role-iso"));
    }
    log(`media: wrote ${files.map((f) => f.path).join(", ")}`);
    return files;
  } catch (e) {
    for (const f of written) fs.rmSync(f, { force: true });
    throw e;
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

/** Removes the files; already gone is fine. The directory stays (it may hold other nodes' files). */
export function removeNodeMedia(files: readonly MediaFile[]): void {
  for (const f of files) fs.rmSync(f.path, { force: true });
}
