/**
 * L4, opt-in (KAIROS_E2E=1): `pulumi-kairos/testing` through its real engine, Pulumi's Automation
 * API (the glue the L3+ tests replace with the harness engine: LocalWorkspace inline program, file
 * backend in a private folder, passphrase through the environment, the CLI's project folder linked
 * to this node_modules). Needs the Pulumi CLI, internet (the release ISO, the kubernetes plugin),
 * libvirt with KVM and the `default` storage pool (`scripts/setup-host.sh --deploy`).
 * `KAIROS_E2E_IMAGE` a local image instead of the release ISO.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createEphemeralCluster, EphemeralClusterError, type EphemeralClusterOptions } from "pulumi-kairos/testing";
import { run } from "../../providers/exec";

const RELEASE = "https://github.com/kairos-io/kairos/releases/download/v4.3.0/kairos-hadron-v0.5.1-standard-amd64-generic-v4.3.0-k3sv1.36.4+k3s1.iso";
const image: EphemeralClusterOptions["image"] = process.env.KAIROS_E2E_IMAGE
  ? { kind: /\.iso$/.test(process.env.KAIROS_E2E_IMAGE) ? "iso" : "disk", path: process.env.KAIROS_E2E_IMAGE }
  : { kind: "iso", url: RELEASE, checksumUrl: `${RELEASE}.sha256` };
const target: EphemeralClusterOptions["target"] = { kind: "libvirt", network: { kind: "create", mode: "nat", cidr: "192.168.216.0/24" }, memoryMiB: 4096 };

async function leftovers(name: string): Promise<string[]> {
  const out = (await run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"])).stdout + (await run(["virsh", "-c", "qemu:///system", "net-list", "--all", "--name"])).stdout;
  return out.split("\n").filter((n) => n.includes(name));
}

test("an ephemeral cluster comes up Ready through the Automation API and dispose removes it all", async () => {
  const cluster = await createEphemeralCluster({ image, target, servers: 1, agents: 1, log: (l) => process.stdout.write(`${l}\n`) });
  try {
    expect(await cluster.kubectl("get", "nodes", "--no-headers")).toMatch(/ Ready /);
    expect((await cluster.ssh(cluster.nodes[0], "id -un")).trim()).toBe("kairos-admin");
    expect(fs.statSync(cluster.kubeconfigPath).mode & 0o777).toBe(0o600);
  } finally {
    await cluster[Symbol.asyncDispose]();
  }
  expect(await leftovers(cluster.name)).toEqual([]);
  expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`kairos-eph-${cluster.name}-`))).toEqual([]);
}, 3 * 3600_000);

test("a failed create through the Automation API leaves nothing; keepOnFailure's removal command works", async () => {
  const missing = { kind: "disk" as const, path: path.join(os.tmpdir(), "kairos-e2e-no-such-image.qcow2") };
  const e1 = await createEphemeralCluster({ image: missing, target }).then(() => undefined, (e: Error) => e);
  expect(e1).toBeInstanceOf(EphemeralClusterError);
  const keepDir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-e2e-keep-"));
  const e2 = await createEphemeralCluster({ name: "eph-e2e-kept", image: missing, target, keepOnFailure: true, keepDir }).then(() => undefined, (e: Error) => e) as EphemeralClusterError;
  expect(e2.keptIn).toBe(keepDir);
  expect(fs.existsSync(path.join(keepDir, "state.json"))).toBe(true);
  await run(["sh", "-c", e2.removeCommand!], { timeoutMs: 600_000 });
  expect(fs.existsSync(keepDir)).toBe(false);
  expect(await leftovers("eph-e2e-kept")).toEqual([]);
}, 3600_000);

test("the pulumi-kairos command: up prints the kubeconfig path, list and kubeconfig find it, down removes it all", async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-e2e-cli-"));
  const cli = (...args: string[]) => run([process.execPath, path.join(__dirname, "..", "..", "dist", "cli", "main.js"), ...args], { timeoutMs: 3 * 3600_000, env: { PULUMI_KAIROS_HOME: home } });
  const name = "eph-e2e-cli";
  const imageArgs = image.path ? ["--image", image.path] : ["--image", image.url!, "--image-checksum-url", image.checksumUrl!];
  try {
    const up = await cli("up", "--name", name, ...imageArgs, "--agents", "1", "--ttl", "2h");
    expect(up.stdout).toBe(`${path.join(home, "clusters", name, "kubeconfig")}\n`);
    expect((await cli("kubeconfig", name)).stdout.trim()).toBe(up.stdout.trim());
    expect(JSON.parse((await cli("list", "--json")).stdout).map((c: { name: string }) => c.name)).toEqual([name]);
    expect((await cli("reap", "--dry-run")).stdout).not.toContain(name); // live: not due
    await cli("down", name);
    expect(fs.existsSync(path.join(home, "clusters", name))).toBe(false);
    expect(await leftovers(name)).toEqual([]);
  } finally {
    await cli("down", name).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  }
}, 3 * 3600_000);
