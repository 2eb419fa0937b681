/**
 * L2: the node-media driver writing real ISOs with real xorriso, read back with xorriso; the role
 * ISO through AuroraBoot's argv run by the recording stand-in engine (test/fixtures/fake-engine),
 * which itself builds its ISO with real xorriso. L0: input checks and the role config.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { checkNodeMedia, remasterArgv, removeNodeMedia, roleIsoArgv, writeNodeMedia } from "../../../providers/media/driver";
import { checkInputs, configDigest, diffInputs, formatIssue, mediaDir, roleCloudConfig, type NodeMediaInputs, type NodeMediaOutputs } from "../../../providers/media/spec";
import { readIso, requireXorriso } from "./iso-read";

const FAKE_ENGINE = path.resolve(__dirname, "../../fixtures/fake-engine/fake-engine.js");
const TOKEN = "K10-super-secret-join-token";
const CONFIG = `#cloud-config\nhostname: demo-agent-0\nk3s-agent:\n  enabled: true\n  env:\n    K3S_TOKEN: ${TOKEN}\n    K3S_URL: https://10.0.0.10:6443\nusers:\n- name: kairos-admin\n  groups: [admin]\n`;
const IMAGE_REF = "kairos-custom/ubuntu:24.04-core-test";

let root: string;
let engineDir: string;
const oldEngineDir = process.env.FAKE_ENGINE_DIR;

beforeAll(() => {
  requireXorriso();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-media-test-"));
  engineDir = path.join(root, "engine-state");
  fs.mkdirSync(engineDir, { mode: 0o700 });
  // The stand-in's build-iso needs a source image it "built"; record one as its build step would.
  fs.writeFileSync(path.join(engineDir, "images.json"), JSON.stringify({ [IMAGE_REF]: "sha256:" + "a".repeat(64) }));
  process.env.FAKE_ENGINE_DIR = engineDir;
});
afterAll(() => {
  if (oldEngineDir === undefined) delete process.env.FAKE_ENGINE_DIR;
  else process.env.FAKE_ENGINE_DIR = oldEngineDir;
  delete process.env.FAKE_ENGINE_FAIL;
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const calls = (): { argv: string[] }[] => {
  const f = path.join(engineDir, "calls.jsonl");
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
};
const mode = (p: string) => fs.statSync(p).mode & 0o777;
const inputs = (dir: string, extra: Partial<NodeMediaInputs> = {}): NodeMediaInputs => ({ outputDir: path.join(root, dir), node: "demo-agent-0", cloudConfig: CONFIG, ...extra });
const roleIso = { name: "demo-agent", imageRef: IMAGE_REF, engineBinary: FAKE_ENGINE, engineSocket: "/var/run/docker.sock" };

describe("node media on disk", () => {
  test("the seed ISO is labelled cidata, holds user-data (the config) and meta-data, 0600 in a 0700 folder", async () => {
    const files = await writeNodeMedia(inputs("seed"));
    const iso = path.join(root, "seed", "demo-agent-0-cidata.iso");
    expect(files).toEqual([{ path: iso, kind: "cidata", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: fs.statSync(iso).size }]);
    expect(mode(iso)).toBe(0o600);
    expect(mode(path.join(root, "seed"))).toBe(0o700);
    const back = readIso(iso);
    expect(back.volumeId).toBe("cidata");
    expect(Object.keys(back.files).sort()).toEqual(["meta-data", "user-data"]);
    expect(back.files["user-data"]).toBe(CONFIG);
    expect(back.files["meta-data"]).toMatch(/^instance-id: [0-9a-f]{16}\nlocal-hostname: demo-agent-0\n$/);
    expect(back.modes).toEqual({ "meta-data": "-rw-------", "user-data": "-rw-------" });
    expect(await checkNodeMedia(files)).toEqual([]);
  });

  test("an existing output folder keeps its permissions, even without a folder of our own", async () => {
    const dir = path.join(root, "open");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const files = await writeNodeMedia(inputs("open"));
    expect(mode(dir)).toBe(0o755);
    expect(mode(files[0].path)).toBe(0o600);
  });

  test("read finds a changed, a missing and an opened-up file; delete removes the files and tolerates gone ones", async () => {
    const files = await writeNodeMedia(inputs("drift", { node: "n1" }));
    const iso = files[0].path;
    fs.appendFileSync(iso, "tampered");
    expect(await checkNodeMedia(files)).toEqual([`${iso} changed (sha256 differs)`]);
    fs.rmSync(iso);
    expect(await checkNodeMedia(files)).toEqual([`${iso} is missing`]);
    const again = await writeNodeMedia(inputs("drift", { node: "n1" }));
    fs.chmodSync(iso, 0o644);
    expect(await checkNodeMedia(again)).toEqual([`${iso} is readable by others (mode 644)`]);
    removeNodeMedia(again);
    expect(fs.existsSync(iso)).toBe(false);
    expect(() => removeNodeMedia(again)).not.toThrow();
  });
});

describe("our own folder inside the user's outputDir", () => {
  /** The user's folder, as it would be: existing, 0755, with a file of theirs. */
  function userDir(name: string): string {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "notes.txt"), "the user's own file\n");
    return dir;
  }

  test("the files land in <outputDir>/<folder>, made 0700; the existing outputDir keeps 0755", async () => {
    const dir = userDir("user-755");
    const files = await writeNodeMedia(inputs("user-755", { folder: "demo", roleIso }));
    const ours = path.join(dir, "demo");
    expect(mediaDir(inputs("user-755", { folder: "demo" }))).toBe(ours);
    expect(files.map((f) => f.path)).toEqual([path.join(ours, "demo-agent-0-cidata.iso"), path.join(ours, "demo-agent.iso")]);
    expect(mode(dir)).toBe(0o755);
    expect(mode(ours)).toBe(0o700);
    for (const f of files) expect(mode(f.path)).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(["demo", "notes.txt"]);
    expect(fs.readdirSync(ours).sort()).toEqual(["demo-agent-0-cidata.iso", "demo-agent.iso"]); // no work directory left
    expect(await checkNodeMedia(files)).toEqual([]);
  });

  test("a missing outputDir is created, 0700, with our folder in it", async () => {
    const dir = path.join(root, "missing", "deeper");
    await writeNodeMedia(inputs(path.join("missing", "deeper"), { folder: "demo" }));
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, "demo"))).toBe(0o700);
  });

  test("delete removes our files, then our folder once empty, and never outputDir", async () => {
    const dir = userDir("user-delete");
    const ours = path.join(dir, "demo");
    const a = await writeNodeMedia(inputs("user-delete", { folder: "demo", node: "demo-agent-0" }));
    const b = await writeNodeMedia(inputs("user-delete", { folder: "demo", node: "demo-agent-1" }));
    removeNodeMedia(a, ours);
    expect(fs.readdirSync(ours)).toEqual(["demo-agent-1-cidata.iso"]); // a sibling's file keeps the folder
    removeNodeMedia(b, ours);
    expect(fs.existsSync(ours)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
    expect(mode(dir)).toBe(0o755);
    expect(() => removeNodeMedia(b, ours)).not.toThrow(); // already gone is fine
  });

  test("our folder is kept when something else was put in it", async () => {
    const dir = userDir("user-extra");
    const ours = path.join(dir, "demo");
    const files = await writeNodeMedia(inputs("user-extra", { folder: "demo" }));
    fs.writeFileSync(path.join(ours, "copied-by-hand.txt"), "x");
    removeNodeMedia(files, ours);
    expect(fs.readdirSync(ours)).toEqual(["copied-by-hand.txt"]);
  });

  test("state of an older version (files directly in outputDir, no folder): delete removes the recorded files only", async () => {
    const dir = userDir("user-legacy");
    const files = await writeNodeMedia(inputs("user-legacy")); // how older versions laid the files out
    expect(files[0].path).toBe(path.join(dir, "demo-agent-0-cidata.iso"));
    removeNodeMedia(files); // the provider passes no folder for such state
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
    expect(mode(dir)).toBe(0o755);
  });

  test("a file where our folder should be is named", async () => {
    userDir("user-file");
    fs.writeFileSync(path.join(root, "user-file", "demo"), "not a folder");
    await expect(writeNodeMedia(inputs("user-file", { folder: "demo" }))).rejects.toThrow(
      `media: ${path.join(root, "user-file", "demo")} exists and is not a folder; expected outputDir/demo to be a folder for the media files (or absent)`);
  });

  test("a failed build leaves neither files nor a work directory in our folder", async () => {
    const dir = userDir("user-fail");
    await expect(writeNodeMedia(inputs("user-fail", { folder: "demo", roleIso: { name: "r", isoPath: "/nonexistent/kairos.iso" } }))).rejects.toThrow(/roleIso\.isoPath/);
    expect(fs.readdirSync(path.join(dir, "demo"))).toEqual([]);
    expect(mode(dir)).toBe(0o755);
  });
});

