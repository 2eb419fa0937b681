/** Reads an ISO back with real xorriso: volume id, files with their Rock Ridge modes, contents. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function requireXorriso(): void {
  try {
    execFileSync("xorriso", ["-version"], { stdio: "ignore" });
  } catch {
    throw new Error("xorriso not found; apt-get install xorriso");
  }
}

export interface IsoContents {
  volumeId: string;
  /** ISO path -> mode string as `ls -l` shows it, e.g. `-rw-------`. */
  modes: Record<string, string>;
  /** ISO path -> text. */
  files: Record<string, string>;
}

export function readIso(iso: string): IsoContents {
  const pvd = execFileSync("xorriso", ["-indev", iso, "-pvd_info"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const volumeId = /Volume Id\s*:\s*(\S*)/.exec(pvd)?.[1] ?? "";
  const lsl = execFileSync("xorriso", ["-indev", iso, "-lsl", "/"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const modes: Record<string, string> = {};
  for (const line of lsl.split("\n")) {
    const m = /^(\S{10})\s.*'([^']+)'$/.exec(line.trim());
    if (m) modes[m[2]] = m[1];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-iso-read-"));
  try {
    execFileSync("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", path.join(dir, "x")], { stdio: "ignore" });
    const files: Record<string, string> = {};
    for (const name of fs.readdirSync(path.join(dir, "x"))) {
      const p = path.join(dir, "x", name);
      if (fs.statSync(p).isFile()) files[name] = fs.readFileSync(p, "utf8");
    }
    return { volumeId, modes, files };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
