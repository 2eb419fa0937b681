/**
 * L1: the media target under Pulumi mocks: one NodeMedia per node (children of the cluster, config
 * secret), the role ISO on the first node of each role only, no connection; the endpoint rule.
 */
import * as pulumi from "@pulumi/pulumi";
import { assertEndpointKnown, createMediaTarget, validateMediaTarget, type MediaTargetArgs } from "../../components/cluster/targets/media";
import type { NodeTarget, TargetNode } from "../../components/cluster/targets/types";
import { ENDPOINT_PLACEHOLDER } from "../../kairos/roles/plan";
import { captureResources, isSecret, allStrings, type CapturedResource } from "../harness/dynamic-provider-host";
import { FakeCluster, IMAGE, TOKEN, context, nodeConfig, urnOf } from "./cluster-targets-fixture";

const TYPE = "pulumi-nodejs:dynamic/kairos:NodeMedia";
const ARGS: MediaTargetArgs = { kind: "media", outputDir: "/srv/kairos-media", endpoint: "192.168.10.5", isoImage: { imageRef: "kairos-custom/ubuntu:24.04-core", engine: "podman" } };
const PLAN = [
  ["demo-server-0", "server", 0, "init"], ["demo-server-1", "server", 1, "server"], ["demo-server-2", "server", 2, "server"],
  ["demo-agent-0", "agent", 0, "agent"], ["demo-agent-1", "agent", 1, "agent"],
] as const;

describe("media target under mocks (3 servers + 2 agents)", () => {
  let resources: CapturedResource[];
  let target: NodeTarget;
  const nodes: Record<string, TargetNode> = {};

  beforeAll(async () => {
    resources = await captureResources(() => {
      const parent = new FakeCluster("demo");
      target = createMediaTarget(ARGS, IMAGE, context(parent), { servers: 3, agents: 2, mode: "explicit" });
      for (const [name, group, index, role] of PLAN) {
        nodes[name] = target.createNode({ name, role, index, group, cloudConfig: nodeConfig(name), configDigest: pulumi.output("d"), configChange: "reboot" as const, secretsDigest: pulumi.output("s") }, { dependsOn: [] });
      }
    });
  });

  const media = () => resources.filter((r) => r.type === TYPE);

  test("connects to nothing, installs from ISO, and knows the endpoint up front", () => {
    expect(target).toMatchObject({ kind: "media", bootMode: "iso", connects: false, installDevice: "auto" });
    expect(target.staticAddress("demo-server-0", 0, "server")).toBe("192.168.10.5");
    expect(target.staticAddress("demo-agent-0", 0, "agent")).toBeUndefined();
  });

  test("one NodeMedia per node, in the output folder, with a secret config and nothing secret elsewhere", () => {
    expect(media().map((r) => r.name).sort()).toEqual(PLAN.map((p) => p[0]).sort());
    for (const r of media()) {
      expect(r.inputs).toMatchObject({ outputDir: "/srv/kairos-media", node: r.name });
      expect(isSecret(r.inputs.cloudConfig)).toBe(true);
      const { cloudConfig: _c, __provider: _p, ...rest } = r.inputs;
      expect(allStrings(rest).join("\n")).not.toContain(TOKEN);
    }
  });

  test("each role's installer ISO is asked of its first node only", () => {
    const roleIsos = Object.fromEntries(media().filter((r) => r.inputs.roleIso).map((r) => [r.name, r.inputs.roleIso]));
    expect(roleIsos).toEqual({
      "demo-server-0": { name: "demo-init", imageRef: "kairos-custom/ubuntu:24.04-core", engine: "podman" },
      "demo-server-1": { name: "demo-server", imageRef: "kairos-custom/ubuntu:24.04-core", engine: "podman" },
      "demo-agent-0": { name: "demo-agent", imageRef: "kairos-custom/ubuntu:24.04-core", engine: "podman" },
    });
  });

  test("nodes are children of the cluster; the first server reports the endpoint as its address", async () => {
    expect(await urnOf(nodes["demo-agent-1"].ready[0])).toBe("urn:pulumi:test::pulumi-kairos::kairos:index:KairosCluster$pulumi-nodejs:dynamic/kairos:NodeMedia::demo-agent-1");
    expect(await new Promise((r) => nodes["demo-server-0"].address.apply(r))).toBe("192.168.10.5");
    expect(await new Promise((r) => nodes["demo-agent-0"].address.apply(r))).toBeUndefined();
  });
});

