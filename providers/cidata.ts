/**
 * Builds a NoCloud seed ISO: ISO9660 (+Joliet/Rock Ridge) labelled `cidata` holding `user-data` and
 * `meta-data`. Kairos finds it by that label (yip `pkg/plugins/datasourceProviders/provider_cdrom.go`
 * `ListCDROMs`: `FindCIs("cidata")`, then files `user-data`, fallback `config`;
 * docs/kairos-notes.md §8.3) and reads `user-data` but not `meta-data`, which is still shipped for cloud-init.
 *
 * The user-data holds secrets, so the files live only in a fresh 0700 directory, are written 0600,
 * and the whole directory is removed afterwards, whatever happens. Tool: xorriso, else genisoimage.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandError, run } from "./exec";

export const CIDATA_LABEL = "cidata";

export interface CidataContent {
  /** The rendered cloud-config (secret). */
  userData: string;
  /** meta-data text. @default `instance-id: <instanceId>\nlocal-hostname: <hostname>` */
  metaData?: string;
  /** Used to build the default meta-data. @default sha256 of the user-data, first 16 hex chars */
  instanceId?: string;
  hostname?: string;
}

/** Pure: argv for xorriso's mkisofs emulation, reading `dir`. */
export function xorrisoArgv(outFile: string, dir: string): string[] {
  return ["xorriso", "-as", "mkisofs", "-quiet", "-output", outFile, "-volid", CIDATA_LABEL, "-joliet", "-rock", dir];
}

/** Pure: the same with genisoimage. */
export function genisoimageArgv(outFile: string, dir: string): string[] {
  return ["genisoimage", "-quiet", "-output", outFile, "-volid", CIDATA_LABEL, "-joliet", "-rock", dir];
}

export function defaultMetaData(content: CidataContent): string {
  const id = content.instanceId ?? createHash("sha256").update(content.userData).digest("hex").slice(0, 16);
  return `instance-id: ${id}\n` + (content.hostname ? `local-hostname: ${content.hostname}\n` : "");
}

/** A private (0700) temporary directory; `fn` runs with it and it is removed afterwards. */
export async function withPrivateTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix)); // mkdtemp creates it 0700
  fs.chmodSync(dir, 0o700);
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the seed ISO to `outFile` (created 0600). The staging directory is private and removed
 * before this returns. Returns the ISO's size in bytes.
 */
export async function buildCidataIso(outFile: string, content: CidataContent): Promise<number> {
  if (typeof content.userData !== "string" || content.userData.length === 0) {
    throw new Error("cidata.userData: empty is not valid; expected the rendered cloud-config text");
  }
  return withPrivateTempDir("kairos-cidata-", async (dir) => {
    const files = path.join(dir, "files");
    fs.mkdirSync(files, { mode: 0o700 });
    fs.writeFileSync(path.join(files, "user-data"), content.userData, { mode: 0o600 });
    fs.writeFileSync(path.join(files, "meta-data"), content.metaData ?? defaultMetaData(content), { mode: 0o600 });
    const tmpIso = path.join(dir, "cidata.iso");
    try {
      await run(xorrisoArgv(tmpIso, files), { timeoutMs: 60_000 });
    } catch (e) {
      if (!(e instanceof CommandError && e.notFound)) throw e;
      await run(genisoimageArgv(tmpIso, files), {
        timeoutMs: 60_000,
        installHint: "neither xorriso nor genisoimage is installed; apt-get install xorriso",
      });
    }
    copyFilePrivate(tmpIso, outFile);
    return fs.statSync(outFile).size;
  });
}

/**
 * Copies `src` to `dest`, created owner-only (0600) before any byte is written, so a file holding
 * secrets is never world-readable (copyFileSync would carry over the source's mode, e.g. xorriso's 0644).
 */
export function copyFilePrivate(src: string, dest: string): void {
  const fd = fs.openSync(dest, "w", 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeFileSync(fd, fs.readFileSync(src));
  } finally {
    fs.closeSync(fd);
  }
}
