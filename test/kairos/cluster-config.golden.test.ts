/**
 * Golden files: the exact bytes each node of a few reference clusters receives, one file per node in
 * test/kairos/golden/<scenario>--<node>.yaml, compared byte for byte.
 *
 * After an intended change, regenerate and review the diff:
 *   UPDATE_GOLDEN=1 npx jest test/kairos/cluster-config.golden
 * Tokens and keys below are fake but valid, so the files are stable and pass validation.
 */
import * as fs from "fs";
import * as path from "path";
import { buildNodeConfigs, BuildNodeConfigsInput } from "../../kairos/cluster-config";
import { validateCloudConfig } from "../../kairos/cloudconfig/validate";
import { encodeNetworkToken } from "../../kairos/edgevpn/token";
import { ClusterSpec, fillEndpoint, planRoles } from "../../kairos/roles/plan";

const GOLDEN_DIR = path.join(__dirname, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const K3S_TOKEN = "K10goldenfakeclustertoken0000000000000000000000000000::server:goldenfake";
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenFakeKeyGoldenFakeKeyGoldenFakeKey00 pulumi-kairos-cluster",
  "github:ops-team",
];
const fake = (label: string) => (label + "0".repeat(43)).slice(0, 43);
const NETWORK_TOKEN = encodeNetworkToken({
  otp: {
    dht: { interval: "max", key: fake("GoldenFakeDhtKey"), length: 43 },
    crypto: { interval: "max", key: fake("GoldenFakeCryptoKey"), length: 43 },
  },
  room: fake("GoldenFakeRoom"),
  rendezvous: fake("GoldenFakeRendezvous"),
  mdns: fake("GoldenFakeMdns"),
  max_message_size: 20971520,
});

interface Scenario {
  spec: ClusterSpec;
  endpoint?: string;
  nodes: Omit<BuildNodeConfigsInput, "plan">;
}

const SCENARIOS: Record<string, Scenario> = {
  "single-node": {
    spec: { cluster: "solo", servers: 1, agents: 0, mode: "explicit" },
    nodes: { sshAuthorizedKeys: KEYS, bootMode: "disk" },
  },
  "ha-3-servers-2-agents-vip": {
    spec: { cluster: "ha", servers: 3, agents: 2, mode: "explicit", vip: "192.168.122.10", k3sToken: K3S_TOKEN, k3s: { args: ["--disable=traefik"] } },
    endpoint: "192.168.122.11", // learned after the first server booted
    nodes: { sshAuthorizedKeys: KEYS, bootMode: "iso" },
  },
  "p2p-5-nodes-auto-ha": {
    spec: { cluster: "mesh", servers: 3, agents: 2, mode: "p2p", networkToken: NETWORK_TOKEN, networkId: "mesh-a" },
    nodes: { sshAuthorizedKeys: KEYS, bootMode: "iso" },
  },
  "p2p-single-node": {
    spec: { cluster: "edge", servers: 1, agents: 0, mode: "p2p", networkToken: NETWORK_TOKEN, vip: "192.168.122.50" },
    nodes: { sshAuthorizedKeys: KEYS, bootMode: "disk" },
  },
  "baremetal-install": {
    spec: { cluster: "metal", servers: 1, agents: 1, mode: "explicit", endpoint: "metal-server-0.lan", k3sToken: K3S_TOKEN },
    nodes: {
      sshAuthorizedKeys: KEYS, bootMode: "baremetal", installDevice: "/dev/nvme0n1", adminUser: "ops",
      extraConfig: { stages: { boot: [{ name: "time sync", commands: ["timedatectl set-ntp true"] }] } },
    },
  },
};

function render(s: Scenario) {
  let plan = planRoles(s.spec);
  if (s.endpoint) plan = fillEndpoint(plan, s.endpoint);
  return buildNodeConfigs({ plan, ...s.nodes });
}

const expectedFiles = new Set<string>();

describe.each(Object.entries(SCENARIOS))("golden %s", (scenario, s) => {
  const nodes = render(s);
  test.each(nodes.map((n) => [n.name, n.text] as const))("%s matches its golden file byte for byte and validates", (name, text) => {
    const file = path.join(GOLDEN_DIR, `${scenario}--${name}.yaml`);
    expectedFiles.add(path.basename(file));
    if (UPDATE) fs.writeFileSync(file, text);
    if (!fs.existsSync(file)) throw new Error(`golden file missing: ${file}; create it with UPDATE_GOLDEN=1 npx jest test/kairos/cluster-config.golden`);
    const golden = fs.readFileSync(file, "utf8");
    expect(text).toBe(golden);
    expect(validateCloudConfig(golden)).toEqual([]);
  });
});

test("no stale golden files are left behind", () => {
  const onDisk = fs.readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".yaml"));
  if (UPDATE) for (const f of onDisk) if (!expectedFiles.has(f)) fs.unlinkSync(path.join(GOLDEN_DIR, f));
  expect(fs.readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".yaml")).sort()).toEqual([...expectedFiles].sort());
  expect(expectedFiles.size).toBe(1 + 5 + 5 + 1 + 2);
});
