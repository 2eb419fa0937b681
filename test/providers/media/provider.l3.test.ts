/**
 * L3: the NodeMedia dynamic provider as `pulumi up` runs it: the provider text Pulumi serialized
 * under mocks, loaded by Pulumi's own dynamic-provider host in a fresh process and driven over gRPC
 * (check, create, diff, read, delete), writing real ISOs (real xorriso; the role ISO through the
 * recording stand-in engine).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CapturedResource, DynamicProviderHost, PropertyMap, allStrings, captureDynamicResource, isSecret, reveal, secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";
import { NodeMedia } from "../../../providers/media/provider";
import { readIso, requireXorriso } from "./iso-read";

const TYPE = "pulumi-nodejs:dynamic/kairos:NodeMedia";
const FAKE_ENGINE = path.resolve(__dirname, "../../fixtures/fake-engine/fake-engine.js");
const TOKEN = "K10-l3-media-secret-token";
const CONFIG = `#cloud-config\nhostname: demo-server-0\nk3s:\n  enabled: true\n  env:\n    K3S_TOKEN: ${TOKEN}\n`;
const IMAGE_REF = "kairos-custom/ubuntu:24.04-core-l3";

describe("L3: NodeMedia through Pulumi's dynamic provider host", () => {
  let root: string;
  let outDir: string;
  let host: DynamicProviderHost | undefined;
  let captured: CapturedResource;

  beforeAll(async () => {
    requireXorriso();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-media-l3-"));
    outDir = path.join(root, "media");
    const engineDir = path.join(root, "engine-state");
    fs.mkdirSync(engineDir, { mode: 0o700 });
    fs.writeFileSync(path.join(engineDir, "images.json"), JSON.stringify({ [IMAGE_REF]: "sha256:" + "b".repeat(64) }));
    captured = await captureDynamicResource(() => {
      new NodeMedia("demo-server-0", {
        outputDir: outDir,
        node: "demo-server-0",
        cloudConfig: CONFIG,
        roleIso: { name: "demo-server", imageRef: IMAGE_REF, engineBinary: FAKE_ENGINE },
      });
    });
    host = await startDynamicProviderHost({ env: { FAKE_ENGINE_DIR: engineDir } });
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const inputs = (): PropertyMap => captured.inputs;

  it("registers the type with a secret config and a small serialized provider that requires its driver", () => {
    expect(captured.type).toBe(TYPE);
    expect(isSecret(captured.inputs.cloudConfig)).toBe(true);
    expect(captured.provider).toContain('"pulumi-kairos/drivers/media"');
    expect(captured.provider).not.toContain("build-iso"); // the driver is required, not inlined
    expect(captured.provider.length).toBeLessThan(4096);
  });

  it("check names the bad fields, never echoing the config", async () => {
    const r = await host!.check(TYPE, {}, { ...inputs(), outputDir: "media", cloudConfig: secret(`token: ${TOKEN}`) });
    expect(r.failures).toEqual([
      { property: "outputDir", reason: 'outputDir: "media" is not valid; expected an absolute directory path (e.g. /srv/kairos-media)' },
      { property: "cloudConfig", reason: 'cloudConfig: <secret> is not valid; expected text whose first line is "#cloud-config"' },
    ]);
    expect((await host!.check(TYPE, {}, inputs())).failures).toEqual([]);
  });

  it("creates the files, keeps the config secret, sees drift on read, replaces on change and deletes", async () => {
    const created = await host!.create(TYPE, inputs(), { name: "demo-server-0", timeoutMs: 90_000 });
    const s = created.properties;
    const seed = path.join(outDir, "demo-server-0-cidata.iso");
    const role = path.join(outDir, "demo-server.iso");
    expect(created.id).toBe(seed);
    expect(isSecret(s.cloudConfig)).toBe(true);
    // Outside the secret config, no output carries the token.
    const { cloudConfig: _c, ...rest } = s;
    expect(allStrings(rest).join("\n")).not.toContain(TOKEN);
    expect(host!.output()).not.toContain(TOKEN);
    const files = s.files as PropertyMap[];
    expect(files.map((f) => [f.path, f.kind])).toEqual([[seed, "cidata"], [role, "role-iso"]]);
    expect(files.every((f) => /^[0-9a-f]{64}$/.test(String(f.sha256)) && Number(f.size) > 0)).toBe(true);
    expect(readIso(seed).files["user-data"]).toBe(CONFIG);
    expect(readIso(role).files["config.yaml"]).toContain(TOKEN);
    expect(fs.statSync(seed).mode & 0o777).toBe(0o600);
    expect(fs.statSync(role).mode & 0o777).toBe(0o600);
    expect(fs.statSync(outDir).mode & 0o777).toBe(0o700);

    expect(await host!.diff(TYPE, created.id, s, inputs())).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: true, diffs: [] });
    const changed = await host!.diff(TYPE, created.id, s, { ...inputs(), cloudConfig: secret(CONFIG + "# changed\n") });
    expect(changed).toMatchObject({ changes: "some", replaces: ["cloudConfig"], deleteBeforeReplace: true });

    expect((await host!.read(TYPE, created.id, s)).properties.drift).toEqual([]);
    fs.rmSync(role);
    const drifted = await host!.read(TYPE, created.id, s);
    expect(drifted.properties.drift).toEqual([`${role} is missing`]);
    expect(isSecret(drifted.properties.cloudConfig)).toBe(true);
    expect(await host!.diff(TYPE, created.id, drifted.properties, inputs())).toMatchObject({ changes: "some", replaces: ["files"] });

    await host!.delete(TYPE, created.id, s);
    expect(fs.existsSync(seed)).toBe(false);
    expect(fs.readdirSync(outDir)).toEqual([]);
    await host!.delete(TYPE, created.id, s); // already gone is success
    expect(reveal(s.configDigest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("with a folder: the files go into <outputDir>/<folder> (0700), the user's 0755 outputDir is never changed nor removed", async () => {
    const userDir = path.join(root, "user");
    fs.mkdirSync(userDir, { mode: 0o755 });
    fs.chmodSync(userDir, 0o755);
    const news = { ...inputs(), outputDir: userDir, folder: "demo" };
    expect((await host!.check(TYPE, {}, news)).failures).toEqual([]);
    const created = await host!.create(TYPE, news, { name: "demo-server-0", timeoutMs: 90_000 });
    const ours = path.join(userDir, "demo");
    expect(created.id).toBe(path.join(ours, "demo-server-0-cidata.iso"));
    expect((created.properties.files as PropertyMap[]).map((f) => f.path)).toEqual([path.join(ours, "demo-server-0-cidata.iso"), path.join(ours, "demo-server.iso")]);
    expect(fs.statSync(userDir).mode & 0o777).toBe(0o755);
    expect(fs.statSync(ours).mode & 0o777).toBe(0o700);
    expect(await host!.diff(TYPE, created.id, created.properties, { ...news, folder: "other" })).toMatchObject({ changes: "some", replaces: ["folder"] });

    await host!.delete(TYPE, created.id, created.properties);
    expect(fs.readdirSync(userDir)).toEqual([]); // our folder went with our files
    expect(fs.statSync(userDir).mode & 0o777).toBe(0o755);
  });

  it("state of an older version (files directly in outputDir, no folder): kept where they are (no rebuild on upgrade), delete removes the recorded files and leaves outputDir", async () => {
    const userDir = path.join(root, "legacy");
    fs.mkdirSync(userDir, { mode: 0o755 });
    fs.chmodSync(userDir, 0o755);
    const old = await host!.create(TYPE, { ...inputs(), outputDir: userDir }, { name: "demo-server-0", timeoutMs: 90_000 });
    expect((old.properties.files as PropertyMap[]).map((f) => path.dirname(String(f.path)))).toEqual([userDir, userDir]);
    expect(await host!.diff(TYPE, old.id, old.properties, { ...inputs(), outputDir: userDir, folder: "demo" })).toMatchObject({ changes: "none", replaces: [] });
    // Another change rewrites them, into the folder.
    expect(await host!.diff(TYPE, old.id, old.properties, { ...inputs(), outputDir: userDir, folder: "demo", cloudConfig: "#cloud-config\nhostname: other\n" }))
      .toMatchObject({ changes: "some", replaces: ["cloudConfig"] });
    await host!.delete(TYPE, old.id, old.properties);
    expect(fs.readdirSync(userDir)).toEqual([]);
    expect(fs.statSync(userDir).mode & 0o777).toBe(0o755);
  });
});
