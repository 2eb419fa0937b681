/**
 * Inputs of the node-media resource, validation and the diff rule. Pure: the dynamic provider's
 * `check`/`diff` call these, the driver consumes the result.
 */
import { createHash } from "crypto";
import * as path from "path";
import * as yaml from "js-yaml";
import type { ValidationIssue } from "../../kairos/cloudconfig/model";

/**
 * A zero-touch installer ISO for a role: the role's config embedded as `config.yaml` at the ISO
 * root, where AuroraBoot puts it (docs/kairos-notes.md §7.3). Made one of two ways (exactly one of `isoPath`,
 * `imageRef`): from an existing Kairos ISO, remastered with xorriso as AuroraBoot's own `InjectISO`
 * does (AuroraBoot `pkg/ops/iso.go`: `xorriso -indev <iso> -outdev <new> -map ... -boot_image any
 * replay`); or from a Kairos container image with AuroraBoot `build-iso --cloud-config`.
 */
export interface RoleIsoSpec {
  /** File name without `.iso`, e.g. `demo-agent`: the ISO is `<media folder>/<name>.iso` (see mediaDir). */
  name: string;
  /** Absolute path of a Kairos live ISO (e.g. a KairosImage `iso` artifact) to remaster. */
  isoPath?: string;
  /** Local container image of the Kairos OS (e.g. KairosImage's `imageRef`), read from the engine as `docker:<ref>`. */
  imageRef?: string;
  /** Container engine. @default "docker" */
  engine?: "docker" | "podman";
  /** Engine CLI path. @default - `engine` from PATH */
  engineBinary?: string;
  /** Host path of the engine's API socket. @default - /var/run/docker.sock (docker), /run/podman/podman.sock (podman) */
  engineSocket?: string;
  /** AuroraBoot image. @default DEFAULT_AURORABOOT_IMAGE (kairos/image/spec.ts) */
  auroraBootImage?: string;
  /** @default "amd64" */
  arch?: "amd64" | "arm64";
  /** Bound of the AuroraBoot run, in ms. @default 3600000 */
  timeoutMs?: number;
}

export interface NodeMediaInputs {
  /**
   * Absolute directory, the user's: created if missing, its permissions never changed (it may be
   * `/tmp` or a home folder). The files go into `folder` inside it.
   */
  outputDir: string;
  /**
   * Name of the folder inside `outputDir` that holds the files and is ours (the media target uses the
   * cluster name): created owner-only (0700), removed by delete once empty; one that already exists
   * keeps its mode. Without it the files go directly into `outputDir` (state of older versions).
   */
  folder?: string;
  /** Node name: the seed ISO is `<media folder>/<node>-cidata.iso` (see mediaDir). */
  node: string;
  /** The node's rendered cloud-config (secret), `#cloud-config` on line 1. */
  cloudConfig: string;
  /** Also write this role's zero-touch ISO (the config minus `hostname`, see roleCloudConfig). */
  roleIso?: RoleIsoSpec;
}

export interface MediaFile {
  /** Absolute path. */
  path: string;
  kind: "cidata" | "role-iso";
  /** sha256 hex of the file's bytes when written. */
  sha256: string;
  /** Size in bytes. */
  size: number;
}

export interface NodeMediaOutputs extends NodeMediaInputs {
  /** sha256 hex of `cloudConfig` (a change replaces without printing the config). */
  configDigest: string;
  files: MediaFile[];
  /** What `read` found changed or missing; non-empty makes the next `up` rewrite the files. */
  drift: string[];
}

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // @pulumi/pulumi runtime/rpc.js unknownValue
const unknown = (v: unknown) => v === UNKNOWN;
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;
const IMAGE_REF = /^[a-z0-9][a-z0-9._\/:@-]*$/i;

/** The folder the files go to: `<outputDir>/<folder>`, or `outputDir` itself without `folder`. */
export function mediaDir(i: Pick<NodeMediaInputs, "outputDir" | "folder">): string {
  return i.folder ? path.join(i.outputDir, i.folder) : i.outputDir;
}

export function cidataPath(i: Pick<NodeMediaInputs, "outputDir" | "folder" | "node">): string {
  return path.join(mediaDir(i), `${i.node}-cidata.iso`);
}

/** `dir` is the media folder (mediaDir). */
export function roleIsoPath(dir: string, r: RoleIsoSpec): string {
  return path.join(dir, `${r.name}.iso`);
}

export function configDigest(cloudConfig: string): string {
  return createHash("sha256").update(cloudConfig, "utf8").digest("hex");
}

/**
 * The config a role's ISO embeds: the node's config without `hostname`, so every machine of the role
 * can boot the same ISO (Kairos then picks a random `kairos-XXXX` hostname). Re-rendered with the
 * `#cloud-config` header Kairos requires (docs/kairos-notes.md §3.1).
 */
