/**
 * Typed model of the Kairos cloud-config: what a Kairos node reads, not what the old published
 * schema says. Field names are the YAML keys, so the model renders without a mapping table.
 *
 * Upstream owners (docs/kairos-notes.md §3.2): kairos-sdk `types/config/config.go` (install, options, bundles),
 * kairos-agent `pkg/implementations/spec/spec.go` (reset, upgrade), provider-kairos
 * `internal/provider/config/config.go` (p2p, k3s, k3s-agent, kubevip), yip (users, write_files,
 * runcmd, hostname, stages). Unknown keys are tolerated by Kairos, so the model is open (`[key]`).
 */

/** A user as yip creates it. ⚠ yip reads `lock_passwd`; the schema's `lockPasswd` is ignored. */
export interface User {
  name: string;
  /** `$…` = crypt hash; anything else is plaintext that Kairos hashes to SHA-512. */
  passwd?: string;
  lock_passwd?: boolean;
  groups?: string[];
  primary_group?: string;
  ssh_authorized_keys?: string[];
  homedir?: string;
  shell?: string;
  uid?: string | number;
  system?: boolean;
  no_create_home?: boolean;
  [key: string]: unknown;
}

/** Top-level `write_files` entry (cloud-init compat): permissions are an octal *string* here. */
export interface WriteFile {
  path: string;
  content: string;
  encoding?: "b64" | "base64" | "gzip" | "gz" | "gz+base64" | "gzip+base64" | "gz+b64" | "gzip+b64";
  owner?: string;
  permissions?: string;
  [key: string]: unknown;
}

/** Stage `files[]` entry: ⚠ permissions, owner and group are *integers* (420 = 0644). */
export interface StageFile {
  path: string;
  content?: string;
  permissions?: number;
  owner?: number;
  group?: number;
  encoding?: string;
  [key: string]: unknown;
}

/** One yip step (`yip pkg/schema/schema.go`). */
export interface StageStep {
  name?: string;
  if?: string;
  commands?: string[];
  files?: StageFile[];
  directories?: Array<{ path: string; permissions?: number; owner?: number; group?: number }>;
  hostname?: string;
  sysctl?: Record<string, string>;
  users?: Record<string, Omit<User, "name">>;
  authorized_keys?: Record<string, string[]>;
  systemctl?: { enable?: string[]; disable?: string[]; start?: string[]; mask?: string[] };
  environment?: Record<string, string>;
  [key: string]: unknown;
}

/** A partition size and filesystem (`install.partitions.*`); size in MiB, 0 = rest of the disk. */
export interface PartitionSpec {
  size?: number;
  fs?: string;
  [key: string]: unknown;
}

/** `install:` (`kairos-sdk types/install/install.go`). */
export interface InstallConfig {
  auto?: boolean;
  /** `auto` | `/dev/…` | `script:///path`. */
  device?: string;
  /** Mutually exclusive with `poweroff`. With `auto` one of them is required. */
  reboot?: boolean;
  poweroff?: boolean;
  grub_options?: Record<string, string>;
  partitions?: { oem?: PartitionSpec; recovery?: PartitionSpec; state?: PartitionSpec; persistent?: PartitionSpec };
  "extra-partitions"?: Array<{ name: string; size?: number; fs?: string; label?: string }>;
  /** ⚠ the code reads `no-format`; the schema's `no_format` is ignored. */
  "no-format"?: boolean;
  force?: boolean;
  nousers?: boolean;
  bundles?: unknown[];
  env?: string[];
  [key: string]: unknown;
}

/** `k3s:` / `k3s-agent:` (provider-kairos). Args apply only on the first boot after install. */
export interface K3sConfig {
  enabled?: boolean;
  args?: string[];
  env?: Record<string, string>;
  replace_args?: boolean;
  replace_env?: boolean;
  embedded_registry?: boolean;
  [key: string]: unknown;
}

/** `p2p:` (provider-kairos `internal/provider/config/config.go`). */
export interface P2PConfig {
  network_token?: string;
  network_id?: string;
  role?: "master" | "worker";
  dns?: boolean;
  loglevel?: string;
  vpn?: { create?: boolean; use?: boolean; env?: Record<string, string> };
  minimum_nodes?: number;
  /** ⚠ code default false; the schema's default true is wrong. */
  disable_dht?: boolean;
  auto?: {
    enable?: boolean;
    /** ⚠ under `p2p.auto`, never directly under `p2p`. */
    ha?: { enable?: boolean; master_nodes?: number; external_db?: string };
  };
  dynamic_roles?: boolean;
  [key: string]: unknown;
}

/** `kubevip:` (deployed by provider-kairos on the p2p master path only). */
export interface KubeVipConfig {
  eip?: string;
  enable?: boolean;
  interface?: string;
  manifest_url?: string;
  static_pod?: boolean;
  version?: string;
  image?: string;
  [key: string]: unknown;
}

/** The whole document. Rendered with `#cloud-config` as line 1. */
export interface CloudConfig {
  hostname?: string;
  users?: User[];
  ssh_authorized_keys?: string[];
  write_files?: WriteFile[];
  runcmd?: string[];
  stages?: Record<string, StageStep[]>;
  install?: InstallConfig;
  k3s?: K3sConfig;
  "k3s-agent"?: K3sConfig;
  p2p?: P2PConfig;
  kubevip?: KubeVipConfig;
  bundles?: Array<{ targets?: string[]; [key: string]: unknown }>;
  options?: Record<string, string>;
  reset?: Record<string, unknown>;
  upgrade?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One problem found by validation: where, what was there, what would be accepted. */
export interface ValidationIssue {
  /** Dotted path with array indexes, e.g. `users[0].lock_passwd` or `install.device`. */
  path: string;
  /** The offending value, rendered for a message; secrets are replaced by `<secret>`. */
  value: string;
  expected: string;
}
