/**
 * L0: the Automation API engine's preconditions, without the Pulumi CLI: a missing CLI fails at
 * once, before any folder is made or anything is registered, with one line naming how to install it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AutomationEngine, PULUMI_CLI_MISSING, findPulumiCli, programNodeModules } from "../../testing/automation";
import { cleanup } from "../../testing/cleanup";
import { createEphemeralCluster } from "pulumi-kairos/testing";

const withPath = async <T>(value: string, fn: () => Promise<T> | T): Promise<T> => {
  const old = process.env.PATH;
  process.env.PATH = value;
  try {
    return await fn();
  } finally {
    process.env.PATH = old;
  }
};

test("the CLI-missing message is one line naming the CLI, why and how to install it", () => {
  expect(PULUMI_CLI_MISSING.split("\n")).toHaveLength(1);
  expect(PULUMI_CLI_MISSING).toMatch(/needs the Pulumi CLI on PATH/);
  expect(PULUMI_CLI_MISSING).toMatch(/Automation API/);
  expect(PULUMI_CLI_MISSING).toMatch(/curl -fsSL https:\/\/get\.pulumi\.com \| sh/);
});

test("findPulumiCli finds an executable named pulumi on PATH, and only that", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-cli-"));
  try {
    expect(findPulumiCli(dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\n", { mode: 0o644 });
    expect(findPulumiCli(dir)).toBeUndefined(); // not executable
    fs.chmodSync(path.join(dir, "pulumi"), 0o755);
    expect(findPulumiCli(`/nonexistent${path.delimiter}${dir}`)).toBe(path.join(dir, "pulumi"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("without the CLI, createEphemeralCluster rejects with that line and leaves nothing registered or written", async () => {
  const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("kairos-eph-"));
  await withPath("/nonexistent", async () => {
    expect(() => new AutomationEngine({ stack: "eph-x" })).toThrow(PULUMI_CLI_MISSING);
    await expect(createEphemeralCluster({ image: { kind: "disk", path: "/nope.qcow2" }, target: { kind: "libvirt" } })).rejects.toThrow(PULUMI_CLI_MISSING);
  });
  expect(cleanup.size).toBe(0);
  expect(cleanup.active).toBe(false);
  expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("kairos-eph-"))).toEqual(before);
});

test("the CLI's project folder links the node_modules holding both @pulumi/pulumi and pulumi-kairos", () => {
  const nm = programNodeModules();
  expect(fs.existsSync(path.join(nm, "@pulumi", "pulumi", "package.json"))).toBe(true);
  expect(fs.existsSync(path.join(nm, "pulumi-kairos", "package.json"))).toBe(true);
});
