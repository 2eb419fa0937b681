/**
 * L0: the process-level cleanup of ephemeral clusters, on a stand-in `process` (no real signals):
 * handlers exist only while a cluster is registered, a signal destroys each cluster once and then
 * re-raises itself, a second signal while destroying is ignored with a message, and the exit event
 * destroys synchronously where the engine can and names what it could not.
 */
import { EventEmitter } from "events";
import { CleanupRegistry, type Destroyable } from "../../testing/cleanup";

class FakeProcess extends EventEmitter {
  readonly pid = 4242;
  readonly kills: Array<[number, string]> = [];
  kill(pid: number, signal: string) {
    this.kills.push([pid, signal]);
    return true;
  }
}

function setup() {
  const proc = new FakeProcess();
  const lines: string[] = [];
  const registry = new CleanupRegistry(proc, (l) => lines.push(l));
  return { proc, lines, registry };
}

/** A cluster whose destroy waits until `finish()` is called; counts its calls. */
function slowCluster(name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => { finish = r; });
  const c = { name, calls: 0, destroy: jest.fn(async () => { c.calls++; await done; }) };
  return { c, finish };
}

test("handlers are installed with the first cluster and removed with the last", () => {
  const { proc, registry } = setup();
  expect(proc.listenerCount("SIGINT")).toBe(0);
  const off1 = registry.register({ name: "a", destroy: async () => undefined });
  const off2 = registry.register({ name: "b", destroy: async () => undefined });
  for (const e of ["SIGINT", "SIGTERM", "exit", "beforeExit"]) expect(proc.listenerCount(e)).toBe(1);
  off1();
  expect(proc.listenerCount("SIGINT")).toBe(1);
  off2();
  for (const e of ["SIGINT", "SIGTERM", "exit", "beforeExit"]) expect(proc.listenerCount(e)).toBe(0);
  expect(registry.active).toBe(false);
});

test("a signal destroys every cluster once, removes the handlers, then re-raises the signal", async () => {
  const { proc, lines, registry } = setup();
  const a = slowCluster("eph-a");
  const b = slowCluster("eph-b");
  registry.register(a.c);
  registry.register(b.c);
  const first = registry.handleSignal("SIGTERM");
  await Promise.resolve();
  // A second signal while destroying: ignored with a message, nothing destroyed twice.
  const second = registry.handleSignal("SIGTERM");
  const third = registry.handleSignal("SIGINT");
  expect(lines.some((l) => /SIGTERM ignored: still destroying ephemeral clusters; stopping now would leave half-deleted state/.test(l))).toBe(true);
  expect(lines.some((l) => /SIGINT ignored/.test(l))).toBe(true);
  expect(proc.kills).toEqual([]);
  a.finish();
  b.finish();
  await Promise.all([first, second, third]);
  expect(a.c.calls).toBe(1);
  expect(b.c.calls).toBe(1);
  expect(lines[0]).toMatch(/SIGTERM received: destroying ephemeral cluster\(s\) eph-a, eph-b/);
  expect(proc.listenerCount("SIGTERM")).toBe(0);
  expect(proc.kills).toEqual([[4242, "SIGTERM"]]);
  expect(registry.size).toBe(0);
});

test("the signal is not re-raised when the program has its own handler for it", async () => {
  const { proc, registry } = setup();
  proc.on("SIGINT", () => undefined);
  registry.register({ name: "eph-c", destroy: async () => undefined });
  await registry.handleSignal("SIGINT");
  expect(proc.kills).toEqual([]);
  expect(proc.listenerCount("SIGINT")).toBe(1); // the program's own, ours removed
});

test("a failed destroy is reported and does not stop the others", async () => {
  const { lines, registry } = setup();
  const ok = { name: "ok", destroy: jest.fn(async () => undefined) };
  registry.register({ name: "bad", destroy: async () => { throw new Error("virsh said no"); } });
  registry.register(ok);
  await registry.destroyAll("test");
  expect(ok.destroy).toHaveBeenCalledTimes(1);
  expect(lines).toContainEqual(expect.stringMatching(/destroying bad failed: virsh said no/));
  expect(registry.active).toBe(false);
});

test("at exit: synchronous destroy where the engine can, and the others named", () => {
  const { lines, registry } = setup();
  const sync: Destroyable & { destroySync: jest.Mock } = { name: "eph-sync", destroy: async () => undefined, destroySync: jest.fn() };
  registry.register(sync);
  registry.register({ name: "eph-async", destroy: async () => undefined });
  registry.handleExit();
  expect(sync.destroySync).toHaveBeenCalledTimes(1);
  expect(lines).toEqual([expect.stringMatching(/exits with ephemeral clusters not destroyed: eph-async; dispose them/)]);
});

test("loading pulumi-kairos/testing (as built) installs no signal handler, of its own or of a dependency", () => {
  // A library that listens for SIGTERM on load would stop the re-raise above: the process would
  // destroy its clusters and then keep running.
  const { execFileSync } = require("child_process") as typeof import("child_process");
  const script = 'require("pulumi-kairos/testing"); console.log(["SIGINT", "SIGTERM", "SIGHUP"].map((s) => process.listenerCount(s)).join(" "));';
  expect(execFileSync(process.execPath, ["-e", script], { cwd: require("path").join(__dirname, "..", "..") }).toString().trim()).toBe("0 0 0");
});
