/**
 * L1: KairosCluster under Pulumi's mocks. The mocks answer the libvirt dynamic resources with
 * plausible outputs (a DHCP address per domain, a content-addressed cidata volume name) and
 * ClusterReady with a kubeconfig for the endpoint it was given. Asserts the resource graph, parents,
 * secrets, outputs for 1 node, 3 servers + 2 agents with a VIP and 5 p2p nodes, that only joining
 * nodes wait for the first server, that changing one node's config replaces only that node, and
 * the bad-input table with exact messages.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { generateNetworkToken } from "../../kairos/edgevpn";
import type { KairosCluster as KairosClusterT, KairosClusterArgs } from "../../components/kairos-cluster";
import { nodeExtraConfigIssues, resolvedK3sIssues, validateInputArgs } from "../../components/cluster/args";
import { outputValue as value, recordDependencies, settleThenDisconnect } from "../harness/mocks";

interface Registered { type: string; name: string; inputs: Record<string, any>; parent?: string }
const registered: Registered[] = [];
const T = (m: string, t: string) => `pulumi-nodejs:dynamic/${m}:${t}`;
const NETWORK_TOKEN = generateNetworkToken();
const FAKE_SECRETS = { networkToken: NETWORK_TOKEN, k3sToken: "k3s-mock-token-0123456789", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n", sshPublicKey: "ssh-ed25519 AAAAmockkey pulumi-kairos" };
const SIG = "4dabf18193072939515e22adb298388d";
const plain = (v: any): any => (v && typeof v === "object" && SIG in v ? v.value : v);
/** Same node name, same lease: a re-run of a program sees the addresses it saw before. */
const leases = new Map<string, string>();
/** A created network's reservations: the address dnsmasq hands each fixed MAC. */
const reserved = new Map<string, string>();
const leaseFor = (node: string, mac?: string) => {
  if (mac && reserved.has(mac)) return reserved.get(mac)!;
  if (!leases.has(node)) leases.set(node, `10.9.1.${10 + leases.size}`);
  return leases.get(node)!;
};

function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case T("kairos-secrets", "ClusterSecrets"):
      return { ...inputs, ...FAKE_SECRETS };
    case T("kairos-libvirt", "Network"):
      for (const h of inputs.hosts ?? []) reserved.set(h.mac, h.ip);
      return { ...inputs, name: inputs.name ?? `net-${inputs.cluster}`, bridge: "virbr9", owned: inputs.mode !== "existing" };
    case T("kairos-libvirt", "BaseImageVolume"):
      return { ...inputs, name: `base-${inputs.cluster}`, sha256: "ab".repeat(32), format: "raw", path: "/pool/base", capacityBytes: 1 << 30 };
    case T("kairos-libvirt", "NodeDisk"):
      return { ...inputs, name: `${inputs.node}-disk`, path: `/pool/${inputs.node}-disk`, capacityBytes: 1 << 30, backingPath: inputs.baseVolume ? "/pool/base" : "" };
    case T("kairos-libvirt", "CidataVolume"): {
      const sha = createHash("sha256").update(plain(inputs.userData)).digest("hex");
      return { ...inputs, name: `${inputs.node}-cidata-${sha.slice(0, 8)}`, path: `/pool/${inputs.node}-cidata`, userDataSha256: sha };
    }
    case T("kairos-libvirt", "Domain"):
      return { ...inputs, name: `test-${inputs.node}`, resolvedDomainType: "qemu", uuid: `uuid-${name}`, macAddress: "52:54:00:00:00:01", address: leaseFor(inputs.node, inputs.mac), addressSource: "lease", serialLogFile: `/var/log/${name}.log` };
    case T("kairos-readiness", "ClusterReady"): {
      const host = inputs.endpoint || "10.9.0.99";
      return { ...inputs, kubeconfig: `apiVersion: v1\nclusters:\n- cluster:\n    server: https://${host}:6443\n`, apiEndpoint: `https://${host}:6443`, hostKeys: {}, readyNodes: inputs.nodes.map((n: any) => n.name) };
    }
    case T("kairos-lifecycle", "NodeConfig"):
      return { ...inputs, os: { kairosVersion: "v4.2.0", flavor: "hadron", bootState: "active_boot", k3sVersion: "v1.36.3+k3s1" } };
    default:
      return inputs;
  }
}

let KairosCluster: typeof KairosClusterT;
let dependencies: Map<string, string[]>;
let lastRegistration = Date.now();