export function roleCloudConfig(nodeConfig: string): string {
  const doc = yaml.load(nodeConfig) as Record<string, unknown> | null;
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("cloudConfig: not a YAML map; expected a rendered cloud-config");
  delete doc.hostname;
  return "#cloud-config\n" + yaml.dump(doc, { lineWidth: -1, noRefs: true });
}

/** Every problem with the inputs; the config is shown as `<secret>`. Unknown (preview) values are skipped. */
export function checkInputs(i: Partial<NodeMediaInputs>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (p: string, value: unknown, expected: string) => issues.push({ path: p, value: show(value), expected });
  if (!unknown(i.outputDir) && (typeof i.outputDir !== "string" || !path.isAbsolute(i.outputDir))) add("outputDir", i.outputDir, "an absolute directory path (e.g. /srv/kairos-media)");
  if (i.folder !== undefined && !unknown(i.folder) && (typeof i.folder !== "string" || !FILE_NAME.test(i.folder))) add("folder", i.folder, "a folder name of [A-Za-z0-9._-], starting with a letter or digit (e.g. the cluster name)");
  if (!unknown(i.node) && (typeof i.node !== "string" || !FILE_NAME.test(i.node))) add("node", i.node, "a node name of [A-Za-z0-9._-], starting with a letter or digit");
  if (!unknown(i.cloudConfig) && (typeof i.cloudConfig !== "string" || !i.cloudConfig.startsWith("#cloud-config"))) {
    issues.push({ path: "cloudConfig", value: "<secret>", expected: 'text whose first line is "#cloud-config"' });
  }
  const r = i.roleIso as Partial<RoleIsoSpec> | undefined;
  if (r !== undefined && !unknown(r)) {
    if (typeof r !== "object" || r === null) add("roleIso", r, "an object with name and imageRef");
    else {
      if (!unknown(r.name) && (typeof r.name !== "string" || !FILE_NAME.test(r.name))) add("roleIso.name", r.name, "a file name of [A-Za-z0-9._-]");
      if ((r.isoPath === undefined) === (r.imageRef === undefined)) add("roleIso.isoPath", r.isoPath, "exactly one of roleIso.isoPath (a Kairos ISO file) and roleIso.imageRef (a Kairos container image)");
      if (r.isoPath !== undefined && !unknown(r.isoPath) && (typeof r.isoPath !== "string" || !path.isAbsolute(r.isoPath))) add("roleIso.isoPath", r.isoPath, "an absolute path of a Kairos ISO file");
      if (r.imageRef !== undefined && !unknown(r.imageRef) && (typeof r.imageRef !== "string" || !IMAGE_REF.test(r.imageRef))) add("roleIso.imageRef", r.imageRef, "a local container image reference (e.g. kairos-custom/ubuntu:24.04-core)");
      if (r.engine !== undefined && r.engine !== "docker" && r.engine !== "podman") add("roleIso.engine", r.engine, '"docker" or "podman"');
      if (r.arch !== undefined && r.arch !== "amd64" && r.arch !== "arm64") add("roleIso.arch", r.arch, '"amd64" or "arm64"');
      if (r.timeoutMs !== undefined && (!Number.isInteger(r.timeoutMs) || r.timeoutMs < 1000)) add("roleIso.timeoutMs", r.timeoutMs, "an integer number of milliseconds, at least 1000");
    }
  }
  return issues;
}

export function formatIssue(i: ValidationIssue): string {
  return `${i.path}: ${i.value} is not valid; expected ${i.expected}`;
}

/** JSON with sorted keys and no undefined members (state may come back in another key order). */
function canonical(v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (typeof v !== "object") return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return "{" + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",") + "}";
}

/**
 * Every change rewrites the files (replace); so does drift found by `read`. State of older versions
 * has no `folder`: their files stay where they are (a provider upgrade rebuilds no media) until
 * another change rewrites them, into the folder.
 */
export function diffInputs(olds: NodeMediaOutputs, news: NodeMediaInputs): string[] {
  const replaces: string[] = [];
  if (olds.configDigest !== configDigest(news.cloudConfig)) replaces.push("cloudConfig");
  if (olds.outputDir !== news.outputDir) replaces.push("outputDir");
  if (olds.folder !== undefined && olds.folder !== (news.folder ?? "")) replaces.push("folder");
  if (olds.node !== news.node) replaces.push("node");
  if (canonical(olds.roleIso) !== canonical(news.roleIso)) replaces.push("roleIso");
  if ((olds.drift ?? []).length > 0 && !replaces.includes("files")) replaces.push("files");
  return replaces;
}
