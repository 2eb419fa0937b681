/**
 * The CLI's arguments: argv in, one typed command out, or a UsageError whose message names the
 * option, the value and what is accepted. Parsing is pure (no I/O); durations are read by the
 * injected `parseDuration` so the CLI and the reaper accept exactly the same forms. The commands
 * and options are described for users in docs/cli.md.
 */
import { parseArgs } from "node:util";
import { DEFAULT_CIDR_POOL, subnetPoolProblem } from "../kairos/libvirt/subnet-pool";

/** Bad arguments: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Same rule as KairosCluster's clusterName (kairos/roles/plan.ts), so a name the CLI takes never fails later. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 40;

export interface UpCommand {
  kind: "up";
  image: { kind: "disk" | "iso"; path?: string; url?: string; sha256?: string; checksumUrl?: string };
  servers: number;
  agents: number;
  /** Undefined: the command picks one. */
  name?: string;
  ttlSeconds: number;
  uri: string;
  pool: string;
  networkPool: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  domainType: "auto" | "kvm" | "qemu";
  json: boolean;
}

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | UpCommand
  | { kind: "list"; json: boolean }
  | { kind: "kubeconfig"; name: string }
  | { kind: "down"; name: string }
  | { kind: "reap"; uri?: string; dryRun: boolean; olderThanSeconds?: number; json: boolean };

type OptionSpec = { type: "string" | "boolean"; value?: string; help: string };

/** Every command's options, in the order `--help` lists them. */
export const COMMANDS = {
  up: {
    summary: "create a cluster, wait until every node is Ready, print its kubeconfig path",
    positional: "",
    options: {
      image: { type: "string", value: "<path|url>", help: "Kairos image: a local file or an http(s) URL (required)" },
      "image-kind": { type: "string", value: "disk|iso", help: "disk: pre-installed raw/qcow2; iso: live ISO that installs (default: iso for *.iso, else disk)" },
      "image-sha256": { type: "string", value: "<hex>", help: "SHA-256 of the image at a URL (or --image-checksum-url)" },
      "image-checksum-url": { type: "string", value: "<url>", help: "URL of a sha256sum file for the image at a URL" },
      servers: { type: "string", value: "<n>", help: "server nodes, at least 1 (default 1)" },
      agents: { type: "string", value: "<n>", help: "agent nodes (default 0)" },
      name: { type: "string", value: "<dns-label>", help: "cluster name, at most 40 characters (default eph-<random>)" },
      ttl: { type: "string", value: "<duration>", help: "the reaper may remove the cluster this long after up started (default 2h)" },
      uri: { type: "string", value: "<libvirt-uri>", help: "libvirt connection (default qemu:///system)" },
      pool: { type: "string", value: "<pool>", help: "libvirt storage pool (default default)" },
      "network-pool": { type: "string", value: "<cidr>", help: `a free /24 for the cluster's network is taken from here (default ${DEFAULT_CIDR_POOL})` },
      vcpus: { type: "string", value: "<n>", help: "vCPUs per node (default 2)" },
      memory: { type: "string", value: "<MiB>", help: "memory per node in MiB (default 4096)" },
      disk: { type: "string", value: "<GiB>", help: "disk per node in GiB (default 40)" },
      "domain-type": { type: "string", value: "auto|kvm|qemu", help: "auto: kvm when usable, else qemu (default auto)" },
      json: { type: "boolean", help: "print one JSON object instead of the kubeconfig path" },
    },
  },
  list: { summary: "list the clusters this CLI created", positional: "", options: { json: { type: "boolean", help: "print a JSON array" } } },
  kubeconfig: { summary: "print the path of a cluster's kubeconfig", positional: "<name>", options: {} },
  down: { summary: "destroy a cluster and remove its folder", positional: "<name>", options: {} },
  reap: {
    summary: "remove expired clusters and clusters whose state is gone, listing each object",
    positional: "",
    options: {
      uri: { type: "string", value: "<libvirt-uri>", help: "libvirt connection to sweep (default qemu:///system)" },
      "dry-run": { type: "boolean", help: "list what would be removed, remove nothing" },
      "older-than": { type: "string", value: "<duration>", help: "also remove clusters created longer ago than this" },
      json: { type: "boolean", help: "print the report as JSON" },
    },
  },
} satisfies Record<string, { summary: string; positional: string; options: Record<string, OptionSpec> }>;

export type CommandName = keyof typeof COMMANDS;

