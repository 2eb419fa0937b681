/**
 * Per-node cloud-config composition: the role plan (./roles) plus identity, the admin user and the
 * installer block, then the user's escape-hatch fragment merged over it, rendered and validated.
 * Pure. The rendered text holds tokens: callers keep it secret.
 */
import { createHash } from "crypto";
import { assertValidCloudConfig, mergeCloudConfig, renderCloudConfig } from "./cloudconfig";
import type { CloudConfig, User, ValidationIssue } from "./cloudconfig/model";
import { ClusterSpecError, type NodePlan, type NodeRole } from "./roles/plan";

/**
 * The admin user we create on every node. Not `kairos`: Kairos' own `10_accounting.yaml` creates
 * that one locked (docs/kairos-notes.md §3.4), and redefining it would fight the image.
 */
export const DEFAULT_ADMIN_USER = "kairos-admin";

/** How the node gets Kairos on its disk. */
export type BootMode = "disk" | "iso" | "baremetal";

/** What {@link buildNodeConfigs} renders from: the role plan plus access and the user's fragments. */
export interface BuildNodeConfigsInput {
  /** Output of planRoles (after fillEndpoint when the endpoint became known). */
  plan: readonly NodePlan[];
  /**
   * Name of the admin user (group `admin`, passwordless sudo, password locked, SSH keys only).
   * Kairos refuses to install without an admin user (docs/kairos-notes.md §3.4). @default "kairos-admin"
   */
  adminUser?: string;
  /** Public keys for the admin user (the cluster's key plus the users' keys); at least one. */
  sshAuthorizedKeys: readonly string[];
  /** More users, added after the admin user. */
  users?: readonly User[];
  /**
   * `disk`: a raw/qcow2 Kairos image boots directly (it resets itself on first boot, no installer,
   * docs/kairos-notes.md §8.4), so no `install` block. `iso` / `baremetal`: the live system installs to
   * `installDevice` unattended and reboots (`install: {auto, device, reboot}`, §3.3, §8.5).
   */
  bootMode: BootMode;
  /** Install target for iso/baremetal: `auto` (largest disk), `/dev/...` or `script://...`. @default "auto" */
  installDevice?: string;
  /**
   * Raw cloud-config merged over ours (the escape hatch). Lists of users, keys, files, commands and
   * stage steps are appended; other values replace ours. Changing it changes every node's config
   * digest, which replaces the nodes.
   */
  extraConfig?: CloudConfig;
  /** Owned paths (see NODE_OWNED_PATHS) that extraConfig may change anyway. @default [] */
  allowOverride?: readonly string[];
  /** Hostname per node name, overriding the default hostname = node name. */
  hostnames?: Readonly<Record<string, string>>;
}

/** One node's rendered cloud-config: its name, role, the config value and its text. */
export interface NodeConfig {
  name: string;
  role: NodeRole;
  /** The merged config value. */
  config: CloudConfig;
  /** The rendered text, `#cloud-config` on line 1: what the node reads. Secret. */
  text: string;
}

/**
 * Paths the cluster owns: extraConfig may not change them unless listed in allowOverride
 * (mergeCloudConfig throws ConfigConflictError naming the path).
 */
export const NODE_OWNED_PATHS: readonly string[] = [
  "hostname",
  "install.device",
  "k3s.args",
  "k3s.env.K3S_TOKEN",
  "k3s-agent.env.K3S_TOKEN",
  "k3s-agent.env.K3S_URL",
  "p2p.network_token",
  "p2p.network_id",
  "p2p.role",
];

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Forms yip takes in `ssh_authorized_keys` (docs/kairos-notes.md §3.4): an OpenSSH public key line or github:/gitlab: USER. */
const SSH_KEY = /^((ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?|(github|gitlab):[A-Za-z0-9_.-]+)$/;
const INSTALL_DEVICE = /^(auto|\/dev\/.+|script:\/\/.+)$/;
const HOSTNAME = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));

