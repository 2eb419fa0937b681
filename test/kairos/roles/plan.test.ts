import * as yaml from "js-yaml";
import {
  ClusterSpec,
  ClusterSpecError,
  ENDPOINT_PLACEHOLDER,
  fillEndpoint,
  nodesAwaitingEndpoint,
  planRoles,
} from "../../../kairos/roles/plan";
import { KUBE_VIP_MANIFEST_PATH, kubeVipManifest } from "../../../kairos/roles/kube-vip";
import { generateNetworkToken } from "../../../kairos/edgevpn/token";

const K3S_TOKEN = "K10fake-cluster-token";
const NET_TOKEN = generateNetworkToken({ randomBytes: (n) => Buffer.alloc(n, 11) });

const explicit = (over: Partial<ClusterSpec> = {}): ClusterSpec => ({
  cluster: "lab", servers: 1, agents: 0, mode: "explicit", k3sToken: K3S_TOKEN, ...over,
});
const p2p = (over: Partial<ClusterSpec> = {}): ClusterSpec => ({
  cluster: "lab", servers: 1, agents: 1, mode: "p2p", networkToken: NET_TOKEN, ...over,
});

function planError(spec: ClusterSpec): string {
  try {
    planRoles(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterSpecError);
    return (e as Error).message;
  }
  throw new Error("planRoles accepted the spec");
}

describe("planRoles, explicit mode", () => {
  test("one server is a plain server: no --cluster-init, no --server", () => {
    const [node, ...rest] = planRoles(explicit());
    expect(rest).toEqual([]);
    expect(node).toEqual({ name: "lab-server-0", index: 0, role: "server", k3s: { enabled: true, env: { K3S_TOKEN } } });
  });

  test("one server without agents needs no k3s token", () => {
    expect(planRoles(explicit({ k3sToken: undefined }))[0].k3s).toEqual({ enabled: true });
  });

  test("three servers and two agents: init, joining servers, agents on the VIP, tls-san and kube-vip on every server", () => {
    const plan = planRoles(explicit({ servers: 3, agents: 2, vip: "192.168.122.10", endpoint: "192.168.122.11", k3s: { args: ["--disable=traefik"], agentArgs: ["--node-label=tier=web"] } }));
    expect(plan.map((p) => [p.name, p.index, p.role])).toEqual([
      ["lab-server-0", 0, "init"], ["lab-server-1", 1, "server"], ["lab-server-2", 2, "server"],
      ["lab-agent-0", 0, "agent"], ["lab-agent-1", 1, "agent"],
    ]);
    expect(plan[0].k3s!.args).toEqual(["--cluster-init", "--tls-san=192.168.122.10", "--disable=traefik"]);
    expect(plan[2].k3s!.args).toEqual(["--server=https://192.168.122.11:6443", "--tls-san=192.168.122.10", "--disable=traefik"]);
    for (const s of plan.slice(0, 3)) {
      expect(s.k3s!.env).toEqual({ K3S_TOKEN });
      const file = s.stages!.boot[0].files![0];
      expect(file.path).toBe(KUBE_VIP_MANIFEST_PATH);
      expect(file.permissions).toBe(0o600);
      expect(file.content).toBe(kubeVipManifest({ address: "192.168.122.10" }));
    }
    expect(plan[3]["k3s-agent"]).toEqual({
      enabled: true, args: ["--node-label=tier=web"], env: { K3S_URL: "https://192.168.122.10:6443", K3S_TOKEN },
    });
    expect(plan[3].k3s).toBeUndefined();
    expect(plan[0]["k3s-agent"]).toBeUndefined();
  });

  test("without endpoint or VIP the join URLs carry the placeholder until fillEndpoint", () => {
    const plan = planRoles(explicit({ servers: 3, agents: 1 }));
    expect(nodesAwaitingEndpoint(plan)).toEqual(["lab-server-1", "lab-server-2", "lab-agent-0"]);
    expect(plan[1].k3s!.args).toEqual([`--server=https://${ENDPOINT_PLACEHOLDER}:6443`]);
    const filled = fillEndpoint(plan, "10.0.0.5");
    expect(nodesAwaitingEndpoint(filled)).toEqual([]);
    expect(filled[1].k3s!.args).toEqual(["--server=https://10.0.0.5:6443"]);
    expect(filled[3]["k3s-agent"]!.env).toEqual({ K3S_URL: "https://10.0.0.5:6443", K3S_TOKEN });
    expect(plan[1].k3s!.args).toEqual([`--server=https://${ENDPOINT_PLACEHOLDER}:6443`]); // input untouched
    expect(fillEndpoint(plan, "fd00::5")[3]["k3s-agent"]!.env!.K3S_URL).toBe("https://[fd00::5]:6443");
    expect(() => fillEndpoint(plan, "https://x:6443")).toThrow(
      'invalid cluster spec (1 problem)\n  - endpoint: "https://x:6443" is not valid; expected an IPv4 or IPv6 address or a DNS name, without scheme or port',
    );
  });

  test("with a VIP agents join through it at once; joining servers still wait for the first server's address", () => {
    const plan = planRoles(explicit({ servers: 3, agents: 1, vip: "10.0.0.100" }));
    expect(nodesAwaitingEndpoint(plan)).toEqual(["lab-server-1", "lab-server-2"]);
    expect(plan[3]["k3s-agent"]!.env!.K3S_URL).toBe("https://10.0.0.100:6443");
    expect(fillEndpoint(plan, "10.0.0.11")[1].k3s!.args![0]).toBe("--server=https://10.0.0.11:6443");
  });

  test("the kube-vip manifest parses as four Kubernetes objects with the pinned image, interface and address", () => {
    const docs = yaml.loadAll(kubeVipManifest({ address: "fd00::10", interface: "enp1s0" })) as any[];
    expect(docs.map((d) => d.kind)).toEqual(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"]);
    const c = docs[3].spec.template.spec.containers[0];
    expect(c.image).toBe("ghcr.io/kube-vip/kube-vip:v1.2.3");
    const env = Object.fromEntries(c.env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ address: "fd00::10", vip_interface: "enp1s0", vip_subnet: "128", cp_enable: "true", vip_arp: "true", port: "6443" });
    expect(docs[3].spec.template.spec.nodeSelector).toEqual({ "node-role.kubernetes.io/control-plane": "true" });
  });
});