describe("media target validation", () => {
  const fmt = (args: MediaTargetArgs, c?: Parameters<typeof validateMediaTarget>[1]) =>
    validateMediaTarget(args, c).map((i) => `${i.path}: ${i.value} is not valid; expected ${i.expected}`);

  test.each<[string, MediaTargetArgs, Parameters<typeof validateMediaTarget>[1], string[]]>([
    ["a relative folder and a URL as endpoint", { kind: "media", outputDir: "media", endpoint: "https://10.0.0.1:6443" }, undefined,
      ['target.outputDir: "media" is not valid; expected an absolute directory path (e.g. /srv/kairos-media)',
        'target.endpoint: "https://10.0.0.1:6443" is not valid; expected an IPv4 or IPv6 address or a DNS name, without scheme or port']],
    ["joining servers without an endpoint", { kind: "media", outputDir: "/m" }, { servers: 3, agents: 0, mode: "explicit" },
      ["target.endpoint: undefined is not valid; expected the address the first server will have (an IP or DNS name): with 3 server(s) and 0 agent(s) nodes join it, and media cannot learn it (agents alone can use k3s.vip)"]],
    ["agents without an endpoint or VIP", { kind: "media", outputDir: "/m" }, { servers: 1, agents: 2 },
      ["target.endpoint: undefined is not valid; expected the address the first server will have (an IP or DNS name): with 1 server(s) and 2 agent(s) nodes join it, and media cannot learn it (agents alone can use k3s.vip)"]],
    ["an isoImage with neither source", { kind: "media", outputDir: "/m", isoImage: {} }, undefined,
      ["target.isoImage: neither isoPath nor imageRef is not valid; expected exactly one of isoPath (a Kairos ISO file) and imageRef (a Kairos container image)"]],
    ["an isoImage with a relative ISO path", { kind: "media", outputDir: "/m", isoImage: { isoPath: "kairos.iso" } }, undefined,
      ['target.isoImage.isoPath: "kairos.iso" is not valid; expected an absolute path of a Kairos ISO file']],
  ])("%s is named with its field, value and what is accepted", (_t, args, c, messages) => {
    expect(fmt(args, c)).toEqual(messages);
  });

  test.each<[string, Parameters<typeof validateMediaTarget>[1]]>([
    ["a single server", { servers: 1, agents: 0 }],
    ["one server and agents joining a VIP", { servers: 1, agents: 3, vip: "10.0.0.100" }],
    ["p2p (roles elected at boot)", { servers: 3, agents: 2, mode: "p2p" }],
  ])("no endpoint is needed for %s", (_t, c) => {
    expect(fmt({ kind: "media", outputDir: "/m" }, c)).toEqual([]);
  });

  test("createMediaTarget throws the same issues", () => {
    expect(() => createMediaTarget({ kind: "media", outputDir: "/m" }, IMAGE, context(new FakeCluster("x")), { servers: 3, agents: 0 })).toThrow(/^invalid media target \(1 problem\)\n {2}- target\.endpoint: undefined/);
  });

  test("a config still waiting for the endpoint is refused naming target.endpoint", () => {
    expect(() => assertEndpointKnown("demo-agent-0", `#cloud-config\nk3s-agent:\n  env:\n    K3S_URL: https://${ENDPOINT_PLACEHOLDER}:6443\n`)).toThrow(/target\.endpoint: undefined is not valid; expected .*node demo-agent-0 joins it/);
    expect(() => assertEndpointKnown("demo-agent-0", "#cloud-config\n")).not.toThrow();
  });
});
