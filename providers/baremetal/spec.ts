/**
 * Inputs of the bare-metal node resource, their defaults and validation, and the diff rule. Pure:
 * the dynamic provider's `check` and `diff` call these, the driver consumes the result.
 */
import { isIP } from "net";
import { configDigest } from "../../kairos/cluster-config";
import type { ValidationIssue } from "../../kairos/cloudconfig/model";
import { INSTALL_DEVICE_PATTERN } from "../../kairos/scripts";
import { formatHostKey, parseHostKey } from "../ssh/hostkey";
import { UNKNOWN_VALUE } from "../wire";

/** One machine booted into the Kairos live ISO, reachable over SSH. */
export interface BareMetalHost {
  /** Node name (also the Kubernetes node name you expect), `[A-Za-z0-9][A-Za-z0-9._-]*`. */
  name: string;
  /** IP address or DNS name of the machine, reachable from where `pulumi up` runs. */
  address: string;
  /** SSH port of the live system. Default 22. */
  port?: number;
  /** Login on the live system. Default "kairos" (the live ISO's user, password "kairos", docs/kairos-notes.md §8.1). */
  user?: string;
  /** Password of `user` on the live system (secret). One of `password` or `privateKey` is required. */
  password?: string;
  /** Private key for `user` on the live system (secret). */
  privateKey?: string;
  /**
   * Expected host key of the *live* system, `"ssh-ed25519 AAAA..."`. Default: the first key seen is
   * recorded in state (`hostKeyLive`) with a warning.
   */
  hostKey?: string;
  /**
   * Expected host key of the *installed* system. Default: the installed system generates new keys
   * on first boot, so the first key seen after the reboot is recorded (`hostKey`) with a warning,
   * and later reads refuse any other. When given, it wins over the recorded key: after a reinstall
   * outside Pulumi, set it to the machine's new key to re-pin it (an update, not a reinstall).
   */
  installedHostKey?: string;
  /** Install target: "auto" (Kairos picks) or a device path such as /dev/sda. Default "auto". */
  device?: string;
}

/** Timeouts in milliseconds. */
export interface BareMetalTimeouts {
  /** Waiting for SSH on the live system. Default 600000 (10 min). */
  connectMs?: number;
  /** The `manual-install` command itself. Default 1800000 (30 min). */
  installMs?: number;
  /** From the end of the install until the installed system accepts the admin. Default 900000 (15 min). */
  rebootMs?: number;
}

export interface BareMetalNodeInputs {
  host: BareMetalHost;
  /** The node's rendered cloud-config (secret); must start with `#cloud-config`. */
  cloudConfig: string;
  /** Admin user that the cloud-config creates (in group admin), used after the install. */
  adminUser: string;
  /** The cluster's private key for `adminUser` (secret). */
  adminPrivateKey: string;
  timeouts?: BareMetalTimeouts;
  /** What `pulumi destroy` does to the machine: "none" (default, nothing) or "reset" (factory reset). */
  onDestroy?: "none" | "reset";
}

export interface BareMetalNodeOutputs extends BareMetalNodeInputs {
  /** SHA-256 (hex) of `cloudConfig`, so a change shows as a replace without printing the config. */
  configDigest: string;
  address: string;
  /** Host key of the live system, `"<type> <base64>"`. */
  hostKeyLive: string;
  /**
   * Host key of the installed system: `host.installedHostKey` when given, else the first key seen
   * after the install. Later connections must present exactly this key (see pinnedHostKey).
   */
  hostKey: string;
  /** ISO 8601 time the installed system first answered. */
  installedAt: string;
  /** Whether the last create/read reached the installed system. */
  reachable: boolean;
}

export const DEFAULT_TIMEOUTS: Required<BareMetalTimeouts> = { connectMs: 600_000, installMs: 1_800_000, rebootMs: 900_000 };
export const DEFAULT_LIVE_USER = "kairos";
export const DEFAULT_DEVICE = "auto";

const unknown = (v: unknown) => v === UNKNOWN_VALUE;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LOGIN = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const DNS = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));

