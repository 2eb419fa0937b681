/** Test helpers: fail (never skip) naming the package when a tool the L2 tests need is missing. */
import * as fs from "fs";
import * as path from "path";
import { run } from "../../../providers/exec";

const PACKAGES: Record<string, string> = {
  virsh: "libvirt-clients",
  "qemu-img": "qemu-utils",
  xorriso: "xorriso",
  sshd: "openssh-server",
  "ssh-keygen": "openssh-client",
  libvirtd: "libvirt-daemon-system",
  virtlogd: "libvirt-daemon-system",
  "qemu-system-x86_64": "qemu-system-x86",
};

export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    const p = path.join(dir, tool);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function requireTool(tool: string): string {
  const p = which(tool);
  if (!p) throw new Error(`${tool} not found; apt-get install ${PACKAGES[tool] ?? tool}`);
  return p;
}

/** Reads an ISO9660 image back: volume id and the named files' contents. */
export async function readIso(iso: string, files: string[]): Promise<{ volumeId: string; files: Record<string, string> }> {
  requireTool("xorriso");
  const info = await run(["xorriso", "-indev", iso, "-pvd_info"]);
  const volumeId = /Volume Id\s*:\s*(\S+)/.exec(info.stdout + info.stderr)?.[1] ?? "";
  const out: Record<string, string> = {};
  const dir = fs.mkdtempSync("/tmp/kairos-isoread-");
  try {
    for (const f of files) {
      const dest = path.join(dir, f);
      await run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", `/${f}`, dest]);
      out[f] = fs.readFileSync(dest, "utf8");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { volumeId, files: out };
}

export function tmpEntries(prefix: string): string[] {
  return fs.readdirSync("/tmp").filter((n) => n.startsWith(prefix));
}