describe("planRoles, p2p mode", () => {
  test("five nodes with three control planes: same p2p block everywhere, auto roles, minimum_nodes 5, master_nodes 2", () => {
    const plan = planRoles(p2p({ servers: 3, agents: 2, networkId: "lab-a" }));
    expect(plan.map((p) => [p.name, p.role])).toEqual([0, 1, 2, 3, 4].map((i) => [`lab-node-${i}`, "auto"]));
    for (const p of plan) {
      expect(p.p2p).toEqual({ network_token: NET_TOKEN, network_id: "lab-a", minimum_nodes: 5, auto: { ha: { enable: true, master_nodes: 2 } } });
      expect(p.k3s).toBeUndefined();
    }
  });

  test("network_id defaults to the cluster name; one control plane means no ha block", () => {
    const [a] = planRoles(p2p());
    expect(a.p2p).toEqual({ network_token: NET_TOKEN, network_id: "lab", minimum_nodes: 2 });
  });

  test("a single p2p node is fixed to role master (no election with one node)", () => {
    const plan = planRoles(p2p({ agents: 0, vip: "10.1.1.1" }));
    expect(plan).toEqual([{
      name: "lab-node-0", index: 0, role: "server",
      p2p: { network_token: NET_TOKEN, network_id: "lab", role: "master" },
      kubevip: { eip: "10.1.1.1", interface: "eth0", version: "v1.2.3" },
    }]);
  });

  test("user k3s args go to both role blocks without enabling either", () => {
    const [n] = planRoles(p2p({ k3s: { args: ["--disable=traefik"], agentArgs: ["--node-label=a=b"] } }));
    expect(n.k3s).toEqual({ args: ["--disable=traefik"] });
    expect(n["k3s-agent"]).toEqual({ args: ["--node-label=a=b"] });
  });
});