beforeAll(async () => {
  await pulumi.runtime.setMocks({
    newResource(args) {
      lastRegistration = Date.now();
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, parent: (args as any).parent });
      return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
    },
    call: (args) => args.inputs,
  }, "pulumi-kairos", "test", false);
  dependencies = recordDependencies();
  ({ KairosCluster } = await import("../../components/kairos-cluster"));
});

afterAll(() => settleThenDisconnect(() => lastRegistration), 90_000);

const monitorUrns = (): string[] => [...((pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> }).resources.keys())];
const IMAGE = { kind: "disk" as const, path: "/images/kairos.raw" };
const LIBVIRT = { kind: "libvirt" as const, network: { kind: "create" as const, mode: "isolated" as const, cidr: "10.9.0.0/24" }, domainType: "qemu" as const };
const of = (cluster: string, type: string) => registered.filter((r) => r.type === type && (r.inputs.cluster === cluster || r.name.startsWith(cluster)));

/** Waits until every output of the cluster resolved (so every resource was registered). */
async function settle(c: KairosClusterT) {
  return { nodes: await value(c.nodes), kubeconfig: await value(c.kubeconfig), apiEndpoint: await value(c.apiEndpoint), cloudConfigs: await value(c.cloudConfigs) };
}

describe("KairosCluster on libvirt (L1, mocks)", () => {
  it("1 server: secrets, base volume, network, disk + cidata + domain, readiness and a k8s provider, all under the component", async () => {
    const c = new KairosCluster("one", { image: IMAGE, target: LIBVIRT });
    const out = await settle(c);
    await value(c.kubernetesProvider!.urn);
    expect(out.nodes).toEqual([{ name: "one-server-0", role: "server", address: expect.stringMatching(/^10\.9\.0\./), macAddress: "52:54:00:00:00:01", domainName: "test-one-server-0" }]);
    const urns = monitorUrns().filter((u) => u.includes("::one"));
    const comp = "urn:pulumi:test::pulumi-kairos::kairos:index:KairosCluster";
    expect(urns).toEqual(expect.arrayContaining([
      `${comp}::one`,
      `${comp}$kairos:index:ClusterSecrets::one-secrets`,
      `${comp}$${T("kairos-libvirt", "BaseImageVolume")}::one-base`,
      `${comp}$${T("kairos-libvirt", "Network")}::one-network`,
      `${comp}$${T("kairos-libvirt", "NodeDisk")}::one-server-0-disk`,
      `${comp}$${T("kairos-libvirt", "CidataVolume")}::one-server-0-cidata`,
      `${comp}$${T("kairos-libvirt", "Domain")}::one-server-0`,
      `${comp}$${T("kairos-readiness", "ClusterReady")}::one-ready`,
      `${comp}$pulumi:providers:kubernetes::one-k8s`,
    ]));
    expect(out.apiEndpoint).toBe(`https://${out.nodes[0].address}:6443`);
    expect(out.kubeconfig).toContain(`server: https://${out.nodes[0].address}:6443`);
    expect(out.cloudConfigs["one-server-0"]).toMatch(/^#cloud-config\n/);
    expect(out.cloudConfigs["one-server-0"]).toContain("ssh-ed25519 AAAAmockkey pulumi-kairos");
    expect(out.cloudConfigs["one-server-0"]).not.toContain("install:"); // disk image: no installer
    const dom = of("one", T("kairos-libvirt", "Domain"))[0].inputs;
    expect(dom).toMatchObject({ vcpus: 2, memoryMiB: 4096, firmware: "bios", domainType: "qemu", uri: "qemu:///system", pool: "default", network: "net-one", diskVolume: "one-server-0-disk" });
    expect(dom.installIsoVolume).toBeUndefined();
    expect(of("one", T("kairos-libvirt", "NodeDisk"))[0].inputs).toMatchObject({ baseVolume: "base-one", sizeGiB: 40 });
    expect(of("one", T("kairos-libvirt", "Network"))[0].inputs).toMatchObject({ mode: "isolated", cidr: "10.9.0.0/24" });
    // A stable identity: a renewed kubeconfig or nodes joining update the provider, never replace it.
    expect(of("one", "pulumi:providers:kubernetes")[0].inputs.clusterIdentifier).toBe("kairos-one");
    expect(of("one", T("kairos-readiness", "ClusterReady"))[0].inputs).toMatchObject({ contextName: "kairos-one", drain: { timeoutSeconds: 300, force: false } });
    // New cluster tokens rebuild a node's disk (a running node cannot take them); NodeConfig then only records.
    const secretsDigest = of("one", T("kairos-libvirt", "NodeDisk"))[0].inputs.rebuildDigest;
    expect(secretsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(of("one", T("kairos-lifecycle", "NodeConfig"))[0].inputs).toMatchObject({ secretsDigest, machineId: "uuid-one-server-0" });
  });

  it("keeps tokens, key, kubeconfig and cloud-configs secret, and sends user-data to the cidata volume as a secret", async () => {
    const c = new KairosCluster("sec", { image: IMAGE, target: LIBVIRT });
    await settle(c);
    for (const o of [c.kubeconfig, c.k3sToken, c.networkToken, c.sshPrivateKey, c.cloudConfigs] as pulumi.Output<unknown>[]) expect(await pulumi.isSecret(o)).toBe(true);
    expect(await pulumi.isSecret(c.sshPublicKey)).toBe(false);
    expect(await pulumi.isSecret(c.nodes)).toBe(false);
    expect(of("sec", T("kairos-libvirt", "CidataVolume"))[0].inputs.userData[SIG]).toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(of("sec", T("kairos-readiness", "ClusterReady"))[0].inputs.privateKey[SIG]).toBe("1b47061264138c4ac30d75fd1eb44270");
  });

  it("3 servers + 2 agents with a VIP: cluster-init on the first, joining servers get its address, agents the VIP, no placeholder left", async () => {
    const c = new KairosCluster("ha", { image: IMAGE, target: LIBVIRT, servers: 3, agents: 2, k3s: { vip: "10.9.0.250" } });
    const out = await settle(c);
    expect(out.nodes.map((n) => `${n.name}:${n.role}`)).toEqual(["ha-server-0:init", "ha-server-1:server", "ha-server-2:server", "ha-agent-0:agent", "ha-agent-1:agent"]);
    const first = out.nodes[0].address;
    expect(out.cloudConfigs["ha-server-0"]).toContain("--cluster-init");
    expect(out.cloudConfigs["ha-server-1"]).toContain(`--server=https://${first}:6443`);
    expect(out.cloudConfigs["ha-agent-0"]).toContain("https://10.9.0.250:6443");
    expect(out.cloudConfigs["ha-agent-0"]).not.toContain(first);
    expect(out.cloudConfigs["ha-server-0"]).toContain("--tls-san=10.9.0.250");
    expect(out.apiEndpoint).toBe("https://10.9.0.250:6443");
    for (const cfg of Object.values(out.cloudConfigs)) expect(cfg).not.toContain("endpoint.kairos.invalid");
    const ready = of("ha", T("kairos-readiness", "ClusterReady"))[0].inputs;
    expect(ready.endpoint).toBe("10.9.0.250");
    expect(ready.mode).toBe("explicit");
    expect(ready.nodes.map((n: any) => n.name)).toEqual(out.nodes.map((n) => n.name));
    expect(ready.nodes[0].consoleLogFile).toBe("/var/log/ha-server-0.log");
  });

  it("a network the cluster creates reserves every node's address for its fixed MAC: joining nodes know the first server's address up front", async () => {
    const c = new KairosCluster("fx", { image: IMAGE, target: LIBVIRT, servers: 1, agents: 2 });
    const out = await settle(c);
    const net = of("fx", T("kairos-libvirt", "Network"))[0].inputs;
    expect(net.hosts).toEqual(["fx-server-0", "fx-agent-0", "fx-agent-1"].map((name, i) => ({
      name, mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), ip: `10.9.0.${10 + i}`,
    })));
    const domains = of("fx", T("kairos-libvirt", "Domain"));
    for (const d of domains) expect(d.inputs.mac).toBe(net.hosts.find((h: any) => h.name === d.inputs.node).mac);
    // The MAC comes from cluster and node name only: the same in another stack.
    expect(new Set(net.hosts.map((h: any) => h.mac)).size).toBe(3);
    expect(out.cloudConfigs["fx-agent-0"]).toContain("https://10.9.0.10:6443");
    expect(out.nodes.map((n) => n.address)).toEqual(["10.9.0.10", "10.9.0.11", "10.9.0.12"]);
    expect(of("fx", T("kairos-readiness", "ClusterReady"))[0].inputs.endpoint).toBe("10.9.0.10");
  });

  it("every node gets a NodeConfig: the config as applied, chained servers first then agents maxUnavailable at a time", async () => {
    const c = new KairosCluster("rl", { image: IMAGE, target: LIBVIRT, servers: 3, agents: 4, rollout: { maxUnavailable: 2, drainTimeoutSeconds: 60, forceDrain: true } });
    const out = await settle(c);
    await new Promise((r) => setTimeout(r, 500));
    const configs = of("rl", T("kairos-lifecycle", "NodeConfig"));
    expect(configs.map((r) => r.name)).toEqual(out.nodes.map((n) => `${n.name}-config`));
    const server0 = configs[0].inputs;
    expect(server0).toMatchObject({
      node: "rl-server-0", address: "10.9.0.10", adminUser: "kairos-admin", mode: "reboot",
      drain: { timeoutSeconds: 60, force: true }, restartDigest: "vcpus=2 memoryMiB=4096",
      servers: [{ name: "rl-server-0", address: "10.9.0.10" }, { name: "rl-server-1", address: "10.9.0.11" }, { name: "rl-server-2", address: "10.9.0.12" }],
    });
    expect(server0.configDigest).toBe(createHash("sha256").update(out.cloudConfigs["rl-server-0"]).digest("hex"));
    expect(server0.cloudConfig[SIG]).toBeDefined(); // secret
    const dep = (n: string) => (dependencies.get(`${n}-config`) ?? []).filter((d) => d.endsWith("-config"));
    expect(dep("rl-server-0")).toEqual([]);
    expect(dep("rl-server-1")).toEqual(["rl-server-0-config"]);
    expect(dep("rl-server-2")).toEqual(["rl-server-1-config"]);
    expect(dep("rl-agent-0")).toEqual(["rl-server-2-config"]);
    expect(dep("rl-agent-1")).toEqual(["rl-server-2-config"]);
    expect(dep("rl-agent-2")).toEqual(["rl-agent-0-config"]);
    expect(dep("rl-agent-3")).toEqual(["rl-agent-1-config"]);
    // Each also waits for the cluster to be ready and for its own machine.
    expect(dependencies.get("rl-agent-3-config")).toEqual(expect.arrayContaining(["rl-ready", "rl-agent-3"]));
  });

  it("p2p with 5 nodes: every node gets the same p2p block, nobody waits for an endpoint, readiness in p2p mode", async () => {
    const c = new KairosCluster("pp", { image: IMAGE, target: LIBVIRT, servers: 3, agents: 2, p2p: { enabled: true } });
    const out = await settle(c);
    expect(out.nodes.map((n) => `${n.name}:${n.role}`)).toEqual([0, 1, 2, 3, 4].map((i) => `pp-node-${i}:auto`));
    for (const n of out.nodes) {
      expect(out.cloudConfigs[n.name]).toContain("network_token:");
      expect(out.cloudConfigs[n.name]).toContain("network_id: pp");
      expect(out.cloudConfigs[n.name]).toMatch(/master_nodes: 2/);
    }
    const ready = of("pp", T("kairos-readiness", "ClusterReady"))[0].inputs;
    expect(ready.mode).toBe("p2p");
    expect(ready.endpoint).toBeUndefined();
  });

  it("a remote hypervisor's serial log is not offered to the readiness wait (it is not readable here)", async () => {
    const c = new KairosCluster("rem", { image: IMAGE, target: { ...LIBVIRT, uri: "qemu+ssh://root@192.0.2.1/system" } });
    await settle(c);
    const ready = of("rem", T("kairos-readiness", "ClusterReady"))[0].inputs;
    expect(ready.nodes[0]).toEqual({ name: "rem-server-0", role: "server", address: expect.any(String), libvirt: { uri: "qemu+ssh://root@192.0.2.1/system", domain: "uuid-rem-server-0" } });
    expect(of("rem", T("kairos-libvirt", "Domain"))[0].inputs.uri).toBe("qemu+ssh://root@192.0.2.1/system");
  });

  it("an ephemeral cluster marks its created network and every domain; the volumes carry no mark (libvirt has no volume metadata)", async () => {
    const ephemeral = { expiresAt: "2026-12-02T13:00:00Z", statePath: "/tmp/kairos-state/eph" };
    const c = new KairosCluster("eph", { image: IMAGE, agents: 1, target: { ...LIBVIRT, ephemeral } });
    await settle(c);
    expect(of("eph", T("kairos-libvirt", "Network"))[0].inputs).toMatchObject(ephemeral);
    const domains = of("eph", T("kairos-libvirt", "Domain"));
    expect(domains).toHaveLength(2);
    for (const d of domains) expect(d.inputs).toMatchObject(ephemeral);
    expect(of("eph", T("kairos-libvirt", "NodeDisk"))[0].inputs.expiresAt).toBeUndefined();
    // Without the mark nothing is stamped: such a cluster is never reaped.
    expect(of("one", T("kairos-libvirt", "Domain"))[0].inputs.expiresAt).toBeUndefined();
    expect(of("one", T("kairos-libvirt", "Network"))[0].inputs.statePath).toBeUndefined();
  });

  it("ISO image: an empty disk per node, the ISO as install cdrom, and an install block", async () => {
    const c = new KairosCluster("iso", { image: { kind: "iso", path: "/images/kairos.iso" }, target: LIBVIRT });
    const out = await settle(c);
    expect(of("iso", T("kairos-libvirt", "NodeDisk"))[0].inputs.baseVolume).toBeUndefined();
    expect(of("iso", T("kairos-libvirt", "Domain"))[0].inputs.installIsoVolume).toBe("base-iso");
    expect(out.cloudConfigs["iso-server-0"]).toMatch(/install:\n {2}auto: true\n {2}device: auto\n {2}reboot: true/);
  });

  it("accepts KairosImage.clusterImage()'s Output as image", async () => {
    const img = pulumi.output({ kind: "disk" as const, path: "/images/built.qcow2", format: "qcow2" as const });
    const out = await settle(new KairosCluster("out", { image: img, target: LIBVIRT }));
    expect(out.nodes).toHaveLength(1);
    expect(of("out", T("kairos-libvirt", "BaseImageVolume"))[0].inputs.source).toEqual({ kind: "file", path: "/images/built.qcow2" });
  });

  it("changing one node's extra config changes only that node's cidata volume (so only it is replaced)", async () => {
    const base: KairosClusterArgs = { image: IMAGE, target: LIBVIRT, servers: 1, agents: 2, secrets: { rotate: "fixed" } };
    const a = await settle(new KairosCluster("rp", { ...base, clusterName: "rp", nodeExtraConfig: { "rp-agent-1": { runcmd: ["echo a"] } } }));
    const b = await settle(new KairosCluster("rq", { ...base, clusterName: "rp", nodeExtraConfig: { "rp-agent-1": { runcmd: ["echo b"] } } }));
    const digests = (cfg: Record<string, string>) => Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, createHash("sha256").update(v).digest("hex")]));
    const da = digests(a.cloudConfigs), db = digests(b.cloudConfigs);
    expect(Object.keys(da)).toEqual(["rp-server-0", "rp-agent-0", "rp-agent-1"]);
    expect(db["rp-server-0"]).toBe(da["rp-server-0"]);
    expect(db["rp-agent-0"]).toBe(da["rp-agent-0"]);
    expect(db["rp-agent-1"]).not.toBe(da["rp-agent-1"]);
    // The cidata volume's userData is what the provider diffs (content-addressed names).
    const cidata = registered.filter((x) => x.type === T("kairos-libvirt", "CidataVolume") && x.inputs.node === "rp-agent-1").map((x) => plain(x.inputs.userData));
    expect(cidata).toHaveLength(2);
    expect(cidata[0]).not.toBe(cidata[1]);
  });
});

