/**
 * Cloud-config validator: every problem a Kairos node would trip over, as `{ path, value,
 * expected }`, written from the code that reads the config (docs/kairos-notes.md §3, §4.1, §6, §10), not from
 * the outdated published JSON schema. Unknown keys are tolerated, as Kairos tolerates them.
 */
import * as yaml from "js-yaml";
import { decodeNetworkToken } from "../edgevpn/token";
import type { CloudConfig, ValidationIssue } from "./model";
import { CLOUD_CONFIG_HEADER } from "./render";

/**
 * Largest config file accepted: 1 MiB, the limit Kairos documents for a config file. The collector
 * (`kairos-sdk collector/collector.go`, `maxConfigFileSize`) in fact skips files only from 2 MiB;
 * the documented bound is kept so a config never depends on that leniency.
 */
export const MAX_CLOUD_CONFIG_BYTES = 1024 * 1024;

/** Headers the collector still accepts but under which yip drops the cloud-init keys (§3.1). */
const LEGACY_HEADERS = ["#kairos-config", "#node-config"];

/** `kairos-sdk types/install/install.go` device pattern (docs/kairos-notes.md §3.3). */
const INSTALL_DEVICE_PATTERN = /^(auto|\/dev\/.+|script:\/\/.+)$/;

/** cloud-init `write_files.permissions`: an octal mode as a string, e.g. "0644". */
const OCTAL_MODE_PATTERN = /^0?[0-7]{3,4}$/;

/** Keys whose values are never echoed (last path segment): tokens, passwd, secrets; not lock_passwd. */
const SECRET_KEY_PATTERN = /token|^passw|password|secret/i;
/** String values that look like they carry one (`--token=…`, `K3S_TOKEN=…`) are not echoed either. */
const SECRET_TEXT_PATTERN = /token|passw|secret/i;
const SECRET = "<secret>";

/** Path used for problems with the document as a whole (size, YAML syntax, not a mapping). */
export const DOCUMENT_PATH = "(document)";
/** Path used for header problems. */
export const HEADER_PATH = "(header)";

type Issues = ValidationIssue[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

function lastKey(path: string): string {
  const noIndex = path.replace(/\[\d+\]$/, "");
  return noIndex.slice(noIndex.lastIndexOf(".") + 1);
}

/** A value as shown in a message: short, and never a secret. */
export function describeValue(path: string, value: unknown): string {
  if (value === undefined) return "(missing)";
  if (SECRET_KEY_PATTERN.test(lastKey(path))) return SECRET;
  if (typeof value === "string") {
    if (SECRET_TEXT_PATTERN.test(value)) return SECRET;
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (isPlainObject(value)) return "a map";
  return String(value);
}

function add(issues: Issues, path: string, value: unknown, expected: string): void {
  issues.push({ path, value: describeValue(path, value), expected });
}

const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

function checkStringList(issues: Issues, path: string, value: unknown, what: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    add(issues, path, value, `a list of ${what}`);
    return;
  }
  value.forEach((item, i) => {
    if (typeof item !== "string") add(issues, join(path, i), item, `a string (${what})`);
  });
}

function checkStringMap(issues: Issues, path: string, value: unknown, what: string): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    add(issues, path, value, `a map of ${what}`);
    return;
  }
  for (const key of Object.keys(value)) {
    if (typeof value[key] !== "string") add(issues, join(path, key), value[key], `a string (${what})`);
  }
}

/** Checks shared by top-level users and stage users (yip `User`). */
function checkUserFields(issues: Issues, path: string, user: Record<string, unknown>): void {
  if ("lockPasswd" in user) {
    add(issues, join(path, "lockPasswd"), user.lockPasswd, "lock_passwd (yip reads lock_passwd; lockPasswd is ignored)");
  }
  if (user.passwd !== undefined && typeof user.passwd !== "string") {
    add(issues, join(path, "passwd"), user.passwd, "a string (a crypt hash starting with $, or plaintext)");
  }
  checkStringList(issues, join(path, "groups"), user.groups, "group names");
  if (user.primary_group !== undefined && typeof user.primary_group !== "string") {
    add(issues, join(path, "primary_group"), user.primary_group, "a group name string");
  }
}

function isAdmin(user: Record<string, unknown>): boolean {
  // kairos-agent pkg/config/config.go CheckConfigForUsers: groups contains admin, or primary_group admin.
  return (Array.isArray(user.groups) && user.groups.includes("admin")) || user.primary_group === "admin";
}

interface UserScan {
  names: string[];
  anyAdmin: boolean;
}