const fail = (what: string): never => {
  throw new UsageError(what);
};

const accepted = (names: string[]) => (names.length ? names.map((n) => `--${n}`).join(", ") : "no options");

/** Reads `argv` (without node and script) into a command. `parseDuration` returns seconds and throws on a bad value. */
export function parseCommand(argv: readonly string[], parseDuration: (s: string) => number): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") return { kind: "help" };
  if (first === "--version" || first === "-v" || first === "version") return { kind: "version" };
  if (!(first in COMMANDS)) {
    fail(first.startsWith("-") ? `unknown option ${first}; expected a command first (${Object.keys(COMMANDS).join(", ")}) or --help, --version`
      : `unknown command ${JSON.stringify(first)}; expected one of ${Object.keys(COMMANDS).join(", ")}`);
  }
  const name = first as CommandName;
  if (rest.includes("--help") || rest.includes("-h")) return { kind: "help" };
  const { values, positionals } = readOptions(name, rest);
  const duration = (option: string, v: string) => {
    let s: number;
    try {
      s = parseDuration(v);
    } catch {
      s = NaN;
    }
    if (!Number.isFinite(s) || s <= 0) fail(`--${option} ${JSON.stringify(v)} is not a duration; expected a positive number with a unit, e.g. 90s, 30m, 2h or 1d`);
    return s;
  };
  switch (name) {
    case "up":
      if (positionals.length) fail(`up takes no arguments besides options; got ${JSON.stringify(positionals[0])}`);
      return parseUp(values, duration);
    case "list":
      if (positionals.length) fail(`list takes no arguments besides options; got ${JSON.stringify(positionals[0])}`);
      return { kind: "list", json: values.json === true };
    case "kubeconfig":
    case "down":
      if (positionals.length !== 1) fail(`${name} takes exactly one cluster name; got ${positionals.length ? positionals.map((p) => JSON.stringify(p)).join(" ") : "none"}`);
      return { kind: name, name: clusterName(positionals[0], "<name>") };
    case "reap":
      if (positionals.length) fail(`reap takes no arguments besides options; got ${JSON.stringify(positionals[0])}`);
      return {
        kind: "reap", dryRun: values["dry-run"] === true, json: values.json === true,
        ...(values.uri !== undefined ? { uri: libvirtUri(values.uri as string) } : {}),
        ...(values["older-than"] !== undefined ? { olderThanSeconds: duration("older-than", values["older-than"] as string) } : {}),
      };
  }
}

/** node:util parseArgs (not strict, so the messages are ours): unknown options, missing and stray values. */
function readOptions(command: CommandName, args: string[]): { values: Record<string, string | boolean>; positionals: string[] } {
  const spec: Record<string, OptionSpec> = COMMANDS[command].options;
  const { tokens } = parseArgs({ args, options: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, { type: v.type }])), strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === "positional") positionals.push(t.value);
    if (t.kind !== "option") continue;
    const o = spec[t.name];
    if (!o) fail(`unknown option ${args[t.index]} for ${command}; accepted: ${accepted(Object.keys(spec))}`); // as typed: -ab is read as -a -b
    if (o.type === "boolean" && t.value !== undefined) fail(`--${t.name} takes no value; got ${JSON.stringify(t.value)}`);
    if (o.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.startsWith("--")))) fail(`--${t.name} needs a value: ${o.value}`);
    if (values[t.name] !== undefined) fail(`--${t.name} is given twice; give it once`);
    values[t.name] = o.type === "boolean" ? true : (t.value as string);
  }
  return { values, positionals };
}

function clusterName(v: string, what: string): string {
  if (!DNS_LABEL.test(v) || v.length > MAX_NAME_LENGTH) {
    fail(`${what} ${JSON.stringify(v)} is not a valid cluster name; expected a DNS label: lower-case letters, digits and '-', not starting or ending with '-', at most ${MAX_NAME_LENGTH} characters`);
  }
  return v;
}

function wholeNumber(option: string, v: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`--${option} ${JSON.stringify(v)} is not accepted; expected a whole number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(option: string, v: string | boolean | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) fail(`--${option} ${JSON.stringify(v)} is not accepted; expected ${allowed.join(" or ")}`);
  return v as T;
}

function libvirtUri(v: string): string {
  if (!/^[a-z0-9+]+:\/\//.test(v)) fail(`--uri ${JSON.stringify(v)} is not a libvirt URI; expected e.g. qemu:///system or qemu+ssh://root@host/system`);
  return v;
}