describe("KairosCluster arguments users compute or keep secret (L1, mocks)", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIComputedKeyForTests computed";

  it("users, sshAuthorizedKeys, extraConfig, nodeExtraConfig and k3s accept Outputs, and a secret stays secret", async () => {
    const c = new KairosCluster("io", {
      image: IMAGE, target: LIBVIRT, agents: 1,
      users: pulumi.output([{ name: "ops", groups: ["admin"], passwd: "$6$computed-hash" }]),
      sshAuthorizedKeys: [pulumi.output(KEY)],
      extraConfig: pulumi.secret({ write_files: [{ path: "/etc/secret-file", content: "s3cret-from-output" }] }),
      nodeExtraConfig: pulumi.output({ "io-agent-0": { runcmd: ["echo computed-agent"] } }),
      k3s: { args: [pulumi.output("--disable=traefik")], vip: pulumi.output("10.9.0.250") },
    });
    const out = await settle(c);
    expect(out.cloudConfigs["io-server-0"]).toContain("name: ops");
    expect(out.cloudConfigs["io-server-0"]).toContain(KEY);
    expect(out.cloudConfigs["io-server-0"]).toContain("s3cret-from-output");
    expect(out.cloudConfigs["io-server-0"]).toContain("--disable=traefik");
    expect(out.cloudConfigs["io-agent-0"]).toContain("echo computed-agent");
    expect(out.cloudConfigs["io-server-0"]).not.toContain("echo computed-agent");
    // A computed VIP is the endpoint once known: the agent joins it, the kubeconfig points at it.
    expect(out.cloudConfigs["io-agent-0"]).toContain("https://10.9.0.250:6443");
    expect(out.apiEndpoint).toBe("https://10.9.0.250:6443");
    const cidata = registered.find((r) => r.type === T("kairos-libvirt", "CidataVolume") && r.inputs.node === "io-server-0")!;
    expect(cidata.inputs.userData[SIG]).toBeDefined();
    expect(await pulumi.isSecret(c.cloudConfigs)).toBe(true);
  });

  it("a bad value that arrives in an Output fails once resolved, by the same rules and field paths", () => {
    // What the component's applies run on the resolved values (components/cluster/create.ts).
    const a: KairosClusterArgs = { image: IMAGE, target: LIBVIRT, p2p: undefined };
    expect(validateInputArgs(a, { sshAuthorizedKeys: ["not-a-key"] })).toEqual([
      { path: "sshAuthorizedKeys[0]", value: '"not-a-key"', expected: 'an OpenSSH public key line ("ssh-ed25519 AAAA...") or "github:USER"' },
    ]);
    expect(nodeExtraConfigIssues({ "late-agent-7": {} }, ["late-server-0"])).toEqual([
      { path: "nodeExtraConfig.late-agent-7", value: "{...}", expected: "a node name of this cluster (late-server-0)" },
    ]);
    expect(resolvedK3sIssues("late", a, { args: ["--cluster-init"], vip: "nope" }).map((i) => i.path)).toEqual(["k3s.vip", "k3s.args[0]"]);
    expect(resolvedK3sIssues("late", { ...a, p2p: { enabled: true } }, { vip: "10.0.0.5" })[0]).toMatchObject({ path: "k3s.vip", expected: expect.stringContaining("unset in p2p mode") });
    expect(resolvedK3sIssues("late", a, { args: ["--disable=traefik"], vip: "10.0.0.5" })).toEqual([]);
  });
});