/** Every problem with the inputs; secrets are shown as `<secret>`. Unknown (preview) values are skipped. */
export function checkInputs(i: Partial<BareMetalNodeInputs>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (path: string, value: unknown, expected: string, secret = false) =>
    issues.push({ path, value: secret ? "<secret>" : show(value), expected });
  const h = i.host as Partial<BareMetalHost> | undefined;
  if (unknown(h)) return issues;
  if (!h || typeof h !== "object") {
    add("host", h, "an object with name and address");
  } else {
    if (!unknown(h.name) && (typeof h.name !== "string" || !NAME.test(h.name))) add("host.name", h.name, "1-63 characters of [A-Za-z0-9._-], starting with a letter or digit");
    if (!unknown(h.address) && (typeof h.address !== "string" || !(isIP(h.address) || DNS.test(h.address)))) add("host.address", h.address, "an IP address or DNS name (e.g. 192.168.1.50)");
    if (h.port !== undefined && !unknown(h.port) && (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535)) add("host.port", h.port, "an integer from 1 to 65535");
    if (h.user !== undefined && !unknown(h.user) && (typeof h.user !== "string" || !LOGIN.test(h.user))) add("host.user", h.user, 'a login name such as "kairos"');
    if (h.device !== undefined && !unknown(h.device) && (typeof h.device !== "string" || !INSTALL_DEVICE_PATTERN.test(h.device))) add("host.device", h.device, '"auto" or a device path matching ^/dev/.+ (e.g. /dev/sda)');
    if (!h.password && !h.privateKey) add("host.password", undefined, 'a password or host.privateKey for the live system (the live ISO has user "kairos", password "kairos")');
    for (const f of ["hostKey", "installedHostKey"] as const) {
      const v = h[f];
      if (v === undefined || unknown(v)) continue;
      try { parseHostKey(String(v), `host.${f}`); } catch { add(`host.${f}`, v, 'a public key line such as "ssh-ed25519 AAAAC3Nza..."'); }
    }
  }
  if (!unknown(i.cloudConfig) && (typeof i.cloudConfig !== "string" || !i.cloudConfig.startsWith("#cloud-config"))) {
    // Kairos ignores user-data not starting with this header (yip provider_cdrom.go, docs/kairos-notes.md §8.3).
    add("cloudConfig", i.cloudConfig, 'text whose first line is "#cloud-config"', true);
  }
  if (!unknown(i.adminUser) && (typeof i.adminUser !== "string" || !LOGIN.test(i.adminUser))) add("adminUser", i.adminUser, 'a login name such as "kairos"');
  if (!unknown(i.adminPrivateKey) && (typeof i.adminPrivateKey !== "string" || !/PRIVATE KEY-----/.test(i.adminPrivateKey))) {
    add("adminPrivateKey", i.adminPrivateKey, "a PEM or OpenSSH private key", true);
  }
  const t = i.timeouts as Record<string, unknown> | undefined;
  if (t !== undefined && !unknown(t)) {
    if (typeof t !== "object" || t === null) add("timeouts", t, "an object with connectMs, installMs, rebootMs");
    else for (const [k, v] of Object.entries(t)) {
      if (!(k in DEFAULT_TIMEOUTS)) add(`timeouts.${k}`, v, "one of connectMs, installMs, rebootMs");
      else if (v !== undefined && !unknown(v) && (!Number.isInteger(v) || (v as number) < 1000 || (v as number) > 86_400_000)) add(`timeouts.${k}`, v, "an integer number of milliseconds from 1000 to 86400000");
    }
  }
  if (i.onDestroy !== undefined && !unknown(i.onDestroy) && i.onDestroy !== "none" && i.onDestroy !== "reset") add("onDestroy", i.onDestroy, '"none" or "reset"');
  return issues;
}

/** One line per issue, as `check` failure reasons and in thrown errors. */
export function formatIssue(i: ValidationIssue): string {
  return `${i.path}: ${i.value} is not valid; expected ${i.expected}`;
}

// The one digest of a rendered config, shared with the cluster composition; re-exported for callers.
export { configDigest };

/** `"<type> <base64>"` of a key line (comment dropped), the form `hostKey` is recorded in. */
function keyOf(line: string): string {
  return formatHostKey(parseHostKey(line, "host.installedHostKey"));
}

/**
 * The key the installed system must present: `host.installedHostKey` when given, so changing it
 * re-pins a machine reinstalled outside Pulumi; else `recorded`, the key seen at first contact.
 */
export function pinnedHostKey(host: Pick<BareMetalHost, "installedHostKey">, recorded?: string): string | undefined {
  return host.installedHostKey ? keyOf(host.installedHostKey) : recorded || undefined;
}

export interface DiffDecision {
  changes: boolean;
  /** Properties whose change needs a reinstall. */
  replaces: string[];
}

/**
 * A different config, machine, port, disk or admin needs a reinstall (Kairos reads its cloud-config
 * once, docs/kairos-notes.md §8.3): replace. Credentials, host-key pins, timeouts and onDestroy only
 * change how later calls connect: update in place. The live key matters only to a future install;
 * an installed key that differs from the recorded one re-pins the machine (reinstalled outside
 * Pulumi, it now presents that key), so `update` records it.
 */
export function diffInputs(olds: BareMetalNodeOutputs, news: BareMetalNodeInputs): DiffDecision {
  const replaces: string[] = [];
  if (olds.configDigest !== configDigest(news.cloudConfig)) replaces.push("cloudConfig");
  const oh = olds.host ?? ({} as BareMetalHost);
  const nh = news.host;
  if (oh.address !== nh.address) replaces.push("host.address");
  if ((oh.port ?? 22) !== (nh.port ?? 22)) replaces.push("host.port");
  if ((oh.device ?? DEFAULT_DEVICE) !== (nh.device ?? DEFAULT_DEVICE)) replaces.push("host.device");
  if (oh.name !== nh.name) replaces.push("host.name");
  if (olds.adminUser !== news.adminUser) replaces.push("adminUser");
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const changes = replaces.length > 0
    || !same(oh.user ?? DEFAULT_LIVE_USER, nh.user ?? DEFAULT_LIVE_USER) || !same(oh.password, nh.password) || !same(oh.privateKey, nh.privateKey)
    || !same(oh.hostKey, nh.hostKey) || !same(oh.installedHostKey, nh.installedHostKey)
    || (!!nh.installedHostKey && !unknown(nh.installedHostKey) && keyOf(nh.installedHostKey) !== olds.hostKey)
    || olds.adminPrivateKey !== news.adminPrivateKey || !same(olds.timeouts, news.timeouts) || (olds.onDestroy ?? "none") !== (news.onDestroy ?? "none");
  return { changes, replaces };
}
