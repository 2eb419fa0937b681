/**
 * L1: the root program (index.ts), run under Pulumi's mocks with exactly the config defaults that
 * Pulumi.yaml declares (the CLI applies them for `pulumi up`; mocks do not, so this test reads them
 * from the file). Proves the default stack's graph: the pinned release ISO verified by its published
 * checksum file, a NAT network of its own, 1 server + 2 agents installing from the ISO, and secret outputs.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { outputValue as value, settleThenDisconnect } from "./harness/mocks";

interface Registered { type: string; name: string; inputs: Record<string, any> }
const registered: Registered[] = [];
const T = (m: string, t: string) => `pulumi-nodejs:dynamic/${m}:${t}`;
let lastRegistration = Date.now();
let program: Record<string, pulumi.Output<any>>;

const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, { default: unknown }> };

function state(type: string, inputs: Record<string, any>): Record<string, unknown> {
  if (type === T("kairos-secrets", "ClusterSecrets")) return { ...inputs, networkToken: "t", k3sToken: "k3s-mock-token-0123456789", sshPrivateKey: "k", sshPublicKey: "ssh-ed25519 AAAA x" };
  if (type === T("kairos-libvirt", "Domain")) return { ...inputs, name: inputs.node, address: `192.168.213.${10 + registered.filter((r) => r.type === type).length}`, macAddress: "52:54:00:00:00:01" };
  if (type === T("kairos-libvirt", "CidataVolume")) return { ...inputs, name: `${inputs.node}-cidata`, userDataSha256: "00" };
  if (type === T("kairos-readiness", "ClusterReady")) return { ...inputs, kubeconfig: `server: https://${inputs.endpoint}:6443`, apiEndpoint: `https://${inputs.endpoint}:6443` };
  return { ...inputs, name: inputs.name ?? `${inputs.node ?? "x"}-vol` };
}

beforeAll(async () => {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(project.config)) config[`${project.name}:${k}`] = String(v.default);
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks({
    newResource(args) {
      lastRegistration = Date.now();
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: `${args.name}-id`, state: state(args.type, args.inputs) };
    },
    call: (args) => args.inputs,
  }, project.name, "dev", false);
  program = await import("../index");
});

afterAll(() => settleThenDisconnect(() => lastRegistration), 90_000);


test("the default stack boots 1 server and 2 agents from the pinned release ISO, verified by its checksum file", async () => {
  const nodes = await value(program.nodes);
  expect(nodes.map((n: { name: string; role: string }) => [n.name, n.role])).toEqual([
    ["kairos-server-0", "server"],
    ["kairos-agent-0", "agent"],
    ["kairos-agent-1", "agent"],
  ]);
  const base = registered.find((r) => r.type === T("kairos-libvirt", "BaseImageVolume"))!;
  expect(base.inputs.source).toEqual({
    kind: "url",
    url: "https://github.com/kairos-io/kairos/releases/download/v4.3.0/kairos-hadron-v0.5.1-standard-amd64-generic-v4.3.0-k3sv1.36.4+k3s1.iso",
    checksumUrl: "https://github.com/kairos-io/kairos/releases/download/v4.3.0/kairos-hadron-v0.5.1-standard-amd64-generic-v4.3.0-k3sv1.36.4+k3s1.iso.sha256",
  });
  const net = registered.find((r) => r.type === T("kairos-libvirt", "Network"))!;
  expect([net.inputs.mode, net.inputs.cidr]).toEqual(["nat", "192.168.213.0/24"]);
  expect(registered.filter((r) => r.type === T("kairos-libvirt", "Domain")).map((r) => r.inputs.installIsoVolume !== undefined)).toEqual([true, true, true]);
});

test("ISO nodes install themselves (install.auto with reboot) and every token output is secret", async () => {
  const configs = await value(program.cloudConfigs);
  for (const text of Object.values(configs) as string[]) {
    const doc = yaml.load(text) as { install: Record<string, unknown> };
    expect(doc.install).toMatchObject({ auto: true, device: "auto", reboot: true });
  }
  for (const name of ["kubeconfig", "k3sToken", "sshPrivateKey", "cloudConfigs"]) {
    expect(await pulumi.isSecret(program[name])).toBe(true);
  }
  expect(await value(program.apiEndpoint)).toMatch(/^https:\/\/192\.168\.213\.\d+:6443$/);
});