describe("KairosCluster on the ssh and media targets (L1, mocks)", () => {
  it("ssh: host addresses are known, so every node is rendered at once with the first host as endpoint", async () => {
    const hosts = [{ address: "192.0.2.10", password: "kairos" }, { address: "192.0.2.11", password: "kairos" }];
    const c = new KairosCluster("bm", { image: { kind: "iso", path: "/images/kairos.iso" }, target: { kind: "ssh", hosts }, agents: 1 });
    const out = await settle(c);
    expect(out.cloudConfigs["bm-agent-0"]).toContain("https://192.0.2.10:6443");
    expect(out.cloudConfigs["bm-server-0"]).toMatch(/install:\n {2}auto: true/);
    const ready = of("bm", T("kairos-readiness", "ClusterReady"))[0].inputs;
    expect(ready.endpoint).toBe("192.0.2.10");
  });

  it("media: nothing to connect to, so no readiness wait, no kubeconfig and no Kubernetes provider", async () => {
    const c = new KairosCluster("md", { image: { kind: "iso", path: "/images/kairos.iso" }, target: { kind: "media", outputDir: "/tmp/kairos-media-l1" } });
    const out = await settle(c);
    expect(out.kubeconfig).toBe("");
    expect(out.apiEndpoint).toBe("");
    expect(c.kubernetesProvider).toBeUndefined();
    expect(registered.filter((r) => r.name === "md-ready")).toEqual([]);
    expect(out.cloudConfigs["md-server-0"]).toMatch(/^#cloud-config\n/);
  });
});

describe("KairosCluster OS upgrades (L1, mocks)", () => {
  const OS_IMAGE = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.3.0-k3s-v1.36.3-k3s1";

  it("osImage (ssh, the default): every node's NodeConfig carries the image and how to upgrade; no operator objects; nodeOs reports each node", async () => {
    const c = new KairosCluster("up", { image: IMAGE, target: LIBVIRT, agents: 1, osImage: OS_IMAGE, upgrade: { recovery: true } });
    await settle(c);
    await value(c.nodeOs); // the NodeConfigs come after readiness
    const configs = of("up", T("kairos-lifecycle", "NodeConfig"));
    expect(configs.map((r) => r.name)).toEqual(["up-server-0-config", "up-agent-0-config"]);
    for (const r of configs) expect(r.inputs).toMatchObject({ osImage: OS_IMAGE, upgrade: { by: "ssh", recovery: true, force: false } });
    expect(registered.filter((r) => r.name.startsWith("up-") && /NodeOpUpgrade|helm/.test(r.type))).toEqual([]);
    expect(await value(c.nodeOs)).toEqual({
      "up-server-0": { kairosVersion: "v4.2.0", flavor: "hadron", bootState: "active_boot", k3sVersion: "v1.36.3+k3s1" },
      "up-agent-0": { kairosVersion: "v4.2.0", flavor: "hadron", bootState: "active_boot", k3sVersion: "v1.36.3+k3s1" },
    });
    // Without osImage the nodes are not managed: no image, no upgrade settings.
    const plainCluster = new KairosCluster("noos", { image: IMAGE, target: LIBVIRT });
    await settle(plainCluster);
    await value(plainCluster.nodeOs);
    expect(of("noos", T("kairos-lifecycle", "NodeConfig"))[0].inputs.osImage).toBeUndefined();
  });

  it("upgrade.mode operator: one NodeOpUpgrade per image (named by its digest) through the cluster's provider, after readiness, waiting for Completed; install adds the pinned chart", async () => {
    const c = new KairosCluster("op", { image: IMAGE, target: LIBVIRT, agents: 2, osImage: OS_IMAGE, rollout: { maxUnavailable: 2 }, upgrade: { mode: "operator", operator: { install: true, timeoutSeconds: 1200 } } });
    await settle(c);
    await value(c.nodeOs);
    await new Promise((r) => setTimeout(r, 200));
    const suffix = createHash("sha256").update(OS_IMAGE).digest("hex").slice(0, 10);
    const cr = registered.find((r) => r.type === "kubernetes:operator.kairos.io/v1alpha1:NodeOpUpgrade" && r.name === `op-upgrade-${suffix}`)!;
    expect(cr).toBeDefined();
    const { nodeOpUpgradeSpec, nodeOpUpgradeWaitAnnotations } = await import("../../kairos/upgrade");
    // Exactly the spec the CRD oracle test validates (test/kairos/upgrade/nodeop.test.ts).
    expect(cr.inputs.spec).toEqual(nodeOpUpgradeSpec({ image: OS_IMAGE, concurrency: 2, stopOnFailure: true, upgradeRecovery: false, force: false }));
    expect(cr.inputs.metadata).toEqual({ name: `op-upgrade-${suffix}`, namespace: "default", annotations: nodeOpUpgradeWaitAnnotations(1200) });
    const release = registered.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "op-kairos-operator")!;
    expect(release.inputs).toMatchObject({ chart: "oci://ghcr.io/kairos-io/helm-charts/kairos-operator", version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(dependencies.get(`op-upgrade-${suffix}`)).toEqual(expect.arrayContaining(["op-ready", "op-kairos-operator"]));
    // The nodes only record the image: the operator does the work.
    for (const r of of("op", T("kairos-lifecycle", "NodeConfig"))) expect(r.inputs.upgrade).toEqual({ by: "operator", recovery: false, force: false });
  });
});

describe("KairosCluster bad input (L1)", () => {
  const ok: KairosClusterArgs = { image: IMAGE, target: LIBVIRT };
  test.each<[string, Partial<KairosClusterArgs> & Record<string, unknown>, string]>([
    ["even servers", { servers: 2 }, "servers: 2 is not valid; expected an odd number (1, 3, 5, ...): embedded etcd needs a majority; use 1 or 3"],
    ["negative agents", { agents: -1 }, "agents: -1 is not valid; expected a whole number from 0 to 10000"],
    ["image kind", { image: { kind: "vmdk" as never, path: "/x" } }, 'image.kind: "vmdk" is not valid; expected "disk" (pre-installed raw/qcow2) or "iso" (live ISO that installs)'],
    ["image path and url", { image: { kind: "disk", path: "/x", url: "https://e.x/i", sha256: "a".repeat(64) } }, 'image.path: "/x" is not valid; expected exactly one of image.path (local file) and image.url'],
    ["url without sha", { image: { kind: "disk", url: "https://e.x/i" } }, "image.sha256: undefined is not valid; expected the 64-hex SHA-256 of the file at image.url, or set image.checksumUrl"],
    ["url with both sha256 and checksumUrl", { image: { kind: "iso", url: "https://e.x/i.iso", sha256: "a".repeat(64), checksumUrl: "https://e.x/i.iso.sha256" } }, "image.checksumUrl: \"https://e.x/i.iso.sha256\" is not valid; expected unset when image.sha256 is set (exactly one of them)"],
    ["checksumUrl not a URL", { image: { kind: "iso", url: "https://e.x/i.iso", checksumUrl: "i.iso.sha256" } }, "image.checksumUrl: \"i.iso.sha256\" is not valid; expected an http(s) URL of a sha256sum file"],
    ["vip", { k3s: { vip: "not-an-ip" } }, 'k3s.vip: "not-an-ip" is not valid; expected an IPv4 or IPv6 address (kube-vip announces it)'],
    ["owned k3s arg", { k3s: { args: ["--cluster-init"] } }, 'k3s.args[0]: "--cluster-init" is not valid; expected no --cluster-init: the planner sets --cluster-init, --server and the token from servers, endpoint and k3sToken'],
    ["target kind", { target: { kind: "vsphere" } as never }, 'target.kind: "vsphere" is not valid; expected "libvirt", "ssh" or "media"'],
    ["memory", { target: { ...LIBVIRT, memoryMiB: 0 } }, "target.memoryMiB: 0 is not valid; expected a whole number of MiB from 128 to 4194304"],
    ["cidr", { target: { ...LIBVIRT, network: { kind: "create", mode: "isolated", cidr: "10.9.0.0" } } }, 'target.network.cidr: "10.9.0.0" is not valid; expected an IPv4 subnet from /8 to /29, e.g. "10.77.0.0/24"'],
    ["cidr too small for the nodes", { agents: 6, target: { ...LIBVIRT, network: { kind: "create", mode: "isolated", cidr: "10.9.0.0/28" } } }, 'target.network.cidr: "10.9.0.0/28" is not valid; expected a subnet with a reserved address for each of the 7 nodes (from .10 up; this one has room for 5): a larger subnet, e.g. a /24 for up to 245'],
    ["ephemeral expiresAt", { target: { ...LIBVIRT, ephemeral: { expiresAt: "in 2 hours" } } }, 'target.ephemeral.expiresAt: "in 2 hours" is not valid; expected an ISO-8601 UTC timestamp such as "2026-12-02T13:00:00Z"'],
    ["ephemeral statePath", { target: { ...LIBVIRT, ephemeral: { statePath: "state/eph" } } }, 'target.ephemeral.statePath: "state/eph" is not valid; expected an absolute path'],
    ["network mode", { target: { ...LIBVIRT, network: { kind: "create", mode: "bridge" as never, cidr: "10.9.0.0/24" } } }, 'target.network.mode: "bridge" is not valid; expected "nat" or "isolated"'],
    ["timeout", { timeouts: { sshSeconds: 0 } }, "timeouts.sshSeconds: 0 is not valid; expected a number of seconds from 1 to 86400"],
    ["config change mode", { configChange: "hot" as never }, 'configChange: "hot" is not valid; expected "reboot", "staged" or "reinstall"'],
    ["rollout width", { rollout: { maxUnavailable: 0 } }, "rollout.maxUnavailable: 0 is not valid; expected a whole number >= 1"],
    ["admin user", { adminUser: "root" }, 'adminUser: "root" is not valid; expected a Linux user name other than "root" and "kairos"'],
    ["p2p with vip", { p2p: { enabled: true }, k3s: { vip: "10.0.0.5" } }, 'k3s.vip: "10.0.0.5" is not valid; expected unset in p2p mode (set p2p.haMasterNodes; Kairos\' p2p HA manages the API)'],
    ["os image without tag", { osImage: "quay.io/kairos/hadron" }, 'osImage: "quay.io/kairos/hadron" is not valid; expected an OCI image reference (it has neither tag nor digest, so the registry\'s moving "latest" would be used; name the tag or digest to install; expected e.g.'],
    ["upgrade mode", { upgrade: { mode: "kubectl" as never } }, 'upgrade.mode: "kubectl" is not valid; expected "ssh" or "operator"'],
    ["operator timeout", { upgrade: { mode: "operator", operator: { timeoutSeconds: 5 } } }, "upgrade.operator.timeoutSeconds: 5 is not valid; expected a whole number of seconds from 60 to 86400"],
    ["unknown node override", { nodeExtraConfig: { "bad-agent-9": {} } }, 'nodeExtraConfig.bad-agent-9: {...} is not valid; expected a node name of this cluster (bad-server-0)'],
  ])("%s", (_t, patch, line) => {
    expect(() => new KairosCluster("bad", { ...ok, ...patch } as KairosClusterArgs)).toThrow(`  - ${line}`);
  });

  it("reports every problem at once, one per line", () => {
    try {
      new KairosCluster("Bad_Name", { image: { kind: "disk" } as never, target: { ...LIBVIRT, vcpus: 0 }, servers: 4 });
      throw new Error("expected a failure");
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain("KairosCluster Bad_Name: invalid arguments (4 problems)");
      expect(m).toContain('  - clusterName: "Bad_Name" is not valid;');
      expect(m).toContain("  - image.path: undefined is not valid;");
      expect(m).toContain("  - servers: 4 is not valid;");
      expect(m).toContain("  - target.vcpus: 0 is not valid; expected a whole number of vCPUs from 1 to 256");
    }
  });
});