function checkUsers(issues: Issues, users: unknown, scan: UserScan): void {
  if (users === undefined) return;
  if (!Array.isArray(users)) {
    add(issues, "users", users, "a list of users, each a map with at least name");
    return;
  }
  users.forEach((user, i) => {
    const path = join("users", i);
    if (!isPlainObject(user)) {
      add(issues, path, user, "a map with at least name");
      return;
    }
    if (typeof user.name !== "string" || user.name === "") {
      add(issues, join(path, "name"), user.name, "a non-empty user name (yip creates users by name)");
    } else {
      scan.names.push(user.name);
    }
    checkUserFields(issues, path, user);
    checkStringList(issues, join(path, "ssh_authorized_keys"), user.ssh_authorized_keys, "SSH public keys or github:USER");
    if (isAdmin(user)) scan.anyAdmin = true;
  });
}

/** Stage files/directories: yip decodes `permissions`, `owner`, `group` into integers (§3.5). */
function checkStageFsEntries(issues: Issues, path: string, entries: unknown): void {
  if (entries === undefined) return;
  if (!Array.isArray(entries)) {
    add(issues, path, entries, "a list of maps with path");
    return;
  }
  entries.forEach((entry, i) => {
    const entryPath = join(path, i);
    if (!isPlainObject(entry)) {
      add(issues, entryPath, entry, "a map with path");
      return;
    }
    if (entry.permissions !== undefined && !isInteger(entry.permissions)) {
      add(
        issues,
        join(entryPath, "permissions"),
        entry.permissions,
        "an integer mode (yip reads a number: 420 = 0644; octal strings belong to top-level write_files)",
      );
    }
    for (const key of ["owner", "group"]) {
      if (entry[key] !== undefined && !isInteger(entry[key])) {
        add(issues, join(entryPath, key), entry[key], "an integer id (yip reads a numeric uid/gid)");
      }
    }
  });
}

function checkStages(issues: Issues, stages: unknown, scan: UserScan): void {
  if (stages === undefined) return;
  if (!isPlainObject(stages)) {
    add(issues, "stages", stages, "a map of stage name to a list of steps");
    return;
  }
  for (const stage of Object.keys(stages)) {
    const stagePath = join("stages", stage);
    const steps = stages[stage];
    if (!Array.isArray(steps)) {
      add(issues, stagePath, steps, "a list of steps");
      continue;
    }
    steps.forEach((step, i) => {
      const stepPath = join(stagePath, i);
      if (!isPlainObject(step)) {
        add(issues, stepPath, step, "a step map (name, commands, files, users, ...)");
        return;
      }
      checkStageFsEntries(issues, join(stepPath, "files"), step.files);
      checkStageFsEntries(issues, join(stepPath, "directories"), step.directories);
      checkStringList(issues, join(stepPath, "commands"), step.commands, "shell commands");
      if (step.users === undefined) return;
      if (!isPlainObject(step.users)) {
        add(issues, join(stepPath, "users"), step.users, "a map of user name to user fields");
        return;
      }
      for (const name of Object.keys(step.users)) {
        const user = step.users[name];
        const userPath = join(join(stepPath, "users"), name);
        if (!isPlainObject(user)) {
          add(issues, userPath, user, "a map of user fields");
          continue;
        }
        scan.names.push(name);
        checkUserFields(issues, userPath, user);
        if (isAdmin(user)) scan.anyAdmin = true;
      }
    });
  }
}

function checkWriteFiles(issues: Issues, files: unknown): void {
  if (files === undefined) return;
  if (!Array.isArray(files)) {
    add(issues, "write_files", files, "a list of maps with path and content");
    return;
  }
  files.forEach((file, i) => {
    const path = join("write_files", i);
    if (!isPlainObject(file)) {
      add(issues, path, file, "a map with path and content");
      return;
    }
    if (typeof file.path !== "string" || file.path === "") {
      add(issues, join(path, "path"), file.path, "a non-empty absolute file path");
    }
    if (file.permissions !== undefined && !(typeof file.permissions === "string" && OCTAL_MODE_PATTERN.test(file.permissions))) {
      add(
        issues,
        join(path, "permissions"),
        file.permissions,
        'an octal string such as "0644" (cloud-init write_files; integers belong to stage files)',
      );
    }
  });
}