function storagePool(v: string | undefined): string {
  if (v === undefined) return "default";
  if (v === "") fail('--pool "" is not accepted; expected the name of a libvirt storage pool');
  return v;
}

/** A pool the lease can cut /24s from: the lease's own check (kairos/libvirt/subnet-pool.ts), at parse time. */
function cidr(option: string, v: string): string {
  if (subnetPoolProblem(v, 24)) {
    fail(`--${option} ${JSON.stringify(v)} is not accepted; expected an IPv4 subnet from /8 to /24 to take a /24 from, e.g. ${DEFAULT_CIDR_POOL}`);
  }
  return v;
}

function parseUp(v: Record<string, string | boolean>, duration: (option: string, v: string) => number): UpCommand {
  const image = v.image as string | undefined;
  if (image === undefined) fail("up needs --image <path|url> (a Kairos disk image or live ISO)");
  const isUrl = /^https?:\/\//.test(image!);
  const kind = oneOf("image-kind", v["image-kind"], ["disk", "iso"] as const, /\.iso$/i.test(image!) ? "iso" : "disk");
  const sha256 = v["image-sha256"] as string | undefined;
  const checksumUrl = v["image-checksum-url"] as string | undefined;
  if (!isUrl && (sha256 !== undefined || checksumUrl !== undefined)) fail(`--${sha256 !== undefined ? "image-sha256" : "image-checksum-url"} applies only to an --image URL; ${JSON.stringify(image)} is a local file`);
  if (isUrl && (sha256 === undefined) === (checksumUrl === undefined)) fail(`--image ${JSON.stringify(image)} is a URL; give exactly one of --image-sha256 <hex> and --image-checksum-url <url>`);
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(sha256)) fail(`--image-sha256 ${JSON.stringify(sha256)} is not accepted; expected 64 hex digits`);
  if (checksumUrl !== undefined && !/^https?:\/\/\S+$/.test(checksumUrl)) fail(`--image-checksum-url ${JSON.stringify(checksumUrl)} is not accepted; expected an http(s) URL`);
  return {
    kind: "up",
    image: isUrl ? { kind, url: image, ...(sha256 !== undefined ? { sha256 } : { checksumUrl }) } : { kind, path: image },
    servers: wholeNumber("servers", v.servers, 1, 1, 99),
    agents: wholeNumber("agents", v.agents, 0, 0, 99),
    ...(v.name !== undefined ? { name: clusterName(v.name as string, "--name") } : {}),
    ttlSeconds: v.ttl !== undefined ? duration("ttl", v.ttl as string) : 2 * 3600,
    uri: v.uri !== undefined ? libvirtUri(v.uri as string) : "qemu:///system",
    pool: storagePool(v.pool as string | undefined),
    networkPool: v["network-pool"] !== undefined ? cidr("network-pool", v["network-pool"] as string) : DEFAULT_CIDR_POOL,
    vcpus: wholeNumber("vcpus", v.vcpus, 2, 1, 256),
    memoryMiB: wholeNumber("memory", v.memory, 4096, 128, 4_194_304),
    diskGiB: wholeNumber("disk", v.disk, 40, 1, 65_536),
    domainType: oneOf("domain-type", v["domain-type"], ["auto", "kvm", "qemu"] as const, "auto"),
    json: v.json === true,
  };
}

/** The `--help` text: every command and option. */
export function usage(): string {
  const lines = ["Usage: pulumi-kairos <command> [options]", "", "Throwaway Kairos clusters on libvirt, without writing a program.", "", "Commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) {
    lines.push(`  ${`${name}${c.positional ? ` ${c.positional}` : ""}`.padEnd(20)}${c.summary}`);
    for (const [opt, o] of Object.entries(c.options as Record<string, OptionSpec>)) lines.push(`      ${`--${opt}${o.value ? ` ${o.value}` : ""}`.padEnd(32)}${o.help}`);
  }
  lines.push("  help                this text (also --help, -h)", "  --version           the package version", "",
    "Durations: a number and a unit, or a sum of those, e.g. 90s, 30m, 2h, 1d, 1h30m.",
    "State: $PULUMI_KAIROS_HOME, else $XDG_STATE_HOME/pulumi-kairos, else ~/.local/state/pulumi-kairos.",
    "Exit codes: 0 success, 1 the command failed, 2 bad arguments.");
  return `${lines.join("\n")}\n`;
}
