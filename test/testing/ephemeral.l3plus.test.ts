/**
 * L3+: `pulumi-kairos/testing` on STAND-IN GUESTS (test fixtures, not Kairos). The same inline
 * KairosCluster program that the Automation API would run goes through the project's L3+ runner
 * (test/harness/ephemeral-engine.ts): every dynamic resource created and deleted for real through
 * Pulumi's dynamic-provider host. Everything but the Automation API glue: create to Ready, kubectl
 * and ssh through the handle, dispose destroys everything, a failed create leaves nothing,
 * keepOnFailure keeps and reports. The glue itself: test/e2e (KAIROS_E2E=1, with the Pulumi CLI).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createEphemeralCluster, EphemeralClusterError, reap, withKairosCluster, type EphemeralClusterOptions } from "pulumi-kairos/testing";
import { cleanup } from "../../testing/cleanup";
import { run } from "../../providers/exec";
import { HarnessEngine } from "../harness/ephemeral-engine";
import { useStandInLab } from "../harness/standin-lab";
import { LOCAL } from "../providers/libvirt/env";

const engines: HarnessEngine[] = [];
const lab = useStandInLab("kairos-ephemeral-", { beforeRemove: async () => { for (const e of engines) await e.destroy().catch(() => undefined); } });
const id = lab.id;

/** Options of a small stand-in cluster on an isolated network of its own. */
function options(name: string, more: Partial<EphemeralClusterOptions> = {}): Omit<EphemeralClusterOptions, "engine"> & { engine: HarnessEngine; cidr: string } {
  const cidr = `10.219.${1 + (randomBytes(1)[0] % 250)}.0/24`;
  const engine = new HarnessEngine({ scratch: lab.scratch });
  engines.push(engine);
  return {
    name, cidr,
    image: { kind: "disk", path: lab.guestDisk },
    target: {
      kind: "libvirt", uri: LOCAL.uri, pool: lab.pool, network: { kind: "create", mode: "isolated", cidr },
      vcpus: 1, memoryMiB: 256, diskGiB: 1, domainType: "qemu",
    },
    servers: 1,
    agents: 0,
    timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 180 },
    ...more,
    engine,
  };
}

/** libvirt objects whose names hold `name`, and the test pool's volumes. */
async function leftOver(name: string): Promise<string[]> {
  const names = async (args: string[]) => (await run(["virsh", "-q", "-c", LOCAL.uri, ...args], { allowFailure: true })).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  return [
    ...(await names(["list", "--all", "--name"])).filter((n) => n.includes(name)).map((n) => `domain ${n}`),
    ...(await names(["net-list", "--all", "--name"])).filter((n) => n.includes(name)).map((n) => `network ${n}`),
    ...(await names(["vol-list", "--pool", lab.pool])).map((n) => `volume ${n}`),
  ];
}

/** Private folders the module made for `name` in the temp folder. */
const privateDirsOf = (name: string) => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`kairos-eph-${name}-`));

test("create to Ready: kubeconfig, kubectl and ssh through the handle; dispose destroys everything", async () => {
  const name = `${id}-a`;
  const o = options(name, { agents: 1 });
  const cluster = await createEphemeralCluster(o);
  let disposed = false;
  try {
    expect(cluster.name).toBe(name);
    expect(cluster.nodes.map((n) => [n.name, n.role])).toEqual([[`${name}-server-0`, "server"], [`${name}-agent-0`, "agent"]]);
    const prefix = o.cidr.replace(/0\/24$/, "");
    expect(cluster.nodes[0].address).toBe(`${prefix}10`);
    expect(cluster.kubeconfig).toContain(`server: https://${prefix}10:6443`);
    expect(fs.readFileSync(cluster.kubeconfigPath, "utf8")).toBe(cluster.kubeconfig);
    expect(fs.statSync(cluster.kubeconfigPath).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(cluster.kubeconfigPath)).mode & 0o777).toBe(0o700);
    expect(cleanup.size).toBe(1);

    const listing = await cluster.kubectl("get", "nodes", "--no-headers");
    const rows = listing.trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2));
    expect(rows).toEqual(expect.arrayContaining([[`${name}-server-0`, "Ready"], [`${name}-agent-0`, "Ready"]]));
    expect((await cluster.ssh(`${name}-agent-0`, "id -un")).trim()).toBe("kairos-admin");
    expect((await cluster.ssh(cluster.nodes[0], "echo 'it''s'")).trim()).toBe("its");
    await expect(cluster.ssh("nope", "true")).rejects.toThrow(/has no node "nope"/);
    await expect(cluster.ssh(cluster.nodes[0], "exit 3")).rejects.toThrow(/exit code 3/);

    const consoles = await cluster.consoleLogs();
    expect(Object.keys(consoles).sort()).toEqual([`${name}-agent-0`, `${name}-server-0`]);
    expect(consoles[`${name}-server-0`]).toMatch(/STANDIN/);

    expect(await leftOver(name)).not.toEqual([]);
    await cluster[Symbol.asyncDispose]();
    disposed = true;
    expect(await leftOver(name)).toEqual([]);
    expect(fs.existsSync(cluster.kubeconfigPath)).toBe(false);
    expect(privateDirsOf(name)).toEqual([]);
    expect(cleanup.size).toBe(0);
    expect(cleanup.active).toBe(false);
    await cluster.destroy(); // idempotent
  } finally {
    if (!disposed) await cluster.destroy().catch(() => undefined);
  }
}, 1_200_000);

