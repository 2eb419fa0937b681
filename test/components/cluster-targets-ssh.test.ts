/**
 * L1: the ssh target under Pulumi mocks: one BareMetalNode per host, children of the cluster,
 * host mapping (plan order or roles), secrets secret; and the host-list validation table.
 */
import * as pulumi from "@pulumi/pulumi";
import { createSshTarget, hostForNode, validateSshTarget, type SshTargetArgs } from "../../components/cluster/targets/ssh";
import type { TargetNode } from "../../components/cluster/targets/types";
import { captureResources, isSecret, reveal, allStrings, type CapturedResource, type PropertyMap } from "../harness/dynamic-provider-host";
import { ADMIN_KEY, FakeCluster, IMAGE, TOKEN, context, nodeConfig, urnOf } from "./cluster-targets-fixture";

const TYPE = "pulumi-nodejs:dynamic/kairos:BareMetalNode";
const LIVE_PASSWORD = "live-Passw0rd-L1";
const host = (address: string, extra: Partial<SshTargetArgs["hosts"][0]> = {}) => ({ address, password: LIVE_PASSWORD, ...extra });
const counts = { servers: 1, agents: 2, mode: "explicit" as const };

describe("ssh target under mocks", () => {
  let resources: CapturedResource[];
  const nodes: Record<string, TargetNode> = {};
  let staticAddr: string | undefined;

  beforeAll(async () => {
    resources = await captureResources(() => {
      const parent = new FakeCluster("demo");
      const args: SshTargetArgs = {
        kind: "ssh",
        // Roles given: the server is listed last on purpose.
        hosts: [
          host("10.0.0.21", { role: "agent", name: "rack1-a" }),
          host("10.0.0.22", { role: "agent", port: 2222, device: "/dev/sda" }),
          { address: "10.0.0.10", role: "server", privateKey: pulumi.secret(ADMIN_KEY.replace("admin", "live")), hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey" },
        ],
        onDestroy: "reset",
      };
      const target = createSshTarget(args, IMAGE, context(parent), counts);
      expect(target).toMatchObject({ kind: "ssh", bootMode: "baremetal", connects: true, installDevice: "auto" });
      staticAddr = target.staticAddress("demo-server-0", 0, "server");
      for (const [name, group, index, role] of [["demo-server-0", "server", 0, "server"], ["demo-agent-0", "agent", 0, "agent"], ["demo-agent-1", "agent", 1, "agent"]] as const) {
        nodes[name] = target.createNode(
          { name, role, index, group, cloudConfig: nodeConfig(name), configDigest: pulumi.output("d"), configChange: "reboot" as const, secretsDigest: pulumi.output("s") },
          { dependsOn: [] },
        );
      }
    });
  });

  const byName = (n: string) => resources.find((r) => r.type === TYPE && r.name === n)!;

  test("the endpoint is the server host's address, known before anything is created", () => {
    expect(staticAddr).toBe("10.0.0.10");
  });

  test("one BareMetalNode per node, on the host of its role, with the cluster's admin and onDestroy", () => {
    expect(resources.filter((r) => r.type === TYPE).map((r) => r.name).sort()).toEqual(["demo-agent-0", "demo-agent-1", "demo-server-0"]);
    const s = byName("demo-server-0").inputs;
    expect(reveal<PropertyMap>(s.host)).toMatchObject({ name: "demo-server-0", address: "10.0.0.10", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey" });
    expect(reveal<PropertyMap>(byName("demo-agent-0").inputs.host)).toMatchObject({ name: "rack1-a", address: "10.0.0.21" });
    expect(reveal<PropertyMap>(byName("demo-agent-1").inputs.host)).toMatchObject({ name: "demo-agent-1", address: "10.0.0.22", port: 2222, device: "/dev/sda" });
    expect(s).toMatchObject({ adminUser: "kairos-admin", onDestroy: "reset", timeouts: { connectMs: 300_000, rebootMs: 900_000 } });
    expect(reveal(s.cloudConfig)).toContain("hostname: demo-server-0");
  });

  test("config, admin key and live credentials are secrets; no plain input carries them", () => {
    for (const name of ["demo-server-0", "demo-agent-0", "demo-agent-1"]) {
      const i = byName(name).inputs;
      expect(isSecret(i.cloudConfig)).toBe(true);
      expect(isSecret(i.adminPrivateKey)).toBe(true);
      const h = i.host as PropertyMap;
      const cred = isSecret(h) ? h : (h.password ?? h.privateKey);
      expect(isSecret(cred)).toBe(true);
      const plain = Object.entries(i).filter(([k, v]) => k !== "__provider" && !isSecret(v)).map(([, v]) => v);
      const leaked = allStrings(plain.map((v) => (typeof v === "object" && v !== null && !isSecret(v) ? Object.fromEntries(Object.entries(v as PropertyMap).filter(([, x]) => !isSecret(x))) : v))).join("\n");
      for (const s of [TOKEN, LIVE_PASSWORD, "L1-admin-key-material"]) expect(leaked).not.toContain(s);
    }
  });

  test("the nodes are children of the cluster and wait on their own install", async () => {
    const n = nodes["demo-agent-1"];
    expect(await urnOf(n.ready[0])).toBe("urn:pulumi:test::pulumi-kairos::kairos:index:KairosCluster$pulumi-nodejs:dynamic/kairos:BareMetalNode::demo-agent-1");
    expect(n).toMatchObject({ name: "demo-agent-1", role: "agent" });
  });
});

describe("ssh target host mapping and validation", () => {
  const ctx = () => context(new FakeCluster("v"));

  test("without roles, hosts follow plan order: servers first, then agents", () => {
    const hosts = [host("10.0.0.1"), host("10.0.0.2"), host("10.0.0.3")];
    expect(hostForNode(hosts, "server", 0, 1).host.address).toBe("10.0.0.1");
    expect(hostForNode(hosts, "agent", 1, 1).host.address).toBe("10.0.0.3");
    expect(hostForNode(hosts, "node", 2, 0).host.address).toBe("10.0.0.3");
  });

  test("a node without a host is an error naming target.hosts", () => {
    expect(() => hostForNode([host("10.0.0.1", { role: "server" })], "agent", 0, 1)).toThrow(
      'invalid ssh target (1 problem)\n  - target.hosts: 1 host(s) is not valid; expected a host with role "agent" for agent 0: one host per node');
  });

  test("without counts (older callers) hosts are handed out in the order nodes are asked for", () => {
    const t = createSshTarget({ kind: "ssh", hosts: [host("10.0.0.1"), host("10.0.0.2")] }, IMAGE, ctx());
    expect(t.staticAddress("v-server-0", 0, "server")).toBe("10.0.0.1");
    expect(t.staticAddress("v-agent-0", 0, "agent")).toBe("10.0.0.2");
    expect(t.staticAddress("v-server-0", 0, "server")).toBe("10.0.0.1");
  });

  test("createSshTarget refuses a host list that does not fit the plan", () => {
    expect(() => createSshTarget({ kind: "ssh", hosts: [host("10.0.0.1")] }, IMAGE, ctx(), counts)).toThrow(
      "target.hosts: 1 host(s) is not valid; expected exactly one host per node: 3 (servers 1 + agents 2)");
  });

  test.each<[string, SshTargetArgs, typeof counts | { servers: number; agents: number; mode: "p2p" }, string[]]>([
    ["too many hosts", { kind: "ssh", hosts: [host("a1"), host("a2")] }, { servers: 1, agents: 0, mode: "explicit" },
      ["target.hosts: 2 host(s) is not valid; expected exactly one host per node: 1 (servers 1 + agents 0)"]],
    ["a role on some hosts only", { kind: "ssh", hosts: [host("a1", { role: "server" }), host("a2"), host("a3", { role: "agent" })] }, counts,
      ['target.hosts[1].role: undefined is not valid; expected "server" or "agent" (give a role on every host or on none)']],
    ["roles not matching the counts", { kind: "ssh", hosts: [host("a1", { role: "server" }), host("a2", { role: "server" }), host("a3", { role: "agent" })] }, counts,
      ["target.hosts[].role: 2 server(s), 1 agent(s) is not valid; expected 1 server(s) and 2 agent(s), as the cluster's servers and agents"]],
    ["roles in p2p mode", { kind: "ssh", hosts: [host("a1", { role: "server" })] }, { servers: 1, agents: 0, mode: "p2p" },
      ["target.hosts[].role: 1 host(s) with a role is not valid; expected no role in p2p mode (roles are elected at boot)"]],
    ["the same machine twice, no credentials, bad onDestroy", { kind: "ssh", hosts: [host("a1"), { address: "a1" }, host("")], onDestroy: "wipe" as "reset" }, counts,
      ['target.hosts[1].address: "a1:22" is not valid; expected a machine not already listed (same as target.hosts[0])',
        'target.hosts[1].password: undefined is not valid; expected a password or privateKey for the live system (the live ISO has user "kairos", password "kairos")',
        'target.hosts[2].address: "" is not valid; expected an IP address or DNS name',
        'target.onDestroy: "wipe" is not valid; expected "none" or "reset"']],
  ])("%s is named with its field, value and what is accepted", (_t, args, c, messages) => {
    expect(validateSshTarget(args, c).map((i) => `${i.path}: ${i.value} is not valid; expected ${i.expected}`)).toEqual(messages);
  });

  test("a fitting host list has no issue", () => {
    expect(validateSshTarget({ kind: "ssh", hosts: [host("a1"), host("a2"), host("a3")] }, counts)).toEqual([]);
  });
});
