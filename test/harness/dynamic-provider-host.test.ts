/**
 * The L3 harness against a tiny fixture provider: the serialized provider is captured under mocks,
 * loaded by Pulumi's own host in a fresh process, and driven over gRPC with the engine's secret rules.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  CapturedResource, DynamicProviderHost, captureDynamicResource, isSecret, reveal, secret, startDynamicProviderHost,
} from "./dynamic-provider-host";
import { EchoResource } from "./fixtures/echo-resource";

const TYPE = "pulumi-nodejs:dynamic/kairos-test:Echo";

describe("L3 harness: Pulumi's dynamic provider host over gRPC", () => {
  let host: DynamicProviderHost | undefined;
  let captured: CapturedResource;

  beforeAll(async () => {
    captured = await captureDynamicResource(() => {
      new EchoResource("e1", { name: "alpha", password: pulumi.secret("hunter2-password"), trigger: "1" });
    });
    host = await startDynamicProviderHost();
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("captures the type token, the inputs with secretness, and the serialized provider", () => {
    expect(captured.type).toBe(TYPE);
    expect(captured.name).toBe("e1");
    expect(captured.inputs.name).toBe("alpha");
    expect(isSecret(captured.inputs.password)).toBe(true);
    expect(captured.provider).toContain("exports.handler");
    expect(captured.inputs.__provider).toBe(captured.provider);
  });

  it("reports that Pulumi's host does not accept secrets (the engine then strips and re-marks them)", () => {
    expect(host!.acceptSecrets).toBe(false);
  });

  it("runs check in the fresh host and returns the provider's failures", async () => {
    const ok = await host!.check(TYPE, {}, captured.inputs);
    expect(ok.failures).toEqual([]);
    expect(isSecret(ok.inputs.password)).toBe(true);
    const bad = await host!.check(TYPE, {}, { ...captured.inputs, name: "" });
    expect(bad.failures).toEqual([{ property: "name", reason: "name: must be a non-empty string" }]);
  });

  it("creates, marking both returned secrets and outputs of secret inputs as secret", async () => {
    const r = await host!.create(TYPE, captured.inputs);
    expect(r.id).toBe("echo-alpha-1");
    expect(isSecret(r.properties.token)).toBe(true);
    expect(reveal<string>(r.properties.token)).toMatch(/^[0-9a-f]{32}$/);
    expect(isSecret(r.properties.password)).toBe(true);
    expect(reveal(r.properties.password)).toBe("hunter2-password");
    expect(isSecret(r.properties.name)).toBe(false);
    expect(r.properties.__provider).toBe(captured.provider);
    // The host never printed the secret input.
    expect(host!.output()).not.toContain("hunter2-password");
  });

  it("diffs, reads, updates and deletes through the same host", async () => {
    const { id, properties: state } = await host!.create(TYPE, captured.inputs);
    expect(await host!.diff(TYPE, id, state, captured.inputs)).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false, diffs: [] });
    const replaced = await host!.diff(TYPE, id, state, { ...captured.inputs, trigger: "2" });
    expect(replaced.changes).toBe("some");
    expect(replaced.replaces).toEqual(["trigger"]);
    const read = await host!.read(TYPE, id, state);
    expect(read.id).toBe(id);
    expect(reveal(read.properties)).toEqual(reveal(state));
    expect(isSecret(read.properties.token)).toBe(true);
    const updated = await host!.update(TYPE, id, state, { ...captured.inputs, name: "beta" });
    expect(updated.name).toBe("beta");
    expect(updated.generation).toBe(2);
    await expect(host!.delete(TYPE, id, state)).resolves.toBeUndefined();
  });

  it("has what the provider printed before answering in output() once the call returns", async () => {
    // The host writes its stderr before it answers; the answer must not overtake those lines here.
    const provider = `exports.handler = () => ({ update: async (id, olds, news) => { process.stderr.write("printed " + news.name + "\\n"); return { outs: news }; } })`;
    for (let i = 0; i < 200; i++) {
      await host!.update(TYPE, "x", { name: "x", __provider: provider }, { name: `n${i}`, __provider: provider });
      expect(host!.output()).toContain(`printed n${i}\n`);
    }
  }, 60_000);

  it("fails a call with the provider's error and the host output", async () => {
    const broken = "exports.handler = () => ({ create: async () => { throw new Error('boom from provider'); } });";
    await expect(host!.create(TYPE, { name: "x", __provider: broken })).rejects.toThrow(/create failed: boom from provider/);
  });

  it("reports a provider's own error with the host's output", async () => {
    const provider = `exports.handler = () => ({ check: async () => { require("pulumi-kairos/drivers/no-such-family"); return {}; } });`;
    await expect(host!.check(TYPE, {}, { name: "x", __provider: provider }))
      .rejects.toThrow(/check failed: Cannot find module '.*dist\/providers\/no-such-family\/impl\.js'[\s\S]*host output \(tail\)/);
  });

  it("fails to start with a clear message when the host cannot be spawned", async () => {
    await expect(startDynamicProviderHost({ cwd: "/nonexistent-dir-for-l3-harness", startTimeoutMs: 5000 }))
      .rejects.toThrow(/^dynamic provider host failed to start \(spawn .*ENOENT\)/);
  }, 15_000);

  it("fails with the host's own output when it exits before printing its port", async () => {
    await expect(startDynamicProviderHost({ env: { NODE_OPTIONS: "--require /nonexistent-l3-preload.js" }, startTimeoutMs: 10_000 }))
      .rejects.toThrow(/exited \(code 1\) before printing its port[\s\S]*nonexistent-l3-preload/);
  }, 20_000);
});