describe("role ISO through AuroraBoot (recording stand-in engine)", () => {
  test("build-iso gets the role config as a mounted 0600 file, never as text; the ISO embeds it as config.yaml", async () => {
    const before = calls().length;
    const files = await writeNodeMedia(inputs("role", { roleIso }));
    const out = path.join(root, "role");
    expect(files.map((f) => [path.basename(f.path), f.kind])).toEqual([["demo-agent-0-cidata.iso", "cidata"], ["demo-agent.iso", "role-iso"]]);
    const run = calls().slice(before);
    expect(run).toHaveLength(1);
    const argv = run[0].argv;
    expect(argv.slice(0, 3)).toEqual(["run", "--rm", "--privileged"]);
    const image = argv.findIndex((a) => a.startsWith("quay.io/kairos/auroraboot:"));
    expect(argv.slice(image + 1)).toEqual(["build-iso", "--output", "/output", "--override-name", "kairos", "--arch", "amd64", "--cloud-config", "/cloud-config.yaml", `docker:${IMAGE_REF}`]);
    const ccMount = argv.find((a) => a.endsWith(":/cloud-config.yaml:ro"))!;
    expect(ccMount).toMatch(new RegExp(`^${out}/\\.kairos-media-work-[0-9a-f]+/secret/cloud-config\\.yaml:/cloud-config\\.yaml:ro$`));
    expect(JSON.stringify(argv)).not.toContain(TOKEN);
    const iso = path.join(out, "demo-agent.iso");
    expect(mode(iso)).toBe(0o600);
    const back = readIso(iso);
    expect(back.files["config.yaml"]).toBe(roleCloudConfig(CONFIG));
    expect(back.files["config.yaml"]).toContain(TOKEN);
    expect(back.files["config.yaml"]).not.toContain("hostname:");
    // The private work folder (and the config file in it) is gone.
    expect(fs.readdirSync(out).sort()).toEqual(["demo-agent-0-cidata.iso", "demo-agent.iso"]);
    expect(await checkNodeMedia(files)).toEqual([]);
  });

  test("a failed AuroraBoot run surfaces its error without the config and leaves no file behind", async () => {
    process.env.FAKE_ENGINE_FAIL = "iso";
    try {
      const err = await writeNodeMedia(inputs("role-fail", { roleIso })).then(() => undefined, (e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message.split("\n")[0]).toMatch(/failed with exit code 1: .*fake-engine\.js run --rm --privileged/);
      expect(err!.message).toContain("ERROR: build-iso: xorriso failed: fake failure");
      expect(err!.message).not.toContain(TOKEN);
      expect(fs.readdirSync(path.join(root, "role-fail"))).toEqual([]);
    } finally {
      delete process.env.FAKE_ENGINE_FAIL;
    }
  });

  test("a missing engine says what to install", async () => {
    await expect(writeNodeMedia(inputs("no-engine", { roleIso: { ...roleIso, engineBinary: "/nonexistent/docker" } }))).rejects.toThrow(/apt-get install docker\.io\) or podman/);
    expect(fs.readdirSync(path.join(root, "no-engine"))).toEqual([]);
  });

  test("podman's default socket is mounted when the engine is podman", () => {
    const argv = roleIsoArgv({ name: "x", imageRef: IMAGE_REF, engine: "podman" }, "/out", "/cc.yaml");
    expect(argv[0]).toBe("podman");
    expect(argv).toEqual(expect.arrayContaining(["-v", "/run/podman/podman.sock:/var/run/docker.sock", "-v", "/cc.yaml:/cloud-config.yaml:ro"]));
  });
});