function checkInput(input: BuildNodeConfigsInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!Array.isArray(input.plan) || input.plan.length === 0) {
    issues.push({ path: "plan", value: Array.isArray(input.plan) ? "[]" : show(input.plan), expected: "a non-empty list from planRoles" });
  }
  const admin = input.adminUser ?? DEFAULT_ADMIN_USER;
  if (typeof admin !== "string" || !USER_NAME.test(admin) || admin === "kairos" || admin === "root") {
    issues.push({
      path: "adminUser", value: show(admin),
      expected: 'a Linux user name ([a-z_][a-z0-9_-]*, at most 32) other than "kairos" (built in, locked) and "root" (locked)',
    });
  }
  if (!Array.isArray(input.sshAuthorizedKeys) || input.sshAuthorizedKeys.length === 0) {
    issues.push({
      path: "sshAuthorizedKeys", value: show(input.sshAuthorizedKeys),
      expected: "at least one public key: the admin password is locked, SSH keys are the only way in",
    });
  } else {
    input.sshAuthorizedKeys.forEach((k, i) => {
      if (typeof k !== "string" || !SSH_KEY.test(k)) {
        const shown = typeof k === "string" ? show(k.length > 40 ? `${k.slice(0, 40)}...` : k) : show(k);
        issues.push({ path: `sshAuthorizedKeys[${i}]`, value: shown, expected: 'one OpenSSH public key line ("ssh-ed25519 AAAA... comment") or "github:USER"' });
      }
    });
  }
  if (input.bootMode !== "disk" && input.bootMode !== "iso" && input.bootMode !== "baremetal") {
    issues.push({ path: "bootMode", value: show(input.bootMode), expected: '"disk", "iso" or "baremetal"' });
  }
  if (input.installDevice !== undefined) {
    if (input.bootMode === "disk") {
      issues.push({ path: "installDevice", value: show(input.installDevice), expected: 'unset with bootMode "disk" (a disk image is not installed)' });
    } else if (typeof input.installDevice !== "string" || !INSTALL_DEVICE.test(input.installDevice)) {
      issues.push({ path: "installDevice", value: show(input.installDevice), expected: '"auto", a device path "/dev/..." or "script://<path>"' });
    }
  }
  const names = new Set((Array.isArray(input.plan) ? input.plan : []).map((p) => p.name));
  for (const [node, host] of Object.entries(input.hostnames ?? {})) {
    if (!names.has(node)) {
      issues.push({ path: `hostnames.${node}`, value: show(host), expected: `a node name from the plan (${[...names].slice(0, 3).join(", ")}${names.size > 3 ? ", ..." : ""})` });
    } else if (typeof host !== "string" || !HOSTNAME.test(host)) {
      issues.push({ path: `hostnames.${node}`, value: show(host), expected: "a host name: letters, digits and '-', 1-63 characters" });
    }
  }
  for (const [i, u] of (input.users ?? []).entries()) {
    if (typeof u?.name !== "string" || !USER_NAME.test(u.name)) {
      issues.push({ path: `users[${i}].name`, value: show(u?.name), expected: "a Linux user name ([a-z_][a-z0-9_-]*, at most 32)" });
    } else if (u.name === admin) {
      issues.push({ path: `users[${i}].name`, value: show(u.name), expected: `a name other than the admin user "${admin}" (set adminUser to rename it)` });
    }
  }
  return issues;
}

/**
 * One cloud-config per planned node, in plan order. Throws ClusterSpecError for bad input,
 * ConfigConflictError when extraConfig changes an owned path, CloudConfigError when a rendered
 * config fails validation (the message names the node).
 */
export function buildNodeConfigs(input: BuildNodeConfigsInput): NodeConfig[] {
  const issues = checkInput(input);
  if (issues.length > 0) throw new ClusterSpecError(issues, "node config input");
  const admin: User = {
    name: input.adminUser ?? DEFAULT_ADMIN_USER,
    groups: ["admin"], // Kairos' admin rule: some user in group admin (docs/kairos-notes.md §3.4)
    lock_passwd: true, // yip reads lock_passwd (the schema's lockPasswd is ignored)
    ssh_authorized_keys: [...input.sshAuthorizedKeys],
  };
  const install = input.bootMode === "disk" ? undefined : { auto: true, device: input.installDevice ?? "auto", reboot: true };
  const owned = { owned: NODE_OWNED_PATHS, allowOverride: input.allowOverride ?? [] };
  return input.plan.map((node) => {
    const ours: CloudConfig = {
      hostname: input.hostnames?.[node.name] ?? node.name,
      users: [admin, ...(input.users ?? [])],
    };
    if (node.stages) ours.stages = node.stages;
    if (install) ours.install = install;
    if (node.k3s) ours.k3s = node.k3s;
    if (node["k3s-agent"]) ours["k3s-agent"] = node["k3s-agent"];
    if (node.p2p) ours.p2p = node.p2p;
    if (node.kubevip) ours.kubevip = node.kubevip;
    const config = mergeCloudConfig(ours, input.extraConfig, owned);
    const text = renderCloudConfig(config);
    assertValidCloudConfig(text, `node ${node.name}`);
    return { name: node.name, role: node.role, config, text };
  });
}

/** SHA-256 hex of a rendered config: a change shows as a diff without showing the secrets. */
export function configDigest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
