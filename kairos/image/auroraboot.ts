/**
 * AuroraBoot command lines (`quay.io/kairos/auroraboot`, v0.26.2; docs/kairos-notes.md §7.3, `AuroraBoot
 * internal/cmd/app.go`, `pkg/schema/config.go`, `deployer/steps.go`):
 * - ISO: the `build-iso` subcommand, `--output`, `--override-name`, optional `--cloud-config <file>`,
 *   source `docker:<ref>` (read from the engine's socket, mounted at /var/run/docker.sock).
 * - Raw: the deployer with `--set container_image=docker:<ref> --set disk.efi=true` (or `disk.bios`),
 *   `state_dir` the output mount, HTTP server and netboot disabled; it writes `kairos-<name>.raw`.
 *   AuroraBoot has no qcow2 output: qcow2 is `qemu-img convert` of the raw (see qemuImgConvertArgv).
 * The cloud-config is passed as a file mounted read-only, never as text on the command line.
 */
import type { ImageSpec } from "./spec";

/** Paths inside the AuroraBoot container. */
export const OUTPUT_MOUNT = "/output";
export const CLOUD_CONFIG_MOUNT = "/cloud-config.yaml";
export const ENGINE_SOCKET_MOUNT = "/var/run/docker.sock";
/** `--override-name` given to build-iso, so the ISO is `<name>.iso`. */
export const ISO_NAME = "kairos";

export interface AuroraBootRunOptions {
  /** The engine CLI (docker, podman, or an absolute path). */
  engineBinary: string;
  /** Local image to convert, e.g. `kairos-custom/ubuntu:24.04-core-...`. */
  imageRef: string;
  /** Host directory mounted as /output. */
  outputDir: string;
  /** Host path of the 0600 cloud-config file, when one is embedded. */
  cloudConfigFile?: string;
  /** Host path of the engine's API socket (docker: /var/run/docker.sock; podman: /run/podman/podman.sock). */
  engineSocket: string;
}

function runPrefix(spec: ImageSpec, o: AuroraBootRunOptions): string[] {
  const argv = [
    o.engineBinary, "run", "--rm", "--privileged",
    "-v", `${o.engineSocket}:${ENGINE_SOCKET_MOUNT}`,
    "-v", `${o.outputDir}:${OUTPUT_MOUNT}`,
  ];
  if (o.cloudConfigFile) argv.push("-v", `${o.cloudConfigFile}:${CLOUD_CONFIG_MOUNT}:ro`);
  argv.push(spec.auroraBootImage);
  return argv;
}

/** `<engine> run ... auroraboot build-iso --output /output --override-name kairos [--cloud-config ...] docker:<ref>`. */
export function buildIsoArgv(spec: ImageSpec, o: AuroraBootRunOptions): string[] {
  const argv = [...runPrefix(spec, o), "build-iso", "--output", OUTPUT_MOUNT, "--override-name", ISO_NAME, "--arch", spec.arch];
  if (o.cloudConfigFile) argv.push("--cloud-config", CLOUD_CONFIG_MOUNT);
  argv.push(`docker:${o.imageRef}`);
  return argv;
}

/** `<engine> run ... auroraboot --set container_image=docker:<ref> --set disk.<efi|bios>=true ...`. */
export function buildRawArgv(spec: ImageSpec, firmware: "efi" | "bios", o: AuroraBootRunOptions): string[] {
  const argv = [
    ...runPrefix(spec, o),
    "--set", `container_image=docker:${o.imageRef}`,
    "--set", "disable_http_server=true",
    "--set", "disable_netboot=true",
    "--set", `disk.${firmware}=true`,
    "--set", `state_dir=${OUTPUT_MOUNT}`,
  ];
  if (spec.diskSizeMiB !== undefined) argv.push("--set", `disk.size=${spec.diskSizeMiB}`);
  if (o.cloudConfigFile) argv.push("--cloud-config", CLOUD_CONFIG_MOUNT);
  // Without a cloud-config AuroraBoot adds a kairos/kairos admin to raw images (pkg/ops/rawDiskGeneration.go);
  // a known password is never what a user asked for, so the default is switched off.
  else argv.push("--set", "no_default_cloud_config=true");
  return argv;
}

/** `qemu-img convert -f raw -O qcow2 <raw> <qcow2>` (AuroraBoot has no qcow2 output, docs/kairos-notes.md §7.3). */
export function qemuImgConvertArgv(rawPath: string, qcow2Path: string, qemuImg = "qemu-img"): string[] {
  return [qemuImg, "convert", "-f", "raw", "-O", "qcow2", rawPath, qcow2Path];
}

/** The engine build: `<engine> build [--progress=plain] -t <ref> -f <Dockerfile> <context>`. */
export function engineBuildArgv(engine: "docker" | "podman", engineBinary: string, imageRef: string, dockerfile: string, context: string, arch: string): string[] {
  const argv = [engineBinary, "build", "--platform", `linux/${arch}`];
  if (engine === "docker") argv.push("--progress=plain");
  argv.push("-t", imageRef, "-f", dockerfile, context);
  return argv;
}

/**
 * `<engine> login --username <u> --password-stdin <registry>`: the password goes on stdin only. Run it
 * and the push with engineAuthEnv, so the login is not kept in the user's engine config.
 */
export function engineLoginArgv(engineBinary: string, registry: string, username: string): string[] {
  return [engineBinary, "login", "--username", username, "--password-stdin", registry];
}

/**
 * Environment that points the engine's registry credentials at `dir`, a private folder the caller
 * creates and removes, so `login` stores the password there (not in ~/.docker/config.json or
 * podman's auth.json, where it would stay) and `push` reads it from there. docker: `DOCKER_CONFIG`,
 * which also hides the user's credential helpers and contexts: fine for logging in and pushing our
 * own image. podman: `REGISTRY_AUTH_FILE`.
 */
export function engineAuthEnv(engine: "docker" | "podman", dir: string): Record<string, string> {
  return engine === "docker" ? { DOCKER_CONFIG: dir } : { REGISTRY_AUTH_FILE: `${dir}/auth.json` };
}

/** Registry host of a repository (`docker.io` when the first part is not a host). */
export function registryOf(repository: string): string {
  const first = repository.split("/")[0];
  return repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}
