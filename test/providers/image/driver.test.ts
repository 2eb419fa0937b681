/**
 * L2: the image driver against a recording stand-in docker/podman CLI (no engine runs here) with
 * real xorriso and a real `qemu-img` for the qcow2 conversion; cache, drift and failure handling are
 * real. With KAIROS_E2E=1 the same builds run against the real engine (internet and a daemon needed).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { normalizeImageSpec } from "../../../kairos/image";
import { buildImage, checkArtifacts, planBuild, removeArtifacts, type BuildRequest } from "../../../providers/image/driver";
import { E2E, setUpEngine, type FakeEngineEnv } from "./fake-engine-env";

const CLOUD_CONFIG = "#cloud-config\nusers:\n- name: kairos\n  passwd: s3cret-Pa55word\n  groups: [admin]\n";
const PASSWORD = "registry-pa55word-xyz";

let env: FakeEngineEnv;
beforeAll(() => { env = setUpEngine(); });
afterAll(() => env?.restore());
afterEach(() => { delete process.env.FAKE_ENGINE_FAIL; });

const spec = (artifacts: string[], extra = {}) =>
  normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts, ...extra });

function req(name: string, artifacts: string[], extra: Partial<BuildRequest> = {}): BuildRequest {
  return { spec: spec(artifacts), outputDir: path.join(env.root, name), log: () => undefined, ...extra };
}

const sha = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex");
const allFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe("local image build through the engine CLI", () => {
  const r = () => req("main", ["iso", "raw-efi", "qcow2"], { cloudConfig: CLOUD_CONFIG });

  test("builds the image, an ISO with the embedded cloud-config, an EFI raw and a qcow2 converted from the BIOS raw", async () => {
    const messages: string[] = [];
    const res = await buildImage({ ...r(), log: (m) => messages.push(m) });
    expect(res.cached).toBe(false);
    expect(res.imageRef).toBe("kairos-custom/ubuntu:24.04-standard-amd64-generic-v1.0.0-k3s-v1.36.3-k3s1");
    expect(res.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.kairosVersion).toBe("v1.0.0");
    expect(res.artifacts.map((a) => a.kind)).toEqual(["iso", "raw-efi", "qcow2"]);
    for (const a of res.artifacts) {
      expect(fs.statSync(a.path).size).toBe(a.size);
      expect(sha(a.path)).toBe(a.sha256);
      expect(path.basename(a.path)).toContain(res.contentKey.slice(0, 12));
    }
    const qcow2 = res.artifacts.find((a) => a.kind === "qcow2")!;
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output", "json", qcow2.path], { encoding: "utf8" }));
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBeGreaterThan(0);
    expect(messages.some((m) => m.includes("building image"))).toBe(true);
    // Nothing left behind but artifacts and the record.
    expect(fs.readdirSync(path.join(env.root, "main")).filter((f) => f.startsWith(".kairos-image-work-"))).toEqual([]);
    if (!E2E) {
      const iso = res.artifacts.find((a) => a.kind === "iso")!;
      const out = path.join(env.root, "extracted-config.yaml");
      execFileSync("xorriso", ["-osirrox", "on", "-indev", iso.path, "-extract", "/config.yaml", out], { stdio: "ignore" });
      expect(fs.readFileSync(out, "utf8")).toBe(CLOUD_CONFIG);
      fs.rmSync(out);
      const calls = env.calls();
      expect(calls.map((c) => c.argv[0])).toEqual(["version", "build", "image", "run", "run", "run"]);
      const build = calls[1].argv;
      expect(build).toEqual(expect.arrayContaining(["--progress=plain", "-t", res.imageRef, "--platform", "linux/amd64"]));
      const runs = calls.filter((c) => c.argv[0] === "run").map((c) => c.argv);
      expect(runs[0]).toContain("build-iso");
      expect(runs[1]).toContain("disk.efi=true");
      expect(runs[2]).toContain("disk.bios=true"); // qcow2Source defaults to raw-bios
      for (const c of calls) expect(JSON.stringify(c.argv)).not.toContain("s3cret");
    }
  });

  test("the cloud-config never lands in a world-readable file: artifacts that embed it are 0600 in a 0700 dir", () => {
    const out = path.join(env.root, "main");
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    const holders = allFiles(out).filter((f) => fs.readFileSync(f).includes("s3cret-Pa55word"));
    if (!E2E) expect(holders.length).toBeGreaterThan(0); // the ISO embeds it, by request
    for (const f of holders) expect([f, fs.statSync(f).mode & 0o077]).toEqual([f, 0]);
    for (const f of allFiles(out).filter((x) => !x.endsWith(".json"))) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });

  test("a second build with the same inputs is a cache hit: no engine call", async () => {
    const before = env.calls().length;
    const res = await buildImage(r());
    expect(res.cached).toBe(true);
    expect(env.calls().length).toBe(before);
    expect(await checkArtifacts(res.artifacts)).toEqual([]);
  });

  test("drift: a modified or deleted artifact is reported, and the next build rebuilds it", async () => {
    const res = await buildImage(r());
    const qcow2 = res.artifacts.find((a) => a.kind === "qcow2")!;
    fs.appendFileSync(qcow2.path, "tampered");
    expect(await checkArtifacts(res.artifacts)).toEqual([expect.stringMatching(/^qcow2 artifact .* changed size/)]);
    const iso = res.artifacts.find((a) => a.kind === "iso")!;
    fs.rmSync(iso.path);
    expect(await checkArtifacts(res.artifacts)).toEqual([
      `iso artifact ${iso.path} is missing`,
      expect.stringMatching(/^qcow2 artifact .* changed size/),
    ]);
    const before = env.calls().length;
    const again = await buildImage(r());
    expect(again.cached).toBe(false);
    expect(env.calls().length).toBeGreaterThan(before);
    expect(await checkArtifacts(again.artifacts)).toEqual([]);
  });

  test("removeArtifacts deletes the files and the record", async () => {
    const rr = req("remove", ["raw-bios"]);
    const res = await buildImage(rr);
    removeArtifacts(res.artifacts, planBuild(rr).recordPath);
    expect(fs.readdirSync(path.join(env.root, "remove")).filter((f) => !f.startsWith("."))).toEqual([]);
  });
});

// Failure injection and registry pushes need the stand-in engine; with KAIROS_E2E=1 they are not registered.
if (!E2E) describe("failures", () => {
  test("a failed image build shows the tail of the build log and leaves no artifact", async () => {
    process.env.FAKE_ENGINE_FAIL = "build";
    const rr = req("fail-build", ["iso", "qcow2"], { cloudConfig: CLOUD_CONFIG });
    const err = await buildImage(rr).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = err!.message;
    expect(msg.split("\n")[0]).toMatch(/^KairosImage: building image kairos-custom\/ubuntu:\S+ failed: failed with exit code 1: docker build /);
    expect(msg).toContain("last 40 lines of the build log");
    expect(msg).toContain("ERROR: kairos-init -s install: failed to install packages: fake failure");
    expect(msg).toContain("step 80 of 80");
    expect(msg).not.toContain("step 1 of 80\n"); // only the tail
    expect(msg).not.toContain("s3cret");
    const out = path.join(env.root, "fail-build");
    expect(fs.readdirSync(out).filter((f) => !f.startsWith("."))).toEqual([]);
    expect(fs.readdirSync(out).filter((f) => f.startsWith(".kairos-image-work-"))).toEqual([]);
    const logFile = /full log: (\S+)\)/.exec(msg)![1];
    expect(fs.statSync(logFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(logFile)).mode & 0o777).toBe(0o700);
  });

  test("a failure after the ISO was made publishes nothing (no half set, no half-written file)", async () => {
    process.env.FAKE_ENGINE_FAIL = "raw";
    const rr = req("fail-raw", ["iso", "raw-efi"]);
    await expect(buildImage(rr)).rejects.toThrow(/AuroraBoot raw disk \(disk\.efi\) failed: failed with exit code 1[\s\S]*raw disk generation failed: fake failure/);
    const plan = planBuild(rr);
    expect(fs.existsSync(plan.paths.iso!)).toBe(false);
    expect(fs.existsSync(plan.paths["raw-efi"]!)).toBe(false);
    expect(fs.existsSync(plan.recordPath)).toBe(false);
  });

  test("a long step reports that it is still running", async () => {
    process.env.FAKE_ENGINE_SLEEP_MS = "1200";
    const messages: string[] = [];
    try {
      await buildImage({ ...req("slow", ["iso"]), heartbeatMs: 300, log: (m) => messages.push(m) });
    } finally {
      delete process.env.FAKE_ENGINE_SLEEP_MS;
    }
    expect(messages.filter((m) => /^KairosImage: building image \S+: still running after \d+ s$/.test(m)).length).toBeGreaterThanOrEqual(2);
  });

  test("a missing engine says what to install", async () => {
    await expect(buildImage(req("missing", ["iso"], { engineBinary: "/nonexistent/docker" }))).rejects.toThrow(
      "/nonexistent/docker not found on PATH; install docker (apt-get install docker.io) or podman (apt-get install podman): /nonexistent/docker version",
    );
  });
});

if (!E2E) describe("push and podman", () => {
  test("push logs in with --password-stdin; the password is never in argv", async () => {
    const before = env.calls().length;
    const res = await buildImage(req("push", ["iso"], { push: { repository: "registry.example.test/team/kairos", username: "bot", password: PASSWORD } }));
    expect(res.imageRef).toBe("registry.example.test/team/kairos:24.04-standard-amd64-generic-v1.0.0-k3s-v1.36.3-k3s1");
    expect(res.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const calls = env.calls().slice(before);
    const login = calls.find((c) => c.argv[0] === "login")!;
    expect(login.argv).toEqual(["login", "--username", "bot", "--password-stdin", "registry.example.test"]);
    expect(login.stdin).toEqual({ sha256: createHash("sha256").update(PASSWORD).digest("hex"), length: PASSWORD.length });
    expect(calls.map((c) => c.argv[0])).toEqual(["version", "build", "image", "tag", "login", "push", "image", "run"]);
    for (const c of calls) expect(JSON.stringify(c.argv)).not.toContain(PASSWORD);
  });

  test("a refused login names the step and does not echo the password", async () => {
    process.env.FAKE_ENGINE_FAIL = "login";
    const err = await buildImage(req("push-fail", ["iso"], { push: { repository: "registry.example.test/x", username: "bot", password: PASSWORD } })).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^KairosImage: logging in to registry.example.test failed: failed with exit code 1/);
    expect((err as Error).message).toContain("unauthorized");
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  test("podman: its own binary, no --progress, its socket mounted for AuroraBoot", async () => {
    const before = env.calls().length;
    await buildImage({ ...req("podman", ["iso"]), spec: spec(["iso"], { engine: "podman" }) });
    const calls = env.calls().slice(before);
    expect(new Set(calls.map((c) => c.engine))).toEqual(new Set(["podman"]));
    expect(calls.find((c) => c.argv[0] === "build")!.argv).not.toContain("--progress=plain");
    expect(calls.find((c) => c.argv[0] === "run")!.argv).toContain("/run/podman/podman.sock:/var/run/docker.sock");
  });
});

if (!E2E) describe("registry login in a private folder", () => {
  /**
   * docker/podman wrappers around the stand-in that keep a login where the real engines do
   * (DOCKER_CONFIG, else ~/.docker/config.json; REGISTRY_AUTH_FILE, else a file under the home) and
   * let push succeed only with it, recording the auth file each saw and its folder's mode.
   */
  const WRAPPER = `#!/bin/sh
name=$(basename "$0")
if [ "$name" = docker ]; then auth="\${DOCKER_CONFIG:-$HOME/.docker}/config.json"; else auth="\${REGISTRY_AUTH_FILE:-$HOME/.config/containers/auth.json}"; fi
case "$1" in
  login) mkdir -p "$(dirname "$auth")"; printf '{"auths":{"%s":{}}}' "$5" > "$auth"
         echo "login $auth $(stat -c %a "$(dirname "$auth")")" >> "$FAKE_ENGINE_DIR/auth.log" ;;
  push)  [ -f "$auth" ] || { echo "push: no credentials in $auth" >&2; exit 1; }
         echo "push $auth" >> "$FAKE_ENGINE_DIR/auth.log" ;;
esac
exec "$REAL_ENGINE_DIR/$name" "$@"
`;
  let wrappers: string;
  let home: string;
  const oldHome = process.env.HOME;
  beforeAll(() => {
    wrappers = path.join(env.root, "wrappers");
    fs.mkdirSync(wrappers);
    for (const name of ["docker", "podman"]) fs.writeFileSync(path.join(wrappers, name), WRAPPER, { mode: 0o755 });
    process.env.REAL_ENGINE_DIR = path.join(env.root, "bin");
  });
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(env.root, "home-"));
    process.env.HOME = home; // the user's home, as the engines would see it
    fs.rmSync(path.join(env.stateDir, "auth.log"), { force: true });
  });
  afterEach(() => { process.env.HOME = oldHome; });
  afterAll(() => { delete process.env.REAL_ENGINE_DIR; });

  /** [step, auth file, mode of its folder] per login and push, in order. */
  const seen = () => fs.readFileSync(path.join(env.stateDir, "auth.log"), "utf8").trim().split("\n").map((l) => l.split(" "));
  const push = (name: string, engine: "docker" | "podman") => ({
    ...req(name, ["iso"]), spec: spec(["iso"], { engine }), engineBinary: path.join(wrappers, engine),
    push: { repository: "registry.example.test/team/kairos", username: "bot", password: PASSWORD },
  });

  test.each<["docker" | "podman", string]>([["docker", "config.json"], ["podman", "auth.json"]])(
    "%s: login and push see one private folder (0700) outside the home, gone after the push", async (engine, file) => {
      await buildImage(push(`auth-${engine}`, engine));
      const [login, pushed] = seen();
      const dir = path.dirname(login[1]);
      expect(login).toEqual(["login", path.join(dir, file), "700"]);
      expect(pushed).toEqual(["push", path.join(dir, file)]);
      expect(path.dirname(dir)).toBe(os.tmpdir());
      expect(path.basename(dir)).toMatch(/^kairos-registry-auth-/);
      expect(fs.existsSync(dir)).toBe(false);
      expect(allFiles(home)).toEqual([]); // nothing written to the user's engine config
    });

  test("a refused login removes the folder too", async () => {
    process.env.FAKE_ENGINE_FAIL = "login";
    await expect(buildImage(push("auth-fail", "docker"))).rejects.toThrow(/logging in to registry\.example\.test failed/);
    const [login] = seen();
    expect(fs.existsSync(path.dirname(login[1]))).toBe(false);
    expect(allFiles(home)).toEqual([]);
  });

  test("without credentials, push uses the user's own login", async () => {
    const own = path.join(home, ".docker", "config.json");
    fs.mkdirSync(path.dirname(own), { recursive: true });
    fs.writeFileSync(own, '{"auths":{}}');
    await buildImage({ ...push("auth-own", "docker"), push: { repository: "registry.example.test/team/kairos" } });
    expect(seen()).toEqual([["push", own]]);
  });
});
