/**
 * L3+ harness: a small program whose dynamic resources are created for real through Pulumi's host
 * (in registration order) while other resources stay mocked, then destroyed in reverse order.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProgramRun, privateTempDir, runProgramWithDynamicProviders } from "./dynamic-provider-host";
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
    expect(run.created.map((r) => [r.name, r.id])).toEqual([["g-a", "echo-a-1"], ["g-b", "echo-b-32"]]);
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

describe("runProgramWithDynamicProviders over a saved state (day 2, engine semantics)", () => {
  const scratch = privateTempDir("kairos-harness-day2-");
  const log = path.join(scratch.dir, "echo.log");
  const opts = { settleMs: 800, env: { ECHO_LOG: log } };
  const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
  let last: ProgramRun | undefined;
  afterAll(async () => {
    await last?.destroy();
    scratch.remove();
  });

  /** Runs the program over the last run's state, as the next `pulumi up` would. */
  async function up(program: () => void): Promise<ProgramRun> {
    const prior = last?.state;
    await last?.stop();
    fs.rmSync(log, { force: true });
    last = await runProgramWithDynamicProviders(program, { ...opts, priorState: prior });
    return last;
  }

  it("keeps what did not change, updates in place, replaces create-before-delete and deletes the old one last", async () => {
    const first = await up(() => { new Group("d"); });
    expect(first.steps.map((s) => `${s.op} ${s.name}`)).toEqual(["create d-a", "create d-b"]);

    const same = await up(() => { new Group("d"); });
    expect(same.steps.map((s) => `${s.op} ${s.name}`)).toEqual(["same d-a", "same d-b"]);
    expect(lines()).toEqual([]);

    // A new trigger replaces d-a: the replacement exists before the old one goes, at the very end.
    const replaced = await up(() => {
      const a = new EchoResource("d-a", { name: "a", trigger: "2" });
      new EchoResource("d-b", { name: a.token.apply((t) => `b-${t.length}`) });
    });
    expect(replaced.steps.map((s) => `${s.op} ${s.name}`)).toEqual(["replace d-a", "same d-b", "delete d-a"]);
    expect(lines()).toEqual(["create a echo-a-2", "delete a echo-a-1"]);
    expect(replaced.state.map((e) => e.id)).toEqual(["echo-a-2", "echo-b-32"]);
  });

  it("honours ignoreChanges and delete-before-replace, and deletes what the program dropped, dependents first", async () => {
    const ignored = await up(() => {
      const a = new EchoResource("d-a", { name: "renamed", trigger: "2" }, { ignoreChanges: ["name"] });
      new EchoResource("d-b", { name: a.token.apply((t) => `b-${t.length}`) });
    });
    expect(ignored.steps.map((s) => s.op)).toEqual(["same", "same"]);

    const dbr = await up(() => {
      const a = new EchoResource("d-a", { name: "a", trigger: "3" }, { deleteBeforeReplace: true });
      new EchoResource("d-b", { name: a.token.apply((t) => `b-${t.length}`) });
    });
    expect(dbr.steps[0]).toMatchObject({ op: "replace", name: "d-a", deleteBeforeReplace: true });
    expect(lines()).toEqual(["delete a echo-a-2", "create a echo-a-3"]);

    const updated = await up(() => {
      const a = new EchoResource("d-a", { name: "a", trigger: "3" });
      new EchoResource("d-b", { name: a.token.apply((t) => `b-${t.length}-x`) });
      new EchoResource("d-c", { name: "c" }, { dependsOn: [a] });
    });
    // (d-b waits on d-a's token, so it may register after d-c)
    expect(updated.steps.map((s) => `${s.op} ${s.name}`).sort()).toEqual(["create d-c", "same d-a", "update d-b"]);

    // Dropping d-a also drops what depends on it; deletes run dependents first.
    const dropped = await up(() => { new EchoResource("d-b", { name: "b-32-x" }); });
    expect(dropped.steps.map((s) => `${s.op} ${s.name}`)).toEqual(["same d-b", "delete d-c", "delete d-a"]);
    expect(dropped.state.map((e) => e.name)).toEqual(["d-b"]);
  });
});
