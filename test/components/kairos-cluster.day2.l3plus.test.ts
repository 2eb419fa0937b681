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
 * - One agent's own config change touches that node only.
 * - A domain stopped by hand: refresh reports it, up starts it and waits until it is Ready.
 * - server-0 replaced (a fresh disk): the agents' configs and machines are untouched.
 * - agents 2 -> 1: the agent is cordoned, drained and deleted from Kubernetes before its VM goes.
 * - A create killed mid-way (the provider process dies): the next up removes what it left.
 */
import { createHash, randomBytes } from "crypto";
import { KairosCluster } from "../../components/kairos-cluster";
import { run as exec } from "../../providers/exec";
import { readDomain } from "../../providers/libvirt/driver";
import { Day2Cluster, Knobs, useDay2Cluster } from "../harness/day2-cluster";
import { InterruptedRun, ProgramRun, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { outputValue as value } from "../harness/mocks";
import { LOCAL } from "../providers/libvirt/env";

const lab = useDay2Cluster("kairos-day2-");
let c: Day2Cluster;
/** The cluster's name, the stand-in disk and the pool (the killed-create test makes a second cluster). */
let id: string;
let guestDisk: string;
let poolName: string;
/** Shorthands into the one cluster every step changes. */
let names: string[];
let prefix: string;
const up = (k: Knobs = {}, parallel = false) => c.up({ ...k, parallel });
const of = (r: ProgramRun, kind: string) => c.of(kind, r);
const consoleOf = (node: string) => c.consoleOf(node);
const ssh = (address: string, command: string) => c.ssh(address, command);
const serverCalls = () => c.serverCalls();
const untilListed = (node: string, status: string, timeoutMs?: number) => c.untilListed(node, status, timeoutMs);

/** Where the earlier steps left the program. */
const DAY2: Knobs = { extraConfig: { runcmd: ["echo day-2"] }, memoryMiB: 320 };

const stepsOf = (r: ProgramRun, kind: string) => r.steps.filter((s) => s.type.endsWith(`:${kind}`)).map((s) => `${s.op} ${s.name}`);
/** What a run changed (every step but "same"), as "<op> <name>". */
const changedSteps = (r: ProgramRun) => r.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);

beforeAll(async () => {
  c = lab();
  ({ id, guestDisk, pool: poolName } = c.o);
  names = c.names;
  prefix = c.prefix;
}, 180_000);