function checkInstall(issues: Issues, install: unknown): void {
  if (install === undefined) return;
  if (!isPlainObject(install)) {
    add(issues, "install", install, "a map (auto, device, reboot, poweroff, ...)");
    return;
  }
  if (install.auto === true && install.reboot !== true && install.poweroff !== true) {
    add(
      issues,
      "install.auto",
      install.auto,
      "install.reboot: true or install.poweroff: true alongside (otherwise the installer waits for Enter on tty1)",
    );
  }
  if (install.reboot === true && install.poweroff === true) {
    add(issues, "install.poweroff", install.poweroff, "not together with install.reboot: true (choose one)");
  }
  if (install.device !== undefined && !(typeof install.device === "string" && INSTALL_DEVICE_PATTERN.test(install.device))) {
    add(issues, "install.device", install.device, '"auto", a device path "/dev/..." or "script://<path>"');
  }
  if ("no_format" in install) {
    add(issues, "install.no_format", install.no_format, "install.no-format (kairos-sdk reads no-format; no_format is ignored)");
  }
}

function checkNetworkToken(issues: Issues, token: unknown): void {
  if (token === undefined || token === "") return; // empty = no p2p auto mode (docs/kairos-notes.md §4.1)
  if (typeof token !== "string") {
    add(issues, "p2p.network_token", token, "a string holding an edgevpn network token");
    return;
  }
  try {
    decodeNetworkToken(token);
  } catch (err) {
    // NetworkTokenError names the field and never a secret value; anything else is not quoted.
    const reason = err instanceof Error && err.name === "NetworkTokenError" ? `; ${err.message}` : "";
    add(
      issues,
      "p2p.network_token",
      token,
      `a decodable edgevpn network token (standard padded base64 of a YAML map with otp.dht, otp.crypto, room, rendezvous, mdns)${reason}`,
    );
  }
}

function checkP2p(issues: Issues, p2p: unknown): void {
  if (p2p === undefined) return;
  if (!isPlainObject(p2p)) {
    add(issues, "p2p", p2p, "a map (network_token, network_id, role, auto, ...)");
    return;
  }
  checkNetworkToken(issues, p2p.network_token);
  if (p2p.role !== undefined && p2p.role !== "master" && p2p.role !== "worker") {
    add(issues, "p2p.role", p2p.role, '"master" or "worker" (leave unset to let the p2p leader assign roles)');
  }
  if ("ha" in p2p) {
    add(issues, "p2p.ha", p2p.ha, "p2p.auto.ha (provider-kairos reads ha only under p2p.auto)");
  }
  if (p2p.minimum_nodes !== undefined && !(isInteger(p2p.minimum_nodes) && p2p.minimum_nodes >= 1)) {
    add(issues, "p2p.minimum_nodes", p2p.minimum_nodes, "an integer >= 1");
  }
  if (p2p.auto !== undefined) {
    if (!isPlainObject(p2p.auto)) {
      add(issues, "p2p.auto", p2p.auto, "a map (enable, ha)");
    } else if (p2p.auto.ha !== undefined) {
      const ha = p2p.auto.ha;
      if (!isPlainObject(ha)) {
        add(issues, "p2p.auto.ha", ha, "a map (enable, master_nodes, external_db)");
      } else if (ha.master_nodes !== undefined && !(isInteger(ha.master_nodes) && ha.master_nodes >= 0)) {
        add(issues, "p2p.auto.ha.master_nodes", ha.master_nodes, "a non-negative integer (extra control planes beyond the first)");
      }
    }
  }
  if (p2p.vpn !== undefined) {
    if (!isPlainObject(p2p.vpn)) {
      add(issues, "p2p.vpn", p2p.vpn, "a map (create, use, env)");
    } else {
      checkStringMap(issues, "p2p.vpn.env", p2p.vpn.env, "edgevpn environment variables to string values");
    }
  }
}

function checkK3s(issues: Issues, key: "k3s" | "k3s-agent", block: unknown): void {
  if (block === undefined) return;
  if (!isPlainObject(block)) {
    add(issues, key, block, "a map (enabled, args, env, ...)");
    return;
  }
  checkStringList(issues, `${key}.args`, block.args, `${key} command-line arguments`);
  checkStringMap(issues, `${key}.env`, block.env, "environment variable names to string values");
}

