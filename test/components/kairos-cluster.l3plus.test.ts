/**
 * L3+ end to end: a program with a real KairosCluster (1 server + 2 agents) whose dynamic resources
 * are all created for real through Pulumi's dynamic-provider host, in registration order, as
 * `pulumi up` would: the secrets, a base volume from the STAND-IN GUEST disk (test fixture, not
 * Kairos), an isolated network the component creates, a disk, cidata volume and qemu domain per
 * node on qemu:///system, then ClusterReady against the guests' SSH and their k3s stub. Asserts
 * every node got an address on that network, the kubeconfig points at the server's address, and
 * destroy (reverse order) leaves no domain, volume or network. 256 MiB / 1 vCPU, bounded waits.
 */
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { run as exec } from "../../providers/exec";
import { KairosCluster } from "../../components/kairos-cluster";
import { ProgramRun, isSecret, reveal, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { useStandInLab } from "../harness/standin-lab";
import { LOCAL } from "../providers/libvirt/env";
import { outputValue as value } from "../harness/mocks";

let program: ProgramRun | undefined;
const lab = useStandInLab("kairos-l3plus-cluster-", { beforeRemove: async () => { await program?.destroy(); } }); // the test asserts a clean destroy itself
const id = lab.id;

/** Every libvirt object whose name mentions this run's id. */
async function objectsOfRun(): Promise<string[]> {
  const names = async (args: string[]) => (await exec(["virsh", "-q", "-c", LOCAL.uri, ...args], { allowFailure: true })).stdout
    .split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n && n.includes(id));
  return [
    ...(await names(["list", "--all", "--name"])).map((n) => `domain ${n}`),
    ...(await names(["net-list", "--all", "--name"])).map((n) => `network ${n}`),
    ...(await names(["vol-list", "--pool", lab.pool])).map((n) => `volume ${n}`),
  ];
}

describe("KairosCluster end to end on libvirt with stand-in guests (L3+)", () => {
  it("boots 1 server + 2 agents, waits until ready, returns the kubeconfig, and destroys everything", async () => {
    const cidr = `10.215.${1 + (randomBytes(1)[0] % 250)}.0/24`;
    const names = [`${id}-server-0`, `${id}-agent-0`, `${id}-agent-1`];
    let cluster!: KairosCluster;
    program = await runProgramWithDynamicProviders(() => {
      cluster = new KairosCluster(id, {
        image: { kind: "disk", path: lab.guestDisk },
        target: {
          kind: "libvirt", uri: LOCAL.uri, pool: lab.pool, network: { kind: "create", mode: "isolated", cidr },
          vcpus: 1, memoryMiB: 256, diskGiB: 1, domainType: "qemu",
        },
        servers: 1,
        agents: 2,
        timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 120 },
      });
    }, { env: { HOME: lab.scratch, TMPDIR: lab.scratch }, callTimeoutMs: 420_000, timeoutMs: 1_200_000, settleMs: 3000 });

    const types = program.created.map((r) => `${r.type.split(":").pop()}:${r.name}`);
    expect(types).toEqual(expect.arrayContaining([
      `ClusterSecrets:${id}-secrets-secrets`, `BaseImageVolume:${id}-base`, `Network:${id}-network`,
      ...names.flatMap((n) => [`NodeDisk:${n}-disk`, `CidataVolume:${n}-cidata`, `Domain:${n}`]),
      `ClusterReady:${id}-ready`,
    ]));
    // Readiness after every machine; then each node's NodeConfig (the config as applied).
    expect(types.indexOf(`ClusterReady:${id}-ready`)).toBeGreaterThan(Math.max(...names.map((n) => types.indexOf(`Domain:${n}`))));
    expect(types.slice(-3).sort()).toEqual(names.map((n) => `NodeConfig:${n}-config`).sort());
    expect(program.mocked.map((m) => m.type)).toEqual(expect.arrayContaining(["kairos:index:KairosCluster", "kairos:index:ClusterSecrets", "pulumi:providers:kubernetes"]));

    const nodes = await value(cluster.nodes);
    const prefix = cidr.split(".").slice(0, 3).join(".") + ".";
    expect(nodes.map((n) => n.name)).toEqual(names);
    for (const n of nodes) expect(n.address.startsWith(prefix)).toBe(true);
    const server = nodes[0].address;
    const kubeconfig = await value(cluster.kubeconfig);
    expect(kubeconfig).toContain(`server: https://${server}:6443`);
    expect(await value(cluster.apiEndpoint)).toBe(`https://${server}:6443`);
    expect(await pulumi.isSecret(cluster.kubeconfig)).toBe(true);
    const ready = program.created.find((r) => r.type.endsWith(":ClusterReady"))!;
    expect(isSecret(ready.outputs.kubeconfig)).toBe(true);
    expect(reveal<string[]>(ready.outputs.readyNodes)).toEqual(names);
    expect(program.host.output()).not.toContain("PRIVATE KEY");

    expect((await objectsOfRun()).length).toBeGreaterThanOrEqual(3 + 1 + 7); // domains, network, volumes
    const run = program;
    program = undefined;
    await run.destroy();
    expect(await objectsOfRun()).toEqual([]);
  }, 1_200_000);
});
