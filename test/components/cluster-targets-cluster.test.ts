/**
 * L1: KairosCluster with the ssh and media targets under Pulumi's mocks: the child resources each
 * target creates, their parents, secrets, the endpoint known up front, and the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { KairosCluster as KairosClusterT } from "../../components/kairos-cluster";
import { outputValue as value, settleThenDisconnect } from "../harness/mocks";

interface Registered { type: string; name: string; inputs: Record<string, any> }
const registered: Registered[] = [];
const T = (m: string, t: string) => `pulumi-nodejs:dynamic/${m}:${t}`;
const SIG = "4dabf18193072939515e22adb298388d";
const isSecretWire = (v: unknown) => typeof v === "object" && v !== null && SIG in (v as object);
const plain = (v: any): any => (isSecretWire(v) ? v.value : v);
const K3S_TOKEN = "k3s-L1-cluster-token-0123456789";
const SECRETS = { networkToken: "", k3sToken: K3S_TOKEN, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n", sshPublicKey: "ssh-ed25519 AAAAmockkey pulumi-kairos" };
const LIVE_PASSWORD = "live-L1-cluster-pw";

let KairosCluster: typeof KairosClusterT;
let lastRegistration = Date.now();

beforeAll(async () => {
  await pulumi.runtime.setMocks({
    newResource(args) {
      lastRegistration = Date.now();
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      let state: Record<string, unknown> = args.inputs;
      if (args.type === T("kairos-secrets", "ClusterSecrets")) state = { ...args.inputs, ...SECRETS };
      if (args.type === T("kairos-readiness", "ClusterReady")) {
        state = { ...args.inputs, kubeconfig: `server: https://${args.inputs.endpoint}:6443\n`, apiEndpoint: `https://${args.inputs.endpoint}:6443`, hostKeys: {}, readyNodes: [] };
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  }, "pulumi-kairos", "test", false);
  ({ KairosCluster } = await import("../../components/kairos-cluster"));
});

afterAll(() => settleThenDisconnect(() => lastRegistration), 90_000);

const monitorUrns = (): string[] => [...((pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> }).resources.keys())];
const settle = async (count: () => number, want: number) => {
  const until = Date.now() + 30_000;
  while (count() < want && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
};
const IMAGE = { kind: "iso" as const, path: "/images/kairos.iso" };

describe("KairosCluster on bare metal (ssh target): 1 server + 2 agents", () => {
  let c: KairosClusterT;
  const nodesOf = () => registered.filter((r) => r.type === T("kairos", "BareMetalNode") && r.name.startsWith("metal-"));

  beforeAll(async () => {
    c = new KairosCluster("metal", {
      image: IMAGE, servers: 1, agents: 2,
      target: { kind: "ssh", hosts: ["10.0.0.10", "10.0.0.11", "10.0.0.12"].map((address) => ({ address, password: LIVE_PASSWORD })), onDestroy: "reset" },
    });
    await value(c.kubeconfig);
    await settle(() => nodesOf().length, 3);
  }, 60_000);

  test("one BareMetalNode per host, children of the cluster, installing in baremetal mode", () => {
    expect(nodesOf().map((r) => [r.name, plain(r.inputs.host).address]).sort()).toEqual([
      ["metal-agent-0", "10.0.0.11"], ["metal-agent-1", "10.0.0.12"], ["metal-server-0", "10.0.0.10"]]);
    const urns = monitorUrns().filter((u) => u.includes("BareMetalNode::metal-"));
    expect(urns.every((u) => u.includes("kairos:index:KairosCluster$pulumi-nodejs:dynamic/kairos:BareMetalNode::"))).toBe(true);
    expect(nodesOf().every((r) => r.inputs.onDestroy === "reset" && r.inputs.adminUser === "kairos-admin")).toBe(true);
    expect(registered.some((r) => r.type.includes("kairos-libvirt") && r.name.startsWith("metal"))).toBe(false);
  });

  test("the agents join the first host's address, known before anything ran; configs, keys and passwords are secret", () => {
    for (const r of nodesOf()) {
      expect(isSecretWire(r.inputs.cloudConfig)).toBe(true);
      expect(isSecretWire(r.inputs.adminPrivateKey)).toBe(true);
      const h = r.inputs.host;
      expect(isSecretWire(h) || isSecretWire(h.password)).toBe(true);
      const cfg = plain(r.inputs.cloudConfig) as string;
      expect(cfg.startsWith("#cloud-config\n")).toBe(true);
      expect(cfg).toContain(K3S_TOKEN);
      if (r.name.includes("agent")) expect(cfg).toContain("https://10.0.0.10:6443");
      expect(cfg).toMatch(/install:\n(\s+\S.*\n)*?\s+device: auto/);
    }
  });

  test("readiness waits on every host and the API endpoint is the server host", async () => {
    const ready = registered.find((r) => r.type === T("kairos-readiness", "ClusterReady") && r.name === "metal-ready")!;
    expect(ready.inputs.endpoint).toBe("10.0.0.10");
    expect(ready.inputs.nodes.map((n: { address: string }) => n.address)).toEqual(["10.0.0.10", "10.0.0.11", "10.0.0.12"]);
    expect(await value(c.apiEndpoint)).toBe("https://10.0.0.10:6443");
  });
});

describe("KairosCluster as boot media (media target): 3 servers + 2 agents", () => {
  let c: KairosClusterT;
  const mediaOf = () => registered.filter((r) => r.type === T("kairos", "NodeMedia") && r.name.startsWith("store-"));

  beforeAll(async () => {
    c = new KairosCluster("store", {
      image: IMAGE, servers: 3, agents: 2,
      target: { kind: "media", outputDir: "/srv/kairos-media", endpoint: "10.42.0.10", isoImage: { isoPath: "/images/kairos.iso" } },
    });
    await value(c.cloudConfigs);
    await settle(() => mediaOf().length, 5);
  }, 60_000);

  test("one NodeMedia per node in the folder, the role ISO on each role's first node, nothing that connects", () => {
    expect(mediaOf().map((r) => r.name).sort()).toEqual(["store-agent-0", "store-agent-1", "store-server-0", "store-server-1", "store-server-2"]);
    expect(Object.fromEntries(mediaOf().filter((r) => r.inputs.roleIso).map((r) => [r.name, r.inputs.roleIso.name]))).toEqual({
      "store-server-0": "store-init", "store-server-1": "store-server", "store-agent-0": "store-agent" });
    expect(registered.some((r) => r.type === T("kairos-readiness", "ClusterReady") && r.name.startsWith("store"))).toBe(false);
    expect(registered.some((r) => r.type === T("kairos", "BareMetalNode") && r.name.startsWith("store"))).toBe(false);
  });

  test("every config joins the given endpoint and is secret", () => {
    for (const r of mediaOf()) {
      expect(isSecretWire(r.inputs.cloudConfig)).toBe(true);
      const cfg = plain(r.inputs.cloudConfig) as string;
      if (r.name !== "store-server-0") expect(cfg).toContain("https://10.42.0.10:6443");
      expect(cfg).not.toContain("endpoint.kairos.invalid");
    }
  });

  test("no kubeconfig or endpoint comes back; the configs are still an output, secret", async () => {
    expect(await value(c.kubeconfig)).toBe("");
    expect(await value(c.apiEndpoint)).toBe("");
    expect(await pulumi.isSecret(c.cloudConfigs)).toBe(true);
    expect(Object.keys(await value(c.cloudConfigs)).sort()).toEqual(["store-agent-0", "store-agent-1", "store-server-0", "store-server-1", "store-server-2"]);
  });

  test("a multi-server media cluster without an endpoint fails at construction naming target.endpoint", () => {
    expect(() => new KairosCluster("nope", { image: IMAGE, servers: 3, target: { kind: "media", outputDir: "/srv/m" } })).toThrow(/target\.endpoint: undefined is not valid; expected the address the first server will have/);
  });
});
