/**
 * Image build driver: a Kairos image built locally with docker or podman (kairos-init Dockerfile ->
 * OCI image -> AuroraBoot -> ISO / raw; qcow2 by qemu-img convert), content-addressed by a key over
 * every input. Knows nothing of Pulumi.
 *
 * Files: everything is built in a private work directory (0700) beside the outputs, then renamed
 * into place, so a final name never holds a half-written artifact. The cloud-config is a 0600 file
 * in that directory, mounted read-only into AuroraBoot; registry passwords go on stdin, and the login
 * they make lives in a private temporary folder removed after the push.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  artifactBaseName, buildIsoArgv, buildRawArgv, contentKey, engineAuthEnv, engineBuildArgv, engineLoginArgv, imageRef as localImageRef,
  imageTag, qemuImgConvertArgv, registryOf, renderDockerfile, sha256Hex,
  type ArtifactInfo, type ArtifactKind, type ImageSpec,
} from "../../kairos/image";
import { withPrivateTempDir } from "../cidata";
import { CommandError, run, type RunOptions } from "../exec";
import { PROGRESS_EVERY_MS } from "../progress";

export type { ArtifactInfo } from "../../kairos/image";

/** Registry credentials for a push; `password` is a secret. */
export interface PushRequest {
  /** Target repository, e.g. `registry.example.com/team/kairos`. */
  repository: string;
  /** Tag; default: the Kairos-format tag of the image. */
  tag?: string;
  username?: string;
  password?: string;
}

export interface BuildRequest {
  spec: ImageSpec;
  /** Directory receiving the artifacts (created 0700 if missing). */
  outputDir: string;
  /** Embedded cloud-config (secret); written only to a 0600 file. */
  cloudConfig?: string;
  push?: PushRequest;
  /** Engine CLI; default `spec.engine` from PATH. */
  engineBinary?: string;
  /** Host path of the engine API socket AuroraBoot reads the image from. */
  engineSocket?: string;
  qemuImg?: string;
  /** Per-step timeout in ms. Default 2 hours (a kairos-init build downloads and installs a whole OS). */
  stepTimeoutMs?: number;
  /** Progress messages (the provider writes them to stderr, providers/progress.ts). */
  log?: (message: string) => void;
  /** Interval of "still running" messages during a step, in ms. Default 15000. */
  heartbeatMs?: number;
}

export interface BuildResult {
  contentKey: string;
  /** Local image reference, or the pushed one. */
  imageRef: string;
  /** `sha256:...`: the pushed manifest digest, or the local image ID. */
  imageDigest: string;
  kairosVersion: string;
  dockerfile: string;
  artifacts: ArtifactInfo[];
  /** True when everything was already there and nothing ran. */
  cached: boolean;
}

export interface BuildPlan {
  dockerfile: string;
  contentKey: string;
  localRef: string;
  pushRef?: string;
  /** Final artifact paths, in spec order. */
  paths: Record<ArtifactKind, string | undefined>;
  /** Where the result record is kept beside the artifacts. */
  recordPath: string;
}

const EXT: Record<ArtifactKind, string> = { iso: ".iso", "raw-efi": ".efi.raw", "raw-bios": ".bios.raw", qcow2: ".qcow2" };
const DEFAULT_SOCKET = { docker: "/var/run/docker.sock", podman: "/run/podman/podman.sock" } as const;
const ENGINE_HINT = "install docker (apt-get install docker.io) or podman (apt-get install podman)";
const LOG_TAIL_LINES = 40;

/** What a build would produce, without doing anything. */
export function planBuild(req: Pick<BuildRequest, "spec" | "outputDir" | "cloudConfig" | "push">): BuildPlan {
  const dockerfile = renderDockerfile(req.spec);
  const pushRef = req.push ? `${req.push.repository}:${req.push.tag ?? imageTag(req.spec)}` : undefined;
  const key = contentKey({
    spec: req.spec,
    dockerfile,
    cloudConfigDigest: req.cloudConfig === undefined ? undefined : sha256Hex(req.cloudConfig),
    pushRef,
  });
  const base = path.join(path.resolve(req.outputDir), `${artifactBaseName(req.spec)}-${key.slice(0, 12)}`);
  const paths = {} as Record<ArtifactKind, string | undefined>;
  for (const kind of req.spec.artifacts) paths[kind] = base + EXT[kind];
  return { dockerfile, contentKey: key, localRef: localImageRef(req.spec), pushRef, paths, recordPath: `${base}.json` };
}

