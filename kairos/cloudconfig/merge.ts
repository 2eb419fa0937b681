/**
 * Deep merge of a user's raw cloud-config fragment (the escape hatch) over the one the cluster
 * generates, with a guard on the keys the cluster owns.
 */
import type { CloudConfig } from "./model";

/** Options of `mergeCloudConfig`. */
export interface MergeCloudConfigOptions {
  /**
   * Dotted paths whose value the cluster owns, e.g. `p2p.network_token`, `k3s.env.K3S_TOKEN`,
   * `k3s-agent.env.K3S_URL`, `install.device`, `hostname`. Segments are map keys split on `.`
   * (paths through lists are not supported). `extra` may repeat an owned value unchanged, but
   * changing it (directly, or by replacing a parent map) throws `ConfigConflictError`.
   * @default [] (nothing owned)
   */
  readonly owned?: readonly string[];
  /**
   * Owned paths the user has opted to override. An entry covers itself and every owned path
   * below it (`"k3s"` covers `k3s.env.K3S_TOKEN`).
   * @default []
   */
  readonly allowOverride?: readonly string[];
}

/**
 * `extra` changes keys the cluster owns. `keys` lists the owned paths concerned; the message names
 * them and the opt-in, never the values (several owned keys are secrets).
 */
export class ConfigConflictError extends Error {
  readonly keys: readonly string[];
  constructor(conflicts: ReadonlyArray<{ owned: string; setAt: string }>) {
    super(conflicts.map(conflictLine).join("\n"));
    this.name = "ConfigConflictError";
    this.keys = conflicts.map((c) => c.owned);
  }
}

function conflictLine({ owned, setAt }: { owned: string; setAt: string }): string {
  const what =
    setAt === owned
      ? `extra cloud-config sets ${owned}, which the cluster owns`
      : `extra cloud-config sets ${setAt}, which replaces ${owned} that the cluster owns`;
  return `${what}; remove it from extra, or opt in with allowOverride: ["${owned}"]`;
}

/**
 * Top-level lists where the user's entries are added after ours (yip runs them all): extra users,
 * keys, files and commands must not silently delete the cluster's own. Every list under `stages`
 * (a stage's step list) is appended too; all other lists are replaced.
 */
export const APPENDED_TOP_LEVEL_LISTS: readonly string[] = ["users", "ssh_authorized_keys", "write_files", "runcmd"];

function isAppendedList(path: readonly string[]): boolean {
  if (path.length === 1) return APPENDED_TOP_LEVEL_LISTS.includes(path[0]);
  return path.length === 2 && path[0] === "stages";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of plain data (maps, lists, scalars); anything else is shared as is. */
function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as unknown as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = clone(value[key]);
    return out as T;
  }
  return value;
}

function mergeValue(ours: unknown, extra: unknown, path: string[]): unknown {
  if (extra === undefined) return clone(ours);
  if (isPlainObject(ours) && isPlainObject(extra)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(ours)) out[key] = clone(ours[key]);
    for (const key of Object.keys(extra)) {
      if (extra[key] === undefined) continue;
      out[key] = mergeValue(ours[key], extra[key], [...path, key]);
    }
    return out;
  }
  if (Array.isArray(ours) && Array.isArray(extra) && isAppendedList(path)) {
    return [...ours.map(clone), ...extra.map(clone)];
  }
  // Scalars, replaced lists, type changes and null: the user's value wins.
  return clone(extra);
}

function valueAt(root: unknown, segments: readonly string[]): unknown {
  let cur: unknown = root;
  for (const seg of segments) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** The deepest prefix of `segments` that `extra` sets (a defined value), or undefined. */
function deepestSetPrefix(extra: unknown, segments: readonly string[]): string | undefined {
  let cur: unknown = extra;
  let found: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    if (!isPlainObject(cur) || cur[segments[i]] === undefined) break;
    cur = cur[segments[i]];
    found = segments.slice(0, i + 1).join(".");
  }
  return found;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function isCovered(owned: string, allowOverride: readonly string[]): boolean {
  return allowOverride.some((allowed) => owned === allowed || owned.startsWith(`${allowed}.`));
}

/**
 * Merges the user's `extra` cloud-config over `ours` and returns a new object (inputs are never
 * mutated). Maps merge recursively; `users`, `ssh_authorized_keys`, `write_files`, `runcmd` and each
 * stage's step list are appended (ours first); other lists, scalars and `null` from `extra` replace
 * ours; `undefined` in `extra` is ignored.
 *
 * Throws `ConfigConflictError` listing every owned path (see `MergeCloudConfigOptions.owned`) that
 * the merge would change, unless `allowOverride` covers it.
 */
export function mergeCloudConfig(
  ours: CloudConfig,
  extra: CloudConfig | undefined,
  opts: MergeCloudConfigOptions = {},
): CloudConfig {
  if (extra === undefined) return clone(ours);
  if (!isPlainObject(extra)) {
    throw new Error(
      `mergeCloudConfig: extra is ${Array.isArray(extra) ? "a list" : typeof extra}; accepted: a map of cloud-config keys`,
    );
  }
  const merged = mergeValue(ours, extra, []) as CloudConfig;
  const allowOverride = opts.allowOverride ?? [];
  const conflicts: Array<{ owned: string; setAt: string }> = [];
  for (const owned of opts.owned ?? []) {
    if (isCovered(owned, allowOverride)) continue;
    const segments = owned.split(".");
    const setAt = deepestSetPrefix(extra, segments);
    if (setAt === undefined) continue;
    if (!deepEqual(valueAt(merged, segments), valueAt(ours, segments))) conflicts.push({ owned, setAt });
  }
  if (conflicts.length > 0) throw new ConfigConflictError(conflicts);
  return merged;
}
