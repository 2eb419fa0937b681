/**
 * L3+ day 2: one KairosCluster (1 server + 2 agents of STAND-IN GUESTS, test fixtures that behave
 * like Kairos where it matters here: cidata read once, config kept in /oem, reboots, a server that
 * lists only the nodes that joined it with its address and token) created, then run again over its
 * saved state with the engine's semantics (test/harness: same/update/replace, create-before-delete,
 * deletes last), steps of independent resources in parallel as the engine runs them.
 *
 * - A config change reaches every running node in place: written to /oem, drained, rebooted,
 *   Ready, uncordoned, one node at a time, servers first; no VM, disk or address is replaced.
 * - More memory is an in-place update and a rolling power cycle; the VMs keep their UUIDs.
 * - A stack rename renames nothing.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { KairosCluster } from "../../components/kairos-cluster";
import { run as exec } from "../../providers/exec";
import { readDomain } from "../../providers/libvirt/driver";
import { buildStandInGuest } from "../fixtures/standin-guest/build";
import { parseStandInConsole } from "../fixtures/standin-guest/console";
import { ProgramRun, StateEntry, privateTempDir, reveal, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd, runId } from "../providers/libvirt/env";
import { outputValue as value } from "../harness/mocks";
import { createHash } from "crypto";

const id = runId();
const scratch = privateTempDir("kairos-day2-");
const cidr = `10.217.${1 + (randomBytes(1)[0] % 250)}.0/24`;
const prefix = cidr.replace(/0\/24$/, "");
const names = [`${id}-server-0`, `${id}-agent-0`, `${id}-agent-1`];
let pool: TestPool | undefined;
let guestDisk = "";
let last: ProgramRun | undefined;
let cluster: KairosCluster;

interface Knobs { memoryMiB?: number; extraConfig?: Record<string, unknown>; stack?: string }

/** Runs the program over the last run's state, as the next `pulumi up` would. */
async function up(k: Knobs = {}, parallel = false): Promise<ProgramRun> {
  const prior: readonly StateEntry[] | undefined = last?.state;
  await last?.stop();
  last = await runProgramWithDynamicProviders(() => {
    cluster = new KairosCluster(id, {
      image: { kind: "disk", path: guestDisk },
      target: {
        kind: "libvirt", uri: LOCAL.uri, pool: pool!.name, network: { kind: "create", mode: "isolated", cidr },
        vcpus: 1, memoryMiB: k.memoryMiB ?? 256, diskGiB: 1, domainType: "qemu",
      },
      servers: 1,
      agents: 2,
      extraConfig: k.extraConfig,
      rollout: { drainTimeoutSeconds: 60 },
      timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 180 },
    });
  }, {
    priorState: prior, parallel, stack: k.stack ?? "test",
    env: { HOME: scratch.dir, TMPDIR: scratch.dir }, callTimeoutMs: 900_000, timeoutMs: 1_500_000, settleMs: 3000,
  });
  return last;
}

const of = (r: ProgramRun, kind: string) => r.state.filter((e) => e.type.endsWith(`:${kind}`));
const stepsOf = (r: ProgramRun, kind: string) => r.steps.filter((s) => s.type.endsWith(`:${kind}`)).map((s) => `${s.op} ${s.name}`);
const consoleOf = (node: string) => {
  const dom = of(last!, "Domain").find((e) => e.name === node)!;
  return parseStandInConsole(fs.readFileSync(String(dom.outputs.serialLogFile), "utf8"));
};

/** Runs a command on a node as the admin user, with the cluster's key. */
async function ssh(address: string, command: string): Promise<string> {
  const secrets = of(last!, "ClusterSecrets")[0];
  const key = path.join(scratch.dir, "id");
  fs.writeFileSync(key, reveal<string>(secrets.outputs.sshPrivateKey), { mode: 0o600 });
  const r = await exec(["ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", `kairos-admin@${address}`, command], { timeoutMs: 60_000 });
  return r.stdout;
}

beforeAll(async () => {
  await ensureLibvirtd();
  guestDisk = (await buildStandInGuest()).diskImage;
  pool = await createTestPool(LOCAL, `${id}-pool`);
}, 180_000);

afterAll(async () => {
  await last?.destroy().catch(() => undefined);
  await pool?.remove();
  scratch.remove();
}, 600_000);