describe("planRoles refuses bad specs, naming field, value and what is accepted", () => {
  test.each<[string, ClusterSpec, string]>([
    ["even servers", explicit({ servers: 2 }), '  - servers: 2 is not valid; expected an odd number (1, 3, 5, ...): embedded etcd needs a majority; use 1 or 3'],
    ["zero servers", explicit({ servers: 0 }), "  - servers: 0 is not valid; expected a whole number from 1 to 10000"],
    ["fractional agents", explicit({ agents: 1.5 }), "  - agents: 1.5 is not valid; expected a whole number from 0 to 10000"],
    ["bad cluster name", explicit({ cluster: "Lab_1" }), `  - cluster: "Lab_1" is not valid; expected a DNS label: lower-case letters, digits and '-', not starting or ending with '-', at most 40 characters`],
    ["bad mode", explicit({ mode: "mesh" as any }), '  - mode: "mesh" is not valid; expected "explicit" or "p2p"'],
    ["endpoint with scheme", explicit({ endpoint: "https://10.0.0.1" }), '  - endpoint: "https://10.0.0.1" is not valid; expected an IPv4 or IPv6 address or a DNS name, without scheme or port'],
    ["vip not an IP", explicit({ vip: "api.example.com" }), '  - vip: "api.example.com" is not valid; expected an IPv4 or IPv6 address (kube-vip announces it)'],
    ["missing k3s token with agents", explicit({ agents: 1, k3sToken: undefined }), "  - k3sToken: undefined is not valid; expected a k3s token: nodes join the cluster (servers > 1 or agents > 0)"],
    ["k3s token with a space (not echoed)", explicit({ agents: 1, k3sToken: "abc def" }), "  - k3sToken: <secret> is not valid; expected a non-empty string without whitespace"],
    ["owned arg", explicit({ k3s: { args: ["--cluster-init"] } }), '  - k3s.args[0]: "--cluster-init" is not valid; expected no --cluster-init: the planner sets --cluster-init, --server and the token from servers, endpoint and k3sToken'],
    ["token arg (not echoed)", explicit({ k3s: { agentArgs: ["--token=supersecret"] } }), "  - k3s.agentArgs[0]: --token <secret> is not valid; expected no --token: the planner sets --cluster-init, --server and the token from servers, endpoint and k3sToken"],
    ["bad k3s version", explicit({ k3s: { version: "1.36" } }), '  - k3s.version: "1.36" is not valid; expected a k3s release such as v1.36.3+k3s1'],
    ["haMasterNodes in explicit", explicit({ haMasterNodes: 2 }), '  - haMasterNodes: 2 is not valid; expected unset in mode "explicit" (set servers instead); it applies to mode "p2p"'],
    ["p2p without token", p2p({ networkToken: undefined }), '  - networkToken: undefined is not valid; expected an edgevpn network token (generateNetworkToken) in mode "p2p"'],
    ["p2p bad token (not echoed)", p2p({ networkToken: "bm9wZQ==" }), "  - networkToken: <secret> is not valid; expected a valid edgevpn network token (network token: content must be a YAML map, got a string)"],
    ["p2p haMasterNodes disagreeing with servers", p2p({ servers: 3, haMasterNodes: 1 }), "  - haMasterNodes: 1 is not valid; expected servers - 1 = 2 (p2p control planes are 1 + haMasterNodes); leave it unset or change servers"],
    ["p2p even control planes", p2p({ servers: 2, agents: 3 }), "  - servers: 2 is not valid; expected an odd number of p2p control planes (1 + haMasterNodes) for etcd quorum; use 1 or 3"],
    ["p2p bad network id", p2p({ networkId: "a b" }), '  - networkId: "a b" is not valid; expected 1-63 of [A-Za-z0-9._-]'],
    ["vipInterface without vip", explicit({ vipInterface: "eth1" }), '  - vipInterface: "eth1" is not valid; expected set only together with vip'],
  ])("%s", (_t, spec, line) => {
    const message = planError(spec);
    expect(message.split("\n")).toContain(line);
    expect(message).not.toContain("supersecret");
    expect(message).not.toContain("abc def");
  });

  test("every problem is reported at once", () => {
    const message = planError({ cluster: "", servers: 4, agents: -1, mode: "explicit" });
    expect(message).toBe([
      "invalid cluster spec (3 problems)",
      `  - cluster: "" is not valid; expected a DNS label: lower-case letters, digits and '-', not starting or ending with '-', at most 40 characters`,
      "  - agents: -1 is not valid; expected a whole number from 0 to 10000",
      "  - servers: 4 is not valid; expected an odd number (1, 3, 5, ...): embedded etcd needs a majority; use 3 or 5",
    ].join("\n"));
  });
});
