/**
 * L3+ harness: a small program whose dynamic resources are created for real through Pulumi's host
 * (in registration order) while other resources stay mocked, then destroyed in reverse order.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProgramRun, runProgramWithDynamicProviders } from "./dynamic-provider-host";
import { EchoResource } from "./fixtures/echo-resource";

class Group extends pulumi.ComponentResource {
  readonly first: EchoResource;
  readonly second: EchoResource;
  constructor(name: string) {
    super("kairos-test:index:Group", name);
    this.first = new EchoResource(`${name}-a`, { name: "a", trigger: "1" }, { parent: this });
    // Depends on an output of the first: only resolvable because the first was really created.
    this.second = new EchoResource(`${name}-b`, { name: this.first.token.apply((t) => `b-${t.length}`) }, { parent: this });
    this.registerOutputs({});
  }
}

describe("runProgramWithDynamicProviders (L3+)", () => {
  let run: ProgramRun | undefined;
  let group: Group;
  afterAll(async () => {
    await run?.destroy();
  });

  it("creates dynamic resources for real, in order, and mocks the rest", async () => {
    run = await runProgramWithDynamicProviders(() => {
      group = new Group("g");
    }, { settleMs: 1000 });
    expect(run.created.map((r) => [r.name, r.id])).toEqual([["g-a", "echo-a"], ["g-b", "echo-b-32"]]);
    expect(run.mocked).toEqual([{ type: "kairos-test:index:Group", name: "g" }]);
    const token = await new Promise<string>((resolve) => group.first.token.apply((t) => { resolve(t); return t; }));
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await pulumi.isSecret(group.first.token)).toBe(true);
  });

  it("rejects the run with the check failure of the bad resource", async () => {
    await expect(runProgramWithDynamicProviders(() => {
      new EchoResource("ok", { name: "fine" });
      new EchoResource("bad", { name: "" });
    }, { settleMs: 1000 })).rejects.toThrow(/check of pulumi-nodejs:dynamic\/kairos-test:Echo::bad failed:\nname: name: must be a non-empty string/);
  });
});
