/**
 * Cloud-config renderer: a `CloudConfig` value in, the exact bytes a Kairos node reads out.
 *
 * Same input, same bytes: top-level keys follow one fixed order, nested keys are sorted, and the
 * YAML dialect is pinned below, so a rendered config can be hashed and diffed without noise.
 */
import * as yaml from "js-yaml";
import type { CloudConfig } from "./model";

/**
 * The only header this project emits, always as line 1. Kairos accepts legacy headers for a config
 * file (`kairos-sdk collector/collector.go` `ValidFileHeaders`), but yip's cloud-init layer drops
 * `users`, `write_files`, `runcmd`, `hostname` and `ssh_authorized_keys` unless it sees exactly
 * this one first (`yip pkg/schema/cloudinit/config.go`; docs/kairos-notes.md §3.1).
 */
export const CLOUD_CONFIG_HEADER = "#cloud-config";

/**
 * Top-level keys in rendering order: identity first (what a reader looks for), then what yip runs,
 * then the installer, then the Kubernetes and p2p blocks. Keys not listed follow, sorted.
 */
export const TOP_LEVEL_KEY_ORDER: readonly string[] = [
  "hostname",
  "users",
  "ssh_authorized_keys",
  "write_files",
  "runcmd",
  "stages",
  "install",
  "k3s",
  "k3s-agent",
  "p2p",
  "kubevip",
  "bundles",
  "options",
  "reset",
  "upgrade",
];

/**
 * Nested map keys: `name` first (users, stage steps and partitions read best that way), the rest by
 * UTF-16 code unit. Not `localeCompare`: its order depends on the host's ICU data.
 */
function compareNestedKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "name") return -1;
  if (b === "name") return 1;
  return a < b ? -1 : 1;
}

/**
 * The pinned YAML dialect (js-yaml 4 `dump`). Why each option:
 * - `noRefs`: no `&anchor`/`*alias` even when the same object appears twice; yip and Go's yaml
 *   read aliases, but a reader of `/oem/90_custom.yaml` should not have to.
 * - `lineWidth: -1`: never fold long lines; k3s args and SSH keys stay on one line, and a folded
 *   scalar would change the bytes whenever a neighbour's length changes.
 * - default single-quote style with `noCompatMode: false`: strings that another parser could read
 *   as something else (`'0644'`, `'yes'`, `'on'`, `'2020-01-01'`, `'{{ .Values.x }}'`) are quoted,
 *   so Go's YAML 1.1-minded decoders see the same string; inside single quotes every character but
 *   `'` is literal, so Go templates (`{{ trunc 4 .MachineID }}`, docs/kairos-notes.md §3.1) keep their bytes.
 * - `sortKeys`: deterministic nested order (see `compareNestedKeys`).
 */
const DUMP_OPTIONS: yaml.DumpOptions = {
  noRefs: true,
  lineWidth: -1,
  noCompatMode: false,
  quotingType: "'",
  forceQuotes: false,
  sortKeys: compareNestedKeys,
};

/** Marks a value that is dropped (only `undefined`). */
const DROPPED = Symbol("dropped");

function describeKind(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : "an object with an unknown prototype";
  }
  return `a ${typeof value}`;
}

function childPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy holding only what YAML can carry: `undefined` dropped (from maps and lists), everything
 * that has no faithful YAML form (functions, symbols, bigints, NaN, class instances such as a
 * Pulumi `Output`) rejected with the path where it sits.
 */
function toYamlData(value: unknown, path: string): unknown {
  if (value === undefined) return DROPPED;
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new Error(
      `renderCloudConfig: ${path || "(document)"} is ${value}; accepted: a finite number (or a string)`,
    );
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const converted = toYamlData(item, childPath(path, i));
      if (converted !== DROPPED) out.push(converted);
    });
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const converted = toYamlData(value[key], childPath(path, key));
      if (converted !== DROPPED) out[key] = converted;
    }
    return out;
  }
  throw new Error(
    `renderCloudConfig: ${path || "(document)"} is ${describeKind(value)}; accepted: string, ` +
      "finite number, boolean, null, list or plain map (resolve Pulumi Outputs before rendering)",
  );
}

/** Top-level keys in `TOP_LEVEL_KEY_ORDER`, then the unknown ones by code unit. */
export function orderTopLevelKeys(keys: readonly string[]): string[] {
  const rank = (k: string): number => {
    const i = TOP_LEVEL_KEY_ORDER.indexOf(k);
    return i === -1 ? TOP_LEVEL_KEY_ORDER.length : i;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b) || (a === b ? 0 : a < b ? -1 : 1));
}

/**
 * Renders a cloud-config document: line 1 exactly `#cloud-config`, then the YAML of `config` with
 * top-level keys in `TOP_LEVEL_KEY_ORDER` (unknown keys after, sorted), nested keys sorted (`name`
 * first), no anchors, no folding, ending in exactly one newline (unless the last value is a string
 * that itself ends in blank lines, which YAML's keep-chomping must show). `undefined` values are dropped;
 * values YAML cannot carry throw an Error naming their path.
 *
 * @example renderCloudConfig({ hostname: "cp1" }) === "#cloud-config\nhostname: cp1\n"
 */
export function renderCloudConfig(config: CloudConfig): string {
  if (!isPlainObject(config)) {
    throw new Error(
      `renderCloudConfig: the config is ${Array.isArray(config) ? "a list" : describeKind(config)}; ` +
        "accepted: a plain map of cloud-config keys",
    );
  }
  const data = toYamlData(config, "") as Record<string, unknown>;
  // One dump per top-level key: sortKeys applies at every level, and the top level has its own
  // order. A one-key document dumps as exactly that key's block, so concatenation is valid YAML.
  const blocks = orderTopLevelKeys(Object.keys(data)).map((key) =>
    yaml.dump({ [key]: data[key] }, DUMP_OPTIONS),
  );
  return `${CLOUD_CONFIG_HEADER}\n${blocks.join("")}`;
}