function checkConfig(issues: Issues, config: Record<string, unknown>): void {
  const scan: UserScan = { names: [], anyAdmin: false };
  if (config.hostname !== undefined && typeof config.hostname !== "string") {
    add(issues, "hostname", config.hostname, "a string (Go templates such as {{ trunc 4 .MachineID }} allowed)");
  }
  checkUsers(issues, config.users, scan);
  checkStringList(issues, "ssh_authorized_keys", config.ssh_authorized_keys, "SSH public keys or github:USER");
  checkWriteFiles(issues, config.write_files);
  checkStringList(issues, "runcmd", config.runcmd, "shell commands");
  checkStages(issues, config.stages, scan);
  checkInstall(issues, config.install);
  checkK3s(issues, "k3s", config.k3s);
  checkK3s(issues, "k3s-agent", config["k3s-agent"]);
  const k3s = config.k3s;
  const agent = config["k3s-agent"];
  if (isPlainObject(k3s) && isPlainObject(agent) && k3s.enabled === true && agent.enabled === true) {
    add(issues, "k3s-agent.enabled", agent.enabled, "not together with k3s.enabled: true (a node runs the k3s server or the agent)");
  }
  checkP2p(issues, config.p2p);
  checkStringMap(issues, "options", config.options, "option names to string values");

  const noUsers = isPlainObject(config.install) && config.install.nousers === true;
  if (!scan.anyAdmin && !noUsers) {
    issues.push({
      path: "users",
      value: JSON.stringify(scan.names),
      expected:
        "at least one user with groups: [admin] or primary_group: admin (top-level users or a stage's users), " +
        "or install.nousers: true; Kairos install, reset and upgrade refuse otherwise",
    });
  }
}

/** Header, size and syntax checks of a document given as text; returns the parsed map if any. */
function checkText(issues: Issues, text: string): Record<string, unknown> | undefined {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CLOUD_CONFIG_BYTES) {
    issues.push({ path: DOCUMENT_PATH, value: `${bytes} bytes`, expected: `at most ${MAX_CLOUD_CONFIG_BYTES} bytes (1 MiB)` });
  }
  // Go's line scanner drops a trailing CR, so CRLF files pass upstream; accept them likewise.
  const lines = text.split("\n", 11).map((l) => l.replace(/\r$/, ""));
  if (lines[0] !== CLOUD_CONFIG_HEADER) {
    const at = lines.slice(0, 10).indexOf(CLOUD_CONFIG_HEADER);
    const expected = LEGACY_HEADERS.includes(lines[0])
      ? `"${CLOUD_CONFIG_HEADER}" exactly on line 1 (under a legacy ${lines[0]} header yip drops users, write_files, runcmd, hostname and ssh_authorized_keys)`
      : at > 0
        ? `"${CLOUD_CONFIG_HEADER}" exactly on line 1, not line ${at + 1} (yip's cloud-init keys need it before any other line)`
        : `"${CLOUD_CONFIG_HEADER}" exactly on line 1 (Kairos ignores config files without it)`;
    add(issues, HEADER_PATH, lines[0], expected);
  }
  let parsed: unknown;
  try {
    parsed = yaml.load(text);
  } catch (err) {
    // Only reason and position: js-yaml's full message quotes the document, which may hold secrets.
    const e = err as yaml.YAMLException;
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : "";
    issues.push({ path: DOCUMENT_PATH, value: `YAML syntax error${where} (${e.reason ?? "unparseable"})`, expected: "a YAML mapping" });
    return undefined;
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) {
    add(issues, DOCUMENT_PATH, parsed, "a YAML mapping of cloud-config keys");
    return undefined;
  }
  return parsed;
}

/**
 * Every problem in a cloud-config, given as rendered text (header, size and YAML are checked too)
 * or as a value. Returns `[]` when the config is good. Secret values appear as `<secret>`.
 */
export function validateCloudConfig(input: string | CloudConfig): ValidationIssue[] {
  const issues: Issues = [];
  let config: Record<string, unknown> | undefined;
  if (typeof input === "string") {
    config = checkText(issues, input);
  } else if (isPlainObject(input)) {
    config = input;
  } else {
    add(issues, DOCUMENT_PATH, input, "a map of cloud-config keys");
  }
  if (config) checkConfig(issues, config);
  return issues;
}

/** One issue as a message line: `<path>: <value> is not valid; expected <expected>`. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.path}: ${issue.value} is not valid; expected ${issue.expected}`;
}

/** A cloud-config failed validation; `issues` holds every problem, the message lists them. */
export class CloudConfigError extends Error {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[], context?: string) {
    const head = `${context ? `${context}: ` : ""}invalid cloud-config (${issues.length} problem${issues.length === 1 ? "" : "s"})`;
    super([head, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n"));
    this.name = "CloudConfigError";
    this.issues = issues;
  }
}

/**
 * Throws `CloudConfigError` listing every problem `validateCloudConfig` finds. `context` prefixes
 * the message (e.g. the node name) so a preview says which config failed.
 */
export function assertValidCloudConfig(input: string | CloudConfig, context?: string): void {
  const issues = validateCloudConfig(input);
  if (issues.length > 0) throw new CloudConfigError(issues, context);
}