test("a failed create rejects, names the cause and leaves nothing", async () => {
  const name = `${id}-b`;
  const o = options(name, { image: { kind: "disk", path: path.join(lab.scratch, "no-such-image.qcow2") } });
  const err = await createEphemeralCluster(o).then(() => undefined, (e: Error) => e);
  expect(err).toBeInstanceOf(EphemeralClusterError);
  expect(err!.message).toMatch(new RegExp(`^ephemeral cluster ${name} failed: `));
  expect(err!.message).toMatch(/no-such-image\.qcow2/);
  expect(err!.message).toMatch(/everything it made was destroyed/);
  expect(o.engine.state).toEqual([]);
  expect(await leftOver(name)).toEqual([]);
  expect(privateDirsOf(name)).toEqual([]);
  expect(cleanup.size).toBe(0);
}, 600_000);

test("withKairosCluster: a failed create never calls the callback and leaves nothing", async () => {
  const name = `${id}-c`;
  const o = options(name, { image: { kind: "disk", path: path.join(lab.scratch, "no-such-image.qcow2") } });
  const fn = jest.fn(async () => "never");
  await expect(withKairosCluster(o, fn)).rejects.toThrow(EphemeralClusterError);
  expect(fn).not.toHaveBeenCalled();
  expect(await leftOver(name)).toEqual([]);
}, 600_000);

test("keepOnFailure keeps what was made and writes consoles, cloud-configs and state; the error says how to remove it", async () => {
  const name = `${id}-d`;
  const keepDir = path.join(lab.scratch, "kept");
  // Agents join through k3s.vip; nothing answers on that address (no kube-vip on a stand-in), so
  // the agent never joins and the readiness wait fails: after every VM exists.
  const cidr = `10.219.${1 + (randomBytes(1)[0] % 250)}.0/24`;
  const o = options(name, { agents: 1, keepOnFailure: true, keepDir, timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 30 } });
  o.target = { ...(o.target as object), network: { kind: "create", mode: "isolated", cidr } } as EphemeralClusterOptions["target"];
  o.k3s = { vip: cidr.replace(/0\/24$/, "250") };
  const err = await createEphemeralCluster(o).then(() => undefined, (e: Error) => e) as EphemeralClusterError | undefined;
  try {
    expect(err).toBeInstanceOf(EphemeralClusterError);
    expect(err!.message).toMatch(new RegExp(`^ephemeral cluster ${name} failed: `));
    expect(err!.message).toContain(`kept for inspection in ${keepDir}`);
    expect(err!.message).toContain(err!.removeCommand!);
    expect(err!.keptIn).toBe(keepDir);
    expect(fs.statSync(keepDir).mode & 0o777).toBe(0o700);
    const server = `${name}-server-0`;
    expect(fs.readFileSync(path.join(keepDir, "consoles", `${server}.log`), "utf8")).toMatch(/STANDIN/);
    expect(fs.readdirSync(path.join(keepDir, "consoles")).sort()).toEqual([`${name}-agent-0.log`, `${server}.log`]);
    const config = path.join(keepDir, "cloud-configs", `${server}.yaml`);
    expect(fs.readFileSync(config, "utf8")).toMatch(/^#cloud-config/);
    expect(fs.statSync(config).mode & 0o777).toBe(0o600);
    const state = JSON.parse(fs.readFileSync(path.join(keepDir, "state.json"), "utf8")) as Array<{ type: string }>;
    expect(state.map((e) => e.type.split(":").pop())).toEqual(expect.arrayContaining(["Network", "Domain", "ClusterSecrets"]));
    expect(fs.statSync(path.join(keepDir, "state.json")).mode & 0o777).toBe(0o600);
    // Kept: still there, and no longer this process's to destroy; its private folder stays, empty,
    // as the state marker that keeps the reaper off it until it expires (the remove command deletes it).
    expect((await leftOver(name)).filter((l) => l.startsWith("domain "))).toHaveLength(2);
    expect(cleanup.size).toBe(0);
    expect(privateDirsOf(name)).toHaveLength(1);
    expect(err!.removeCommand).toContain(path.join(os.tmpdir(), privateDirsOf(name)[0]));
    expect(await reap({ uri: LOCAL.uri, dryRun: true, filter: (c) => c.cluster === name })).toMatchObject({ reaped: [] });
  } finally {
    await o.engine.destroy();
    for (const d of privateDirsOf(name)) fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  }
  expect(await leftOver(name)).toEqual([]);
}, 1_200_000);
