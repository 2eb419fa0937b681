/**
 * L2: the node-media driver writing real ISOs with real xorriso, read back with xorriso; the role
 * ISO through AuroraBoot's argv run by the recording stand-in engine (test/fixtures/fake-engine),
 * which itself builds its ISO with real xorriso. L0: input checks and the role config.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkNodeMedia, removeNodeMedia, roleIsoArgv, writeNodeMedia } from "../../../providers/media/driver";
import { checkInputs, formatIssue, roleCloudConfig, type NodeMediaInputs } from "../../../providers/media/spec";
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

  test("an existing, more open output folder is made owner-only", async () => {
    const dir = path.join(root, "open");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    await writeNodeMedia(inputs("open"));
    expect(mode(dir)).toBe(0o700);
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

describe("inputs (L0)", () => {
  test("the role config drops only the hostname and keeps the header", () => {
    const r = roleCloudConfig(CONFIG);
    expect(r.startsWith("#cloud-config\n")).toBe(true);
    expect(r).not.toContain("hostname");
    expect(r).toContain(`K3S_TOKEN: ${TOKEN}`);
  });

  test.each([
    [{ outputDir: "rel/dir" }, 'outputDir: "rel/dir" is not valid; expected an absolute directory path (e.g. /srv/kairos-media)'],
    [{ node: "../x" }, 'node: "../x" is not valid; expected a node name of [A-Za-z0-9._-], starting with a letter or digit'],
    [{ cloudConfig: `users: []\ntoken: ${TOKEN}` }, 'cloudConfig: <secret> is not valid; expected text whose first line is "#cloud-config"'],
    [{ roleIso: { name: "a/b", imageRef: IMAGE_REF } }, 'roleIso.name: "a/b" is not valid; expected a file name of [A-Za-z0-9._-]'],
    [{ roleIso: { name: "a", imageRef: IMAGE_REF, engine: "lxc" } }, 'roleIso.engine: "lxc" is not valid; expected "docker" or "podman"'],
  ])("bad input %j is named with its value and what is accepted", (bad, message) => {
    const issues = checkInputs({ outputDir: "/srv/m", node: "n", cloudConfig: CONFIG, ...bad } as Partial<NodeMediaInputs>);
    expect(issues.map(formatIssue)).toEqual([message]);
  });
});