export async function fileSha256(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Problems with recorded artifacts (missing, size or digest changed); empty when all are intact. */
export async function checkArtifacts(artifacts: readonly ArtifactInfo[]): Promise<string[]> {
  const problems: string[] = [];
  for (const a of artifacts) {
    let st: fs.Stats;
    try {
      st = fs.statSync(a.path);
    } catch {
      problems.push(`${a.kind} artifact ${a.path} is missing`);
      continue;
    }
    if (st.size !== a.size) problems.push(`${a.kind} artifact ${a.path} changed size (${a.size} -> ${st.size} bytes)`);
    else if ((await fileSha256(a.path)) !== a.sha256) problems.push(`${a.kind} artifact ${a.path} changed content (sha256 differs)`);
  }
  return problems;
}

/** Removes recorded artifacts and the record; missing files are fine. */
export function removeArtifacts(artifacts: readonly ArtifactInfo[], recordPath?: string): void {
  for (const p of [...artifacts.map((a) => a.path), ...(recordPath ? [recordPath] : [])]) fs.rmSync(p, { force: true });
}

function tail(text: string, n = LOG_TAIL_LINES): string {
  const lines = text.replace(/\s+$/, "").split("\n");
  return lines.slice(-n).join("\n");
}

function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Builds (or finds in place) everything the plan names. */
export async function buildImage(req: BuildRequest): Promise<BuildResult> {
  const log = req.log ?? (() => undefined);
  const spec = req.spec;
  const plan = planBuild(req);
  const outputDir = path.resolve(req.outputDir);
  const secrets = [req.cloudConfig, req.push?.password].filter((s): s is string => !!s);

  const cached = await cachedResult(plan);
  if (cached) {
    log(`KairosImage ${plan.localRef}: artifacts for content key ${plan.contentKey.slice(0, 12)} already built; nothing to do`);
    return cached;
  }

  const engine = req.engineBinary ?? spec.engine;
  const timeoutMs = req.stepTimeoutMs ?? 2 * 60 * 60_000;
  const runStep = async (what: string, argv: string[], opts: RunOptions = {}) => {
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 1000);
    log(`KairosImage: ${what}...`);
    // A kairos-init build runs for many minutes without a word from run(); say it is still alive.
    const heartbeat = setInterval(() => log(`KairosImage: ${what}: still running after ${elapsed()} s`), req.heartbeatMs ?? PROGRESS_EVERY_MS);
    heartbeat.unref();
    try {
      const r = await run(argv, { timeoutMs, installHint: ENGINE_HINT, redact: secrets, ...opts });
      log(`KairosImage: ${what} done in ${elapsed()} s`);
      return r;
    } catch (e) {
      throw stepError(what, e, secrets, outputDir, plan.contentKey);
    } finally {
      clearInterval(heartbeat);
    }
  };

  ensurePrivateDir(outputDir);
  const work = path.join(outputDir, `.kairos-image-work-${plan.contentKey.slice(0, 12)}-${randomBytes(4).toString("hex")}`);
  ensurePrivateDir(work);
  try {
    await runStep(`checking the ${spec.engine} engine`, [engine, "version"]);
    if (spec.artifacts.includes("qcow2")) {
      await run([req.qemuImg ?? "qemu-img", "--version"], { installHint: "apt-get install qemu-utils", timeoutMs: 30_000 });
    }
    const context = path.join(work, "context");
    ensurePrivateDir(context);
    const dockerfilePath = path.join(context, "Dockerfile");
    fs.writeFileSync(dockerfilePath, plan.dockerfile, { mode: 0o600 });
    await runStep(`building image ${plan.localRef}`, engineBuildArgv(spec.engine, engine, plan.localRef, dockerfilePath, context, spec.arch));

    let imageDigest = (await runStep("reading the image ID", [engine, "image", "inspect", "--format", "{{.Id}}", plan.localRef])).stdout.trim();
    let ref = plan.localRef;
    if (req.push && plan.pushRef) {
      const pushRef = plan.pushRef;
      const { repository, username, password } = req.push;
      await runStep(`tagging ${pushRef}`, [engine, "tag", plan.localRef, pushRef]);
      if (username !== undefined && password !== undefined) {
        // Login and push share a private auth folder (0700), removed whatever happens: the password is
        // not left in the user's engine config.
        await withPrivateTempDir("kairos-registry-auth-", async (dir) => {
          const env = engineAuthEnv(spec.engine, dir);
          await runStep(`logging in to ${registryOf(repository)}`, engineLoginArgv(engine, registryOf(repository), username), { input: password, env });
          await runStep(`pushing ${pushRef}`, [engine, "push", pushRef], { env });
        });
      } else {
        await runStep(`pushing ${pushRef}`, [engine, "push", pushRef]); // no credentials given: the user's own login
      }
      const repoDigest = (await runStep("reading the pushed digest", [engine, "image", "inspect", "--format", "{{index .RepoDigests 0}}", plan.pushRef])).stdout.trim();
      imageDigest = repoDigest.includes("@") ? repoDigest.slice(repoDigest.indexOf("@") + 1) : imageDigest;
      ref = plan.pushRef;
    }

    let cloudConfigFile: string | undefined;
    if (req.cloudConfig !== undefined) {
      const secretDir = path.join(work, "secret");
      ensurePrivateDir(secretDir);
      cloudConfigFile = path.join(secretDir, "cloud-config.yaml");
      fs.writeFileSync(cloudConfigFile, req.cloudConfig, { mode: 0o600 });
    }
    const abOpts = (dir: string) => ({
      engineBinary: engine, imageRef: plan.localRef, outputDir: dir, cloudConfigFile,
      engineSocket: req.engineSocket ?? DEFAULT_SOCKET[spec.engine],
    });

    // Built files, by kind, still inside the work directory.
    const built: Partial<Record<ArtifactKind, string>> = {};
    if (spec.artifacts.includes("iso")) {
      const dir = path.join(work, "iso");
      ensurePrivateDir(dir);
      await runStep("AuroraBoot build-iso", buildIsoArgv(spec, abOpts(dir)));
      built.iso = findOne(dir, ".iso", "AuroraBoot build-iso");
    }
    const raws = new Set<"raw-efi" | "raw-bios">();
    for (const k of ["raw-efi", "raw-bios"] as const) if (spec.artifacts.includes(k)) raws.add(k);
    if (spec.artifacts.includes("qcow2")) raws.add(spec.qcow2Source);
    for (const k of raws) {
      const dir = path.join(work, k);
      ensurePrivateDir(dir);
      const firmware = k === "raw-efi" ? "efi" : "bios";
      await runStep(`AuroraBoot raw disk (disk.${firmware})`, buildRawArgv(spec, firmware, abOpts(dir)));
      built[k] = findOne(dir, ".raw", `AuroraBoot disk.${firmware}`);
    }
    if (spec.artifacts.includes("qcow2")) {
      const q = path.join(work, "image.qcow2");
      await runStep("converting raw to qcow2", qemuImgConvertArgv(built[spec.qcow2Source]!, q, req.qemuImg), { installHint: "apt-get install qemu-utils" });
      built.qcow2 = q;
    }

    const artifacts: ArtifactInfo[] = [];
    for (const kind of spec.artifacts) {
      const from = built[kind]!;
      artifacts.push({ kind, path: plan.paths[kind]!, size: fs.statSync(from).size, sha256: await fileSha256(from) });
    }
    // Every artifact exists in full: now, and only now, they take their final names.
    // An embedded cloud-config makes every artifact a secret-bearing file (ISO root, raw OEM partition).
    const mode = req.cloudConfig === undefined ? 0o644 : 0o600;
    for (const a of artifacts) {
      const from = ownedCopy(built[a.kind]!, mode);
      fs.renameSync(from, a.path);
    }
    const result: BuildResult = {
      contentKey: plan.contentKey, imageRef: ref, imageDigest, kairosVersion: spec.version,
      dockerfile: plan.dockerfile, artifacts, cached: false,
    };
    const tmpRecord = path.join(work, "record.json");
    fs.writeFileSync(tmpRecord, JSON.stringify({ ...result, cached: undefined }, null, 2), { mode: 0o600 });
    fs.renameSync(tmpRecord, plan.recordPath);
    log(`KairosImage ${ref}: built ${artifacts.map((a) => `${a.kind} (${a.size} bytes)`).join(", ")}`);
    return result;
  } finally {
    try {
      fs.rmSync(work, { recursive: true, force: true });
    } catch (e) {
      // AuroraBoot runs as root in its container; a non-root Pulumi cannot remove what it left.
      log(`KairosImage: could not remove the work directory ${work} (${(e as NodeJS.ErrnoException).code}); remove it as root`);
    }
  }
}

