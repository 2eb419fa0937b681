/**
 * L0: createEphemeralCluster's lifecycle over a stand-in engine (no program is run, no VM): a
 * timed-out create is stopped and destroyed, an interrupted create (what SIGINT does) destroys once,
 * keepOnFailure keeps and says how to remove, a handle's destroy is idempotent and removes its
 * private kubeconfig folder, and nothing stays registered for process cleanup.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createEphemeralCluster, EphemeralClusterError, withKairosCluster, type ClusterEngine, type EphemeralClusterOptions } from "pulumi-kairos/testing";
import { cleanup } from "../../testing/cleanup";

class FakeEngine implements ClusterEngine {
  readonly description = "a stand-in engine";
  calls: string[] = [];
  constructor(private readonly behaviour: "ok" | "hang" | "fail", private readonly serialLog?: string) {}
  up(_program: unknown, opts: { signal?: AbortSignal } = {}) {
    this.calls.push("up");
    if (this.behaviour === "ok") {
      return Promise.resolve({
        kubeconfig: "apiVersion: v1\n", apiEndpoint: "https://10.0.0.10:6443", sshPrivateKey: "k",
        nodes: [{ name: "c-server-0", role: "init", address: "10.0.0.10", macAddress: "", domainName: "d" }],
      });
    }
    if (this.behaviour === "fail") return Promise.reject(new Error("Domain create failed: no lease"));
    return new Promise<never>((_, reject) => opts.signal!.addEventListener("abort", () => reject(new Error("update canceled"))));
  }
  async destroy() { this.calls.push("destroy"); }
  async resources() {
    return this.serialLog ? [{ type: "pulumi-nodejs:dynamic/kairos-libvirt:Domain", name: "c-server-0", outputs: { node: "c-server-0", uri: "qemu:///system", serialLogFile: this.serialLog } }] : [];
  }
  async keep(dir: string) { this.calls.push(`keep ${dir}`); return `remove-it ${dir}`; }
  async dispose() { this.calls.push("dispose"); }
}

// A network of its own and no reaping: no libvirt host is asked anything here.
const base: EphemeralClusterOptions = { image: { kind: "disk", path: "/images/k.qcow2" }, target: { kind: "libvirt", network: { kind: "existing", name: "default" } }, reapExpired: false };
const dirsOf = (name: string) => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`kairos-eph-${name}-`));

afterEach(() => {
  expect(cleanup.size).toBe(0);
  expect(cleanup.active).toBe(false);
});

test("a ready cluster: kubeconfig in a private file; destroy (twice) destroys once and removes it", async () => {
  const engine = new FakeEngine("ok");
  const c = await createEphemeralCluster({ ...base, name: "eph-ok1", engine });
  expect(cleanup.size).toBe(1);
  expect(c.nodes.map((n) => n.name)).toEqual(["c-server-0"]);
  expect(fs.statSync(c.kubeconfigPath).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(c.kubeconfigPath)).mode & 0o777).toBe(0o700);
  await Promise.all([c[Symbol.asyncDispose](), c.destroy()]);
  await c.destroy();
  expect(engine.calls).toEqual(["up", "destroy", "dispose"]);
  expect(fs.existsSync(c.kubeconfigPath)).toBe(false);
  expect(dirsOf("eph-ok1")).toEqual([]);
});

test("withKairosCluster destroys the cluster when the callback throws", async () => {
  const engine = new FakeEngine("ok");
  await expect(withKairosCluster({ ...base, name: "eph-ok2", engine }, async () => { throw new Error("test failed"); })).rejects.toThrow("test failed");
  expect(engine.calls).toEqual(["up", "destroy", "dispose"]);
});

test("a timed-out create is stopped, destroyed and named with its bound", async () => {
  const engine = new FakeEngine("hang");
  const err = await createEphemeralCluster({ ...base, name: "eph-slow", engine, timeouts: { createSeconds: 1 } }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(EphemeralClusterError);
  expect((err as Error).message).toMatch(/^ephemeral cluster eph-slow did not become Ready within 1 s \(timeouts\.createSeconds\): update canceled\n\(everything it made was destroyed\)$/);
  expect(engine.calls).toEqual(["up", "destroy", "dispose"]);
  expect(dirsOf("eph-slow")).toEqual([]);
});

test("an interrupted create (what SIGINT/SIGTERM do) destroys once, even with keepOnFailure", async () => {
  const engine = new FakeEngine("hang");
  const creating = createEphemeralCluster({ ...base, name: "eph-int", engine, keepOnFailure: true }).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  expect(cleanup.size).toBe(1);
  await cleanup.destroyAll("SIGINT received");
  const err = await creating;
  expect((err as Error).message).toMatch(/^ephemeral cluster eph-int was interrupted: update canceled/);
  expect(engine.calls).toEqual(["up", "destroy", "dispose"]);
});

test("keepOnFailure keeps: consoles and state in keepDir, nothing destroyed, the error says how to remove it", async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-keep-test-"));
  try {
    const log = path.join(scratch, "serial.log");
    fs.writeFileSync(log, "boot\nSTANDIN ready\n");
    const engine = new FakeEngine("fail", log);
    const keepDir = path.join(scratch, "kept");
    const err = (await createEphemeralCluster({ ...base, name: "eph-keep", engine, keepOnFailure: true, keepDir }).then(() => undefined, (e: unknown) => e)) as EphemeralClusterError;
    expect(err).toBeInstanceOf(EphemeralClusterError);
    const [marker] = dirsOf("eph-keep");
    const remove = `remove-it ${keepDir} && rm -rf ${path.join(os.tmpdir(), marker)}`;
    expect(err.message).toMatch(new RegExp(`^ephemeral cluster eph-keep failed: Domain create failed: no lease\nkept for inspection in ${keepDir} \\(consoles/, cloud-configs/, state\\) until \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z, when npx pulumi-kairos reap may remove it; remove it all now with:\n  `));
    expect(err.message.endsWith(remove)).toBe(true);
    expect(err.removeCommand).toBe(remove);
    expect(err.keptIn).toBe(keepDir);
    expect(fs.readFileSync(path.join(keepDir, "consoles", "c-server-0.log"), "utf8")).toContain("STANDIN ready");
    expect(fs.statSync(keepDir).mode & 0o777).toBe(0o700);
    expect(engine.calls).toEqual(["up", `keep ${keepDir}`, "dispose"]);
    // The private folder stays as the kept cluster's state marker (the reaper leaves it alone until it expires).
    expect(fs.readdirSync(path.join(os.tmpdir(), marker))).toEqual([]);
    fs.rmSync(path.join(os.tmpdir(), marker), { recursive: true });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test("a failed create without keepOnFailure destroys and says so", async () => {
  const engine = new FakeEngine("fail");
  await expect(createEphemeralCluster({ ...base, name: "eph-fail", engine })).rejects.toThrow(/^ephemeral cluster eph-fail failed: Domain create failed: no lease\n\(everything it made was destroyed\)$/);
  expect(engine.calls).toEqual(["up", "destroy", "dispose"]);
});

test("detach: the cluster outlives the handle; dispose and signals no longer destroy it, destroy() says how to remove it", async () => {
  const engine = new FakeEngine("ok");
  const before = Date.now();
  const c = await createEphemeralCluster({ ...base, name: "eph-det", engine, ttlSeconds: 90 });
  expect(Date.parse(c.expiresAt) - Date.parse(c.createdAt)).toBe(90_000);
  expect(Date.parse(c.createdAt)).toBeGreaterThanOrEqual(before - 1000);
  await c.detach();
  expect(cleanup.size).toBe(0);
  expect(fs.existsSync(c.kubeconfigPath)).toBe(false);
  await c[Symbol.asyncDispose]();
  await expect(c.destroy()).rejects.toThrow("ephemeral cluster eph-det was detached; remove it with npx pulumi-kairos down eph-det");
  expect(engine.calls).toEqual(["up", "dispose"]);
});

test("a bad ttlSeconds is refused before anything is made, naming the field and value", async () => {
  const engine = new FakeEngine("ok");
  await expect(createEphemeralCluster({ ...base, name: "eph-ttl", engine, ttlSeconds: 1.5 })).rejects.toThrow("ttlSeconds: 1.5 is not valid; expected a whole number of seconds from 1 up");
  expect(engine.calls).not.toContain("up");
  expect(dirsOf("eph-ttl")).toEqual([]);
});
