/** L0: the state schema stamp, the migrations and the refusal of state from a newer version. */
import { STATE_KEY, STATE_SCHEMA, StateTooNewError, packageVersion, schemaOf, stamp, upgradeState, versioned } from "../../providers/state-schema";
import type { DriverOps } from "../../providers/driver-provider";

const version = (require("../../package.json") as { version: string }).version;

/** A kind that records what it was handed. */
function recordingOps(seen: Record<string, unknown>[]): DriverOps {
  return {
    check: async (_o, n) => ({ inputs: n, failures: [] }),
    diff: async (_id, olds, news) => { seen.push(olds); return { changes: olds.size !== news.size, replaces: olds.size !== news.size ? ["size"] : [] }; },
    create: async (inputs) => ({ id: "x", outs: { ...inputs } }),
    read: async (id, props) => { seen.push(props); return { id, props }; },
    update: async (_id, olds, news) => ({ outs: { ...olds, ...news } }),
    delete: async (_id, props) => { seen.push(props); },
  };
}

describe("state schema", () => {
  test("the package version is this package's own", () => {
    expect(packageVersion()).toBe(version);
  });

  test("state without a stamp is schema 0; stamped state carries the schema and the version that wrote it", () => {
    expect(schemaOf({ name: "a" })).toBe(0);
    const s = stamp({ name: "a" });
    expect(s[STATE_KEY]).toEqual({ schema: STATE_SCHEMA, writtenBy: version });
    expect(schemaOf(s)).toBe(STATE_SCHEMA);
  });

  test("migrations run in order from the state's schema to the current one", () => {
    const steps: number[] = [];
    const migrations = Array.from({ length: STATE_SCHEMA }, (_, i) => (p: Record<string, unknown>) => { steps.push(i); return { ...p, [`m${i}`]: true }; });
    const up = upgradeState("k 'a'", { name: "a" }, migrations);
    expect(steps).toEqual(Array.from({ length: STATE_SCHEMA }, (_, i) => i));
    expect(up.m0).toBe(true);
    expect(upgradeState("k 'a'", stamp({ name: "a" }), migrations)).toEqual(stamp({ name: "a" }));
  });

  test("state of a newer schema is refused, naming the version that wrote it and the way out", () => {
    const newer = { name: "a", [STATE_KEY]: { schema: STATE_SCHEMA + 1, writtenBy: "9.1.0" } };
    expect(() => upgradeState("kairos-libvirt:Domain 'a'", newer)).toThrow(StateTooNewError);
    expect(() => upgradeState("kairos-libvirt:Domain 'a'", newer)).toThrow(
      `kairos-libvirt:Domain 'a': its state has schema ${STATE_SCHEMA + 1}, written by pulumi-kairos 9.1.0; this is pulumi-kairos ${version}, ` +
      `which reads schema ${STATE_SCHEMA} and earlier. Install pulumi-kairos 9.1.0 or later in this program (npm install pulumi-kairos@9.1.0) and run again`,
    );
  });

  describe("versioned operations", () => {
    const seen: Record<string, unknown>[] = [];
    const ops = versioned("test:Thing", recordingOps(seen));
    const provider = (text: string) => ({ __provider: text });

    test("create and read stamp what they return", async () => {
      expect((await ops.create({ size: 1 })).outs[STATE_KEY]).toEqual({ schema: STATE_SCHEMA, writtenBy: version });
      expect((await ops.read("x", { size: 1 })).props[STATE_KEY]).toEqual({ schema: STATE_SCHEMA, writtenBy: version });
    });

    test("a current state with the same provider text diffs as no change", async () => {
      expect(await ops.diff("x", stamp({ size: 1, ...provider("p") }), { size: 1, ...provider("p") })).toEqual({ changes: false, replaces: [] });
    });

    test("an older schema or another provider text is a change to rewrite in place, never a replacement", async () => {
      expect(await ops.diff("x", { size: 1, ...provider("p") }, { size: 1, ...provider("p") })).toEqual({ changes: true, replaces: [] });
      expect(await ops.diff("x", stamp({ size: 1, ...provider("old") }), { size: 1, ...provider("new") })).toEqual({ changes: true, replaces: [] });
      expect(await ops.diff("x", { size: 1 }, { size: 2 })).toEqual({ changes: true, replaces: ["size"] });
      const r = await ops.update("x", { size: 1 }, { size: 1 });
      expect(r.outs).toEqual(stamp({ size: 1 }));
    });

    test("diff, read, update and delete refuse newer state before the kind sees it", async () => {
      seen.length = 0;
      const newer = { name: "t", [STATE_KEY]: { schema: STATE_SCHEMA + 1, writtenBy: "9.0.0" } };
      await expect(ops.diff("x", newer, {})).rejects.toThrow("test:Thing 't': its state has schema");
      await expect(ops.read("x", newer)).rejects.toThrow(StateTooNewError);
      await expect(ops.update("x", newer, {})).rejects.toThrow(StateTooNewError);
      await expect(ops.delete("x", newer)).rejects.toThrow(StateTooNewError);
      expect(seen).toEqual([]);
    });
  });
});