/**
 * Sets `mode` on a built file; when the file belongs to another user (root, from the AuroraBoot
 * container) and cannot be chmod-ed, copies it to a file this process owns instead.
 */
function ownedCopy(file: string, mode: number): string {
  try {
    fs.chmodSync(file, mode);
    return file;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    const copy = `${file}.owned`;
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, mode);
    return copy;
  }
}

async function cachedResult(plan: BuildPlan): Promise<BuildResult | undefined> {
  let record: BuildResult;
  try {
    record = JSON.parse(fs.readFileSync(plan.recordPath, "utf8")) as BuildResult;
  } catch {
    return undefined;
  }
  if (record.contentKey !== plan.contentKey) return undefined;
  if ((await checkArtifacts(record.artifacts)).length > 0) return undefined;
  return { ...record, cached: true };
}

function findOne(dir: string, ext: string, what: string): string {
  const found = fs.readdirSync(dir).filter((f) => f.endsWith(ext));
  if (found.length !== 1) {
    throw new Error(`${what} finished but left ${found.length} ${ext} files in ${dir} (expected exactly one): ${fs.readdirSync(dir).join(", ") || "(empty)"}`);
  }
  return path.join(dir, found[0]);
}

/** A failed step: cause first, then the build log tail; the full log goes to a 0600 file. */
function stepError(what: string, e: unknown, secrets: string[], outputDir: string, key: string): Error {
  if (!(e instanceof CommandError)) return e instanceof Error ? e : new Error(String(e));
  if (e.notFound) return e;
  let text = [e.stdout, e.stderr].filter(Boolean).join("\n");
  for (const s of secrets) text = text.split(s).join("<secret>");
  const logDir = path.join(outputDir, ".kairos-image-logs");
  ensurePrivateDir(logDir);
  const logFile = path.join(logDir, `${key.slice(0, 12)}.log`);
  fs.writeFileSync(logFile, text, { mode: 0o600 });
  const first = e.message.split("\n")[0];
  return new Error(`KairosImage: ${what} failed: ${first}\nlast ${LOG_TAIL_LINES} lines of the build log (full log: ${logFile}):\n${tail(text)}`);
}