describe("role ISO remastered from a Kairos ISO (real xorriso)", () => {
  /** A small bootable stand-in for a Kairos live ISO: El Torito no-emulation boot image, label KAIROS. */
  function baseIso(): string {
    const dir = path.join(root, "base-tree");
    fs.mkdirSync(path.join(dir, "boot"), { recursive: true });
    fs.writeFileSync(path.join(dir, "boot", "boot.img"), Buffer.alloc(4096));
    fs.writeFileSync(path.join(dir, "README.txt"), "stand-in for a Kairos live ISO\n");
    const iso = path.join(root, "base.iso");
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "KAIROS", "-b", "boot/boot.img", "-no-emul-boot", "-boot-load-size", "4", "-o", iso, dir], { stdio: "ignore" });
    return iso;
  }
  const elTorito = (iso: string) => execFileSync("xorriso", ["-indev", iso, "-report_el_torito", "plain"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    .split("\n").filter((l) => l.startsWith("El Torito boot img") || l.startsWith("El Torito img path"))
    .map((l) => l.replace(/\s+\d+$/, "")).join("\n"); // the boot image's LBA moves in the copy

  test("the copy keeps the base's files, label and boot record, and adds config.yaml (0600) with the role config", async () => {
    const base = baseIso();
    const baseSha = execFileSync("sha256sum", [base], { encoding: "utf8" });
    const files = await writeNodeMedia(inputs("remaster", { roleIso: { name: "demo-agent", isoPath: base } }));
    const iso = path.join(root, "remaster", "demo-agent.iso");
    expect(files.map((f) => [f.path, f.kind])).toEqual([[path.join(root, "remaster", "demo-agent-0-cidata.iso"), "cidata"], [iso, "role-iso"]]);
    expect(mode(iso)).toBe(0o600);
    const back = readIso(iso);
    expect(back.volumeId).toBe("KAIROS");
    expect(back.files["README.txt"]).toBe("stand-in for a Kairos live ISO\n");
    expect(back.files["config.yaml"]).toBe(roleCloudConfig(CONFIG));
    expect(back.modes["config.yaml"]).toBe("-rw-------");
    expect(elTorito(iso)).toBe(elTorito(base));
    expect(elTorito(iso)).toMatch(/El Torito img path :\s+1\s+\/boot\/boot\.img/);
    expect(execFileSync("sha256sum", [base], { encoding: "utf8" })).toBe(baseSha); // the base is untouched
    expect(fs.readdirSync(path.join(root, "remaster")).sort()).toEqual(["demo-agent-0-cidata.iso", "demo-agent.iso"]);
  });

  test("a missing base ISO is named and leaves nothing behind", async () => {
    await expect(writeNodeMedia(inputs("remaster-missing", { roleIso: { name: "r", isoPath: "/nonexistent/kairos.iso" } }))).rejects.toThrow(
      'roleIso.isoPath: "/nonexistent/kairos.iso" does not exist; expected a Kairos ISO file');
    expect(fs.readdirSync(path.join(root, "remaster-missing"))).toEqual([]);
  });

  test("the remaster argv maps the config file and replays the boot records", () => {
    expect(remasterArgv("/b.iso", "/o.iso", "/cc.yaml")).toEqual(["xorriso", "-indev", "/b.iso", "-outdev", "/o.iso", "-map", "/cc.yaml", "/config.yaml", "-boot_image", "any", "replay", "-end"]);
  });
});