describe("KairosCluster on day 2 (L3+, stand-in guests, engine semantics over saved state)", () => {
  test("created: 1 server + 2 agents that joined the server at its reserved address with the cluster token", async () => {
    const r = await up();
    expect(stepsOf(r, "Domain")).toEqual(names.map((n) => `create ${n}`));
    const nodes = await value(cluster.nodes);
    expect(nodes.map((n) => n.address)).toEqual([`${prefix}10`, `${prefix}11`, `${prefix}12`]);
    for (const n of names) expect(consoleOf(n).k3sJoined).toEqual({ server: n === names[0] ? "127.0.0.1" : `${prefix}10`, role: n === names[0] ? "server" : "agent" });
  }, 900_000);

  test("a stack rename renames nothing: every resource is the same", async () => {
    const r = await up({ stack: "renamed" });
    expect(r.steps.filter((s) => s.op !== "same")).toEqual([]);
  }, 600_000);

  test("a config change is applied in place, one node at a time, servers first: drained, rebooted with the config from /oem, Ready, uncordoned", async () => {
    const uuids = of(last!, "Domain").map((e) => e.id).sort();
    const r = await up({ extraConfig: { runcmd: ["echo day-2"] } }, true);
    // Nothing is rebuilt: a new cidata volume (a reinstall would read it) is swapped into each VM.
    expect(stepsOf(r, "Domain").sort()).toEqual(names.map((n) => `update ${n}`).sort());
    expect(stepsOf(r, "NodeDisk").every((s) => s.startsWith("same"))).toBe(true);
    expect(stepsOf(r, "NodeConfig")).toEqual(names.map((n) => `update ${n}-config`));
    expect(of(r, "Domain").map((e) => e.id).sort()).toEqual(uuids);
    expect((await value(cluster.nodes)).map((n) => n.address)).toEqual([`${prefix}10`, `${prefix}11`, `${prefix}12`]);

    const configs = await value(cluster.cloudConfigs);
    for (const n of names) {
      const c = consoleOf(n);
      expect(c.boots).toBe(2);
      expect(c.datasourceSkipped).toBe(true); // cidata is not read again
      expect(c.config).toEqual({ file: "99_pulumi-kairos.yaml", sha256: createHash("sha256").update(configs[n]).digest("hex") });
      expect(configs[n]).toContain("echo day-2");
    }
    // One node at a time, in rollout order: each is done before the next is cordoned.
    const progress = r.host.output().split("\n").filter((l) => /kairos: \S+: (cordon and drain|done)/.test(l))
      .map((l) => l.replace(/^.*kairos: (\S+): (cordon and drain|done).*$/, "$2 $1"));
    expect(progress).toEqual(names.flatMap((n) => [`cordon and drain ${n}`, `done ${n}`]));
    // What the server saw: cordoned and drained before, uncordoned after, node by node.
    const calls = (await ssh(`${prefix}10`, "cat /var/lib/rancher/k3s/standin/calls.log")).split("\n")
      .map((l) => l.split(" ").slice(1).join(" ")).filter((l) => /^(cordon|drain|uncordon) /.test(l));
    expect(calls).toEqual(names.flatMap((n) => [`cordon ${n}`, `drain ${n}`, `uncordon ${n}`]));
    const listed = await ssh(`${prefix}10`, "sudo k3s kubectl get nodes --no-headers");
    for (const n of names) expect(listed).toMatch(new RegExp(`^${n}\\s+Ready\\s`, "m"));
  }, 1_200_000);

  test("more memory is an in-place update and a rolling power cycle: same VMs, new size", async () => {
    const uuids = of(last!, "Domain").map((e) => e.id).sort();
    const r = await up({ extraConfig: { runcmd: ["echo day-2"] }, memoryMiB: 320 }, true);
    expect(stepsOf(r, "Domain").sort()).toEqual(names.map((n) => `update ${n}`).sort());
    expect(stepsOf(r, "NodeConfig")).toEqual(names.map((n) => `update ${n}-config`));
    expect(of(r, "Domain").map((e) => e.id).sort()).toEqual(uuids);
    for (const uuid of uuids) {
      const info = (await exec(["virsh", "-c", LOCAL.uri, "dominfo", uuid])).stdout;
      expect(info).toMatch(/Max memory:\s+327680 KiB/);
      expect((await readDomain(LOCAL, uuid))?.state).toBe("running");
    }
    expect(r.host.output()).toMatch(/power cycle \(new hardware settings\)/);
  }, 1_200_000);
});