describe("KairosCluster on day 2 (L3+, stand-in guests, engine semantics over saved state)", () => {
  test("created: 1 server + 2 agents that joined the server at its reserved address with the cluster token", async () => {
    const r = await up();
    expect(stepsOf(r, "Domain")).toEqual(names.map((n) => `create ${n}`));
    const nodes = await value(c.cluster.nodes);
    expect(nodes.map((n) => n.address)).toEqual([`${prefix}10`, `${prefix}11`, `${prefix}12`]);
    for (const n of names) expect(consoleOf(n).k3sJoined).toEqual({ server: n === names[0] ? "127.0.0.1" : `${prefix}10`, role: n === names[0] ? "server" : "agent" });
  }, 900_000);

  test("a stack rename renames nothing: every resource is the same", async () => {
    const r = await up({ stack: "renamed" });
    expect(r.steps.filter((s) => s.op !== "same")).toEqual([]);
  }, 600_000);

  test("a config change is applied in place, one node at a time, servers first: drained, rebooted with the config from /oem, Ready, uncordoned", async () => {
    const uuids = of(c.last!, "Domain").map((e) => e.id).sort();
    const r = await up({ extraConfig: { runcmd: ["echo day-2"] } }, true);
    // Nothing is rebuilt: a new cidata volume (a reinstall would read it) is swapped into each VM.
    expect(stepsOf(r, "Domain").sort()).toEqual(names.map((n) => `update ${n}`).sort());
    expect(stepsOf(r, "NodeDisk").every((s) => s.startsWith("same"))).toBe(true);
    expect(stepsOf(r, "NodeConfig")).toEqual(names.map((n) => `update ${n}-config`));
    expect(of(r, "Domain").map((e) => e.id).sort()).toEqual(uuids);
    expect((await value(c.cluster.nodes)).map((n) => n.address)).toEqual([`${prefix}10`, `${prefix}11`, `${prefix}12`]);

    const configs = await value(c.cluster.cloudConfigs);
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
    expect(await serverCalls()).toEqual(calls);
    const listed = await ssh(`${prefix}10`, "sudo k3s kubectl get nodes --no-headers");
    for (const n of names) expect(listed).toMatch(new RegExp(`^${n}\\s+Ready\\s`, "m"));
  }, 1_200_000);

  test("more memory is an in-place update and a rolling power cycle: same VMs, new size", async () => {
    const uuids = of(c.last!, "Domain").map((e) => e.id).sort();
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

  test("one agent's own config changed: only that node is touched, and after its reboot its /oem holds the new config", async () => {
    const callsBefore = (await serverCalls()).length;
    const bootsBefore = names.map((n) => consoleOf(n).boots);
    const configsBefore = await value(c.cluster.cloudConfigs);
    const agent = names[2];
    const r = await up({ ...DAY2, nodeExtraConfig: { [agent]: { runcmd: ["echo only-this-agent"] } } }, true);
    expect(changedSteps(r).length).toBeGreaterThan(0);
    for (const step of changedSteps(r)) expect(step).toMatch(new RegExp(` ${agent}(-|$)`));
    expect(stepsOf(r, "NodeConfig")).toContain(`update ${agent}-config`);
    expect(stepsOf(r, "Domain")).toContain(`update ${agent}`); // the new cidata volume swapped in, no new VM
    const configs = await value(c.cluster.cloudConfigs);
    for (const n of names.slice(0, 2)) expect(configs[n]).toBe(configsBefore[n]);
    expect(names.map((n) => consoleOf(n).boots)).toEqual([bootsBefore[0], bootsBefore[1], bootsBefore[2] + 1]);
    expect(consoleOf(agent).config?.sha256).toBe(createHash("sha256").update(configs[agent]).digest("hex"));
    expect(await ssh(`${prefix}12`, "sudo cat /oem/99_pulumi-kairos.yaml")).toContain("echo only-this-agent");
    expect((await serverCalls()).slice(callsBefore)).toEqual([`cordon ${agent}`, `drain ${agent}`, `uncordon ${agent}`]);
  }, 900_000);

  test("a domain stopped by hand: refresh reports it, up starts it again and waits until the node is Ready", async () => {
    const knobs = { ...DAY2, nodeExtraConfig: { [names[2]]: { runcmd: ["echo only-this-agent"] } } };
    const agent = of(c.last!, "Domain").find((e) => e.name === names[1])!;
    await exec(["virsh", "-c", LOCAL.uri, "destroy", agent.id]);
    await untilListed(names[1], "NotReady");
    const r = await up({ ...knobs, refresh: true });
    for (const n of [`${id}-ready`, names[1]]) expect(r.refreshed.find((x) => x.name === n)).toMatchObject({ changed: true, gone: false });
    expect(changedSteps(r).sort()).toEqual([`update ${id}-ready`, `update ${names[1]}`].sort());
    expect((await readDomain(LOCAL, agent.id))?.state).toBe("running");
    expect(of(r, "ClusterReady")[0].outputs.notReady).toEqual([]);
    await untilListed(names[1], "Ready", 10_000);
  }, 900_000);

  test("server-0 replaced (a fresh disk): the agents' configs and machines are untouched, and the cluster is Ready again", async () => {
    const knobs = { ...DAY2, nodeExtraConfig: { [names[2]]: { runcmd: ["echo only-this-agent"] } } };
    const configsBefore = await value(c.cluster.cloudConfigs);
    const server = of(c.last!, "Domain").find((e) => e.name === names[0])!;
    const r = await up({ ...knobs, replace: [`${names[0]}-disk`] });
    expect(stepsOf(r, "NodeDisk")).toContain(`replace ${names[0]}-disk`);
    expect(stepsOf(r, "Domain")).toContain(`replace ${names[0]}`);
    for (const step of changedSteps(r)) expect(step).toMatch(new RegExp(` (${names[0]}(-|$)|${id}-ready$)`));
    const configs = await value(c.cluster.cloudConfigs);
    for (const n of names.slice(1)) expect(configs[n]).toBe(configsBefore[n]);
    const fresh = of(r, "Domain").find((e) => e.name === names[0])!;
    expect(fresh.id).not.toBe(server.id);
    expect((await value(c.cluster.nodes))[0].address).toBe(`${prefix}10`); // the reserved address
    expect(consoleOf(names[0]).boots).toBe(1);
    for (const n of names) await untilListed(n, "Ready", 10_000);
  }, 900_000);

  test("agents 2 -> 1: the agent is cordoned, drained and deleted from Kubernetes before its VM is deleted", async () => {
    const gone = names[2];
    const vm = of(c.last!, "Domain").find((e) => e.name === gone)!;
    const r = await up({ ...DAY2, agents: 1 });
    expect(stepsOf(r, "ClusterReady")).toEqual([`update ${id}-ready`]); // not replaced: the kubeconfig and provider stay
    const at = (step: string) => r.steps.findIndex((s) => `${s.op} ${s.name}` === step);
    expect(at(`delete ${gone}`)).toBeGreaterThan(at(`update ${id}-ready`));
    expect(changedSteps(r).filter((x) => !x.includes(gone)).sort()).toEqual([`update ${id}-network`, `update ${id}-ready`].sort());
    expect((await serverCalls()).slice(-3)).toEqual([`cordon ${gone}`, `drain ${gone}`, `delete ${gone}`]);
    expect(r.host.output()).toContain(`kairos: ${gone}: removed from the cluster and powered off`);
    expect(await readDomain(LOCAL, vm.id)).toBeUndefined();
    // Deleted only once its machine was off: a running k3s would register its Node again within
    // a heartbeat (3 s), so it must still be missing well after that.
    await untilListed(gone, "missing", 10_000);
    await new Promise((r) => setTimeout(r, 8000));
    await untilListed(gone, "missing", 0);
    await untilListed(names[1], "Ready", 10_000);
  }, 900_000);

  test("a create killed mid-way (the provider process dies): the next up removes what it left, and nothing leaks", async () => {
    const id2 = `${id}k`;
    const cidr2 = `10.218.${1 + (randomBytes(1)[0] % 250)}.0/24`;
    const program = () => {
      new KairosCluster(id2, {
        image: { kind: "disk", path: guestDisk },
        target: { kind: "libvirt", uri: LOCAL.uri, pool: poolName, network: { kind: "create", mode: "isolated", cidr: cidr2 }, vcpus: 1, memoryMiB: 256, diskGiB: 1, domainType: "qemu" },
        servers: 1, agents: 0, timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 180 },
      });
    };
    const hostOpts = { env: { HOME: c.o.scratch, TMPDIR: c.o.scratch }, callTimeoutMs: 900_000, timeoutMs: 1_500_000, settleMs: 3000 };
    const ours = async () => {
      const list = async (args: string[]) => (await exec(["virsh", "-q", "-c", LOCAL.uri, ...args])).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n.includes(id2));
      return { domains: await list(["list", "--all", "--name"]), networks: await list(["net-list", "--all", "--name"]), volumes: await list(["vol-list", "--pool", poolName]) };
    };
    // Killed while the server's VM boots: libvirt has the domain, the engine never got its id.
    const killed = await runProgramWithDynamicProviders(program, { ...hostOpts, interruptWhen: async () => (await ours()).domains.length > 0 })
      .then(() => undefined, (e: Error) => e);
    expect(killed).toBeInstanceOf(InterruptedRun);
    const saved = (killed as InterruptedRun).state;
    expect(saved.map((e) => e.type.split(":").pop())).not.toContain("Domain");
    const orphan = (await ours()).domains;
    expect(orphan).toHaveLength(1);
    const orphanUuid = (await exec(["virsh", "-c", LOCAL.uri, "domuuid", orphan[0]])).stdout.trim();

    const again = await runProgramWithDynamicProviders(program, { ...hostOpts, priorState: saved });
    try {
      expect(again.host.output()).toContain(`kairos: removed domain '${orphan[0]}' on ${LOCAL.uri}, left by a create that was interrupted`);
      const now = await ours();
      const inState = (kind: string) => of(again, kind).map((e) => String(e.outputs.name));
      expect(now.domains).toEqual(inState("Domain"));
      // Same name (names are derived from the cluster's), another machine: the orphan is gone.
      expect(of(again, "Domain").map((e) => e.id)).not.toContain(orphanUuid);
      expect(await readDomain(LOCAL, orphanUuid)).toBeUndefined();
      expect(now.networks).toEqual(inState("Network"));
      expect(now.volumes.sort()).toEqual([...inState("BaseImageVolume"), ...inState("NodeDisk"), ...inState("CidataVolume")].sort());
    } finally {
      await again.destroy();
    }
    expect(await ours()).toEqual({ domains: [], networks: [], volumes: [] });
  }, 1_200_000);
});