describe("inputs (L0)", () => {
  test("the role config drops only the hostname and keeps the header", () => {
    const r = roleCloudConfig(CONFIG);
    expect(r.startsWith("#cloud-config\n")).toBe(true);
    expect(r).not.toContain("hostname");
    expect(r).toContain(`K3S_TOKEN: ${TOKEN}`);
  });

  test.each([
    [{ outputDir: "rel/dir" }, 'outputDir: "rel/dir" is not valid; expected an absolute directory path (e.g. /srv/kairos-media)'],
    [{ folder: "../up" }, 'folder: "../up" is not valid; expected a folder name of [A-Za-z0-9._-], starting with a letter or digit (e.g. the cluster name)'],
    [{ node: "../x" }, 'node: "../x" is not valid; expected a node name of [A-Za-z0-9._-], starting with a letter or digit'],
    [{ cloudConfig: `users: []\ntoken: ${TOKEN}` }, 'cloudConfig: <secret> is not valid; expected text whose first line is "#cloud-config"'],
    [{ roleIso: { name: "a/b", imageRef: IMAGE_REF } }, 'roleIso.name: "a/b" is not valid; expected a file name of [A-Za-z0-9._-]'],
    [{ roleIso: { name: "a", imageRef: IMAGE_REF, engine: "lxc" } }, 'roleIso.engine: "lxc" is not valid; expected "docker" or "podman"'],
    [{ roleIso: { name: "a", imageRef: IMAGE_REF, isoPath: "/k.iso" } }, 'roleIso.isoPath: "/k.iso" is not valid; expected exactly one of roleIso.isoPath (a Kairos ISO file) and roleIso.imageRef (a Kairos container image)'],
    [{ roleIso: { name: "a", isoPath: "k.iso" } }, 'roleIso.isoPath: "k.iso" is not valid; expected an absolute path of a Kairos ISO file'],
  ])("bad input %j is named with its value and what is accepted", (bad, message) => {
    const issues = checkInputs({ outputDir: "/srv/m", node: "n", cloudConfig: CONFIG, ...bad } as Partial<NodeMediaInputs>);
    expect(issues.map(formatIssue)).toEqual([message]);
  });
});

describe("diff (L0)", () => {
  const state = (i: NodeMediaInputs): NodeMediaOutputs => ({ ...i, configDigest: configDigest(i.cloudConfig), files: [], drift: [] });
  const base: NodeMediaInputs = { outputDir: "/srv/m", folder: "demo", node: "demo-agent-0", cloudConfig: CONFIG };

  test.each<[string, NodeMediaOutputs, NodeMediaInputs, string[]]>([
    ["nothing changed", state(base), base, []],
    ["another folder moves the files", state(base), { ...base, folder: "other" }, ["folder"]],
    ["state of an older version (no folder) keeps its files where they are", state({ ...base, folder: undefined }), base, []],
    ["state of an older version with another change: rewritten, into the folder", state({ ...base, folder: undefined }), { ...base, cloudConfig: "#cloud-config\nhostname: x\n" }, ["cloudConfig"]],
    ["no folder before or after", state({ ...base, folder: undefined }), { ...base, folder: undefined }, []],
  ])("%s", (_t, olds, news, replaces) => {
    expect(diffInputs(olds, news)).toEqual(replaces);
  });
});
