/**
 * L3: the local-build dynamic provider as Pulumi serialized it, loaded by Pulumi's own provider host
 * in a fresh process and driven over gRPC (check, create, diff, read, update, delete), with the
 * recording stand-in engine first on PATH (KAIROS_E2E=1: the real engine) and a real qemu-img.
 * The host runs TypeScript sources through ts-node, as the built package would run its .js.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  captureDynamicResource, isSecret, reveal, secret, startDynamicProviderHost, UNKNOWN,
  type CapturedResource, type DynamicProviderHost,
} from "../../harness/dynamic-provider-host";
import { normalizeImageSpec } from "../../../kairos/image";
import { KairosImageBuild } from "../../../providers/image/local-build";
import { E2E, setUpEngine, type FakeEngineEnv } from "./fake-engine-env";

const TYPE = "pulumi-nodejs:dynamic/kairos-image:KairosImageBuild";
const CLOUD_CONFIG = "#cloud-config\nusers:\n- name: kairos\n  passwd: l3-s3cret-word\n  groups: [admin]\n";

let env: FakeEngineEnv;
let host: DynamicProviderHost | undefined;
let captured: CapturedResource;
let outputDir: string;

const spec = normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["iso", "qcow2"] });

beforeAll(async () => {
  env = setUpEngine();
  outputDir = path.join(env.root, "artifacts");
  captured = await captureDynamicResource(() => {
    new KairosImageBuild("img", { spec, outputDir, cloudConfig: pulumi.secret(CLOUD_CONFIG) });
  });
  host = await startDynamicProviderHost({ env: { NODE_OPTIONS: "--require ts-node/register/transpile-only" }, callTimeoutMs: 120_000 });
}, 120_000);
afterAll(async () => {
  await host?.stop();
  env?.restore();
});

describe("KairosImageBuild through Pulumi's dynamic provider host", () => {
  let id = "";
  let state: Record<string, unknown> = {};

  test("the serialized provider is small: methods require the implementation by package path", () => {
    expect(captured.type).toBe(TYPE);
    expect(captured.provider.length).toBeLessThan(6000);
    expect(captured.provider).toContain('"pulumi-kairos/drivers/image"');
    expect(captured.provider).not.toContain("renderDockerfile");
    expect(isSecret(captured.inputs.cloudConfig)).toBe(true);
  });

  test("check accepts the spec and names the field of a bad one", async () => {
    expect((await host!.check(TYPE, {}, captured.inputs)).failures).toEqual([]);
    const bad = await host!.check(TYPE, {}, { ...captured.inputs, spec: { ...spec, artifacts: ["vmdk"] }, outputDir: "relative/dir" });
    expect(bad.failures).toEqual([
      { property: "spec", reason: 'artifacts[0]: "vmdk" is not valid; expected one of "iso", "raw-efi", "raw-bios", "qcow2"' },
      { property: "outputDir", reason: 'outputDir: "relative/dir" is not valid; expected an absolute directory path' },
    ]);
  });

  test("create builds the artifacts; the cloud-config stays secret and out of the host's output", async () => {
    const r = await host!.create(TYPE, captured.inputs, { timeoutMs: 600_000 });
    id = r.id;
    state = r.properties;
    expect(id).toMatch(/^kairos-custom\/ubuntu:24\.04-standard-amd64-generic-v1\.0\.0-k3s-v1\.36\.3-k3s1#[0-9a-f]{12}$/);
    const artifacts = r.properties.artifacts as { kind: string; path: string; size: number }[];
    expect(artifacts.map((a) => a.kind)).toEqual(["iso", "qcow2"]);
    for (const a of artifacts) expect(fs.statSync(a.path).size).toBe(a.size);
    expect(r.properties.dockerfile).toContain("/kairos-init -s install");
    expect(isSecret(r.properties.cloudConfig)).toBe(true);
    expect(host!.output()).not.toContain("l3-s3cret-word");
    if (!E2E) expect(host!.output()).toContain("KairosImage: building image");
  });

  test("diff with the same inputs: no change, and nothing runs", async () => {
    const before = env.calls().length;
    const d = await host!.diff(TYPE, id, state, captured.inputs);
    expect(d.changes).toBe("none");
    expect(env.calls().length).toBe(before);
  });

  test("diff with a changed input or an unknown value says replace", async () => {
    const changed = await host!.diff(TYPE, id, state, { ...captured.inputs, spec: { ...spec, version: "v1.0.1" } });
    expect(changed.changes).toBe("some");
    expect(changed.replaces).toEqual(["contentKey"]);
    expect(changed.deleteBeforeReplace).toBe(false);
    const cc = await host!.diff(TYPE, id, state, { ...captured.inputs, cloudConfig: secret(CLOUD_CONFIG + "# changed\n") });
    expect(cc.replaces).toEqual(["contentKey"]);
    const unknown = await host!.diff(TYPE, id, state, { ...captured.inputs, cloudConfig: UNKNOWN });
    expect(unknown.changes).toBe("some");
  });

  test("read sees drift (a modified artifact) and the next diff rebuilds in place", async () => {
    const clean = await host!.read(TYPE, id, state);
    expect(clean.properties.drift).toEqual([]);
    const qcow2 = (state.artifacts as { kind: string; path: string }[]).find((a) => a.kind === "qcow2")!;
    fs.appendFileSync(qcow2.path, "drift");
    const drifted = await host!.read(TYPE, id, state);
    expect(drifted.properties.drift).toEqual([expect.stringMatching(/^qcow2 artifact .* changed size/)]);
    expect(String(drifted.properties.contentKey)).toMatch(/^drifted:/);
    const d = await host!.diff(TYPE, id, drifted.properties, captured.inputs);
    expect(d.replaces).toEqual(["contentKey"]);
    expect(d.deleteBeforeReplace).toBe(true);
    // What the engine does next: delete, then create again.
    await host!.delete(TYPE, id, drifted.properties);
    expect(fs.existsSync(qcow2.path)).toBe(false);
    const again = await host!.create(TYPE, captured.inputs, { timeoutMs: 600_000 });
    state = again.properties;
    expect((await host!.read(TYPE, again.id, state)).properties.drift).toEqual([]);
  });

  test("a timeout change alone is an in-place update, not a rebuild", async () => {
    const d = await host!.diff(TYPE, id, state, { ...captured.inputs, stepTimeoutMs: 1000 });
    expect(d.changes).toBe("some");
    expect(d.replaces).toEqual([]);
    const outs = await host!.update(TYPE, id, state, { ...captured.inputs, stepTimeoutMs: 1000 });
    expect(outs.stepTimeoutMs).toBe(1000);
    expect(reveal(outs.artifacts)).toEqual(reveal(state.artifacts));
  });

  test("delete removes the artifacts and the record", async () => {
    await host!.delete(TYPE, id, state);
    expect(fs.readdirSync(outputDir).filter((f) => !f.startsWith("."))).toEqual([]);
  });
});
