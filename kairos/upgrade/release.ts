/**
 * Upgrading one node by hand over SSH, and checking afterwards that it runs what was asked for.
 * `kairos-agent upgrade` writes the new image to the passive slot and does not reboot; if the new
 * image then fails to boot, GRUB falls back and the node comes up on the previous one reporting
 * `passive_boot` (kairos-agent `state get boot`). So a finished upgrade is proven by what the node
 * reports after the reboot, not by the command's exit status.
 */
import { shellJoin } from "../scripts/quote";
import type { KairosImageRef } from "./reference";
import { validateOsImageRef } from "./reference";

/** Prints the node's release file (KEY="value" lines, written by kairos-init). */
export const KAIROS_RELEASE_COMMAND = "cat /etc/kairos-release";

/** Prints which image the node booted; see {@link parseBootState}. Needs root. */
export const BOOT_STATE_COMMAND = "sudo kairos-agent state get boot";

/** Prints `k3s version v1.32.4+k3s1 (<commit>)` and a `go version` line; see {@link parseK3sVersion}. */
export const K3S_VERSION_COMMAND = "k3s --version";

/** What `kairos-agent state get boot` prints (kairos-sdk `state/state.go`). */
export const BOOT_STATES = ["active_boot", "passive_boot", "recovery_boot", "livecd_boot", "autoreset_boot", "unknown"] as const;
export type BootState = (typeof BOOT_STATES)[number];

/** The boot state in `kairos-agent state get boot` output, or undefined for anything else. */
export function parseBootState(stdout: string): BootState | undefined {
  const s = stdout.trim();
  return (BOOT_STATES as readonly string[]).includes(s) ? (s as BootState) : undefined;
}

/**
 * The command that writes `image` to the passive slot (and with `recovery`, to the recovery system
 * instead), as kairos-agent takes it: `--source` must start with `oci:`, `dir:`, `file:` or `ocifile:`
 * (kairos-agent `main.go`, validateSource); here always `oci:`. It does not reboot; on failure it prints the
 * error and exits 1. Throws on an `image` that is no OCI reference, naming it.
 */
export function upgradeCommand(o: { image: string; recovery?: boolean }): string {
  const problem = validateOsImageRef("image", o.image);
  if (problem) throw new Error(problem);
  return shellJoin(["sudo", "kairos-agent", "upgrade", "--source", `oci:${o.image}`, ...(o.recovery ? ["--recovery"] : [])]);
}

/**
 * Reads a shell-style `KEY="value"` file such as `/etc/kairos-release` (kairos-init writes it
 * through a yip `environment_file` stage; the kairos-operator's preflight reads it with `. file`).
 * Double-quoted values lose the backslash before `"`, `\`, `$` and `` ` ``; single-quoted values are
 * literal; an unquoted value ends at whitespace. Blank lines, `#` comments and lines that are no
 * assignment are skipped; a later assignment wins, as when the shell sources it.
 */
export function parseKairosRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    out[m[1]] = shellValue(m[2]);
  }
  return out;
}

function shellValue(v: string): string {
  if (v.startsWith('"')) {
    let s = "";
    for (let i = 1; i < v.length; i++) {
      const c = v[i];
      if (c === "\\" && i + 1 < v.length && '"\\$`'.includes(v[i + 1])) s += v[++i];
      else if (c === '"') break;
      else s += c;
    }
    return s;
  }
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    return end < 0 ? v.slice(1) : v.slice(1, end);
  }
  return v.trim().split(/\s/)[0];
}

/** The `/etc/kairos-release` values an image tag promises; a key is absent when the tag says nothing of it. */
export interface ExpectedRelease {
  KAIROS_VERSION?: string;
  /** e.g. `v1.36.3+k3s1`; kairos-init writes what `k3s --version` / `k0s version` print. */
  KAIROS_SOFTWARE_VERSION?: string;
}

/** What a node booted into `ref` reports; empty for an unparsed reference (nothing can be told). */
export function expectedRelease(ref: KairosImageRef | undefined): ExpectedRelease {
  if (!ref) return {};
  const e: ExpectedRelease = { KAIROS_VERSION: ref.kairosVersion };
  if (ref.k8s) e.KAIROS_SOFTWARE_VERSION = ref.k8s.version;
  return e;
}

/** `v1.36.3-k3s1` (the tag and label spelling) and `v1.36.3+k3s1` name the same version. */
function sameSoftwareVersion(a: string, b: string): boolean {
  const norm = (v: string) => v.replace(/[-+](k3s\d+|k0s\.\d+)$/, "+$1");
  return norm(a) === norm(b);
}

/**
 * What differs between what the image promised and what the node's release file says, in one line
 * (`/etc/kairos-release: KAIROS_VERSION is "v4.1.2", expected "v4.2.0"`), or undefined when nothing
 * promised differs. Keys the image promises nothing about are not compared.
 */
export function releaseMismatch(expected: ExpectedRelease, actual: Record<string, string>): string | undefined {
  const diffs: string[] = [];
  for (const key of ["KAIROS_VERSION", "KAIROS_SOFTWARE_VERSION"] as const) {
    const want = expected[key];
    if (want === undefined) continue;
    const have = actual[key];
    if (have === undefined) diffs.push(`${key} is absent, expected ${JSON.stringify(want)}`);
    else if (key === "KAIROS_SOFTWARE_VERSION" ? !sameSoftwareVersion(have, want) : have !== want) {
      diffs.push(`${key} is ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`);
    }
  }
  return diffs.length ? `/etc/kairos-release: ${diffs.join("; ")}` : undefined;
}

/** The version in `k3s --version` output (`k3s version v1.32.4+k3s1 (abc123)` -> `v1.32.4+k3s1`). */
export function parseK3sVersion(stdout: string): string | undefined {
  const first = stdout.split(/\r?\n/).find((l) => l.trim() !== "");
  const m = first ? /^\s*k3s version (v\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?\+k3s\d+)(?:\s|$)/.exec(first) : null;
  return m ? m[1] : undefined;
}
