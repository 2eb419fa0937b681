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

describe("a root the caller keeps (the CLI's cluster folders)", () => {
  // Only its existence is checked at construction; nothing here runs it.
  const fakeCliDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-fakecli-"));
    fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\nexit 99\n", { mode: 0o755 });
    return dir;
  };
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  let bin: string;
  let base: string;
  beforeEach(() => {
    bin = fakeCliDir();
    base = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-root-"));
  });
  afterEach(() => {
    fs.rmSync(bin, { recursive: true, force: true });
    fs.rmSync(base, { recursive: true, force: true });
  });

  test("is created 0700 with private backend and project folders and a 0600 passphrase, and dispose leaves it", async () => {
    const root = path.join(base, "clusters", "c1");
    await withPath(bin, async () => {
      const engine = new AutomationEngine({ stack: "c1", root });
      expect(mode(root)).toBe(0o700);
      expect(mode(path.join(root, "backend"))).toBe(0o700);
      expect(mode(path.join(root, "project"))).toBe(0o700);
      expect(mode(path.join(root, "passphrase"))).toBe(0o600);
      expect(fs.readFileSync(path.join(root, "passphrase"), "utf8")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fs.realpathSync(path.join(root, "project", "node_modules"))).toBe(fs.realpathSync(programNodeModules()));
      expect(engine.description).toContain(path.join(root, "backend"));
      await engine.dispose();
    });
    expect(fs.existsSync(path.join(root, "passphrase"))).toBe(true);
  });

  test("a later engine over the same root keeps the passphrase (so it can reopen the stack) and makes an existing folder private", async () => {
    const root = path.join(base, "c2");
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    await withPath(bin, async () => {
      new AutomationEngine({ stack: "c2", root });
      const first = fs.readFileSync(path.join(root, "passphrase"), "utf8");
      expect(mode(root)).toBe(0o700);
      new AutomationEngine({ stack: "c2", root });
      expect(fs.readFileSync(path.join(root, "passphrase"), "utf8")).toBe(first);
    });
  });

  test("without a root, dispose removes the engine's temporary folder as before", async () => {
    await withPath(bin, async () => {
      const engine = new AutomationEngine({ stack: "c3" });
      const backend = /file backend (\S+)$/.exec(engine.description)![1];
      expect(fs.existsSync(backend)).toBe(true);
      await engine.dispose();
      expect(fs.existsSync(path.dirname(backend))).toBe(false);
    });
  });

  test("without the CLI, a root engine fails with the install line and makes no folder", async () => {
    const root = path.join(base, "c4");
    await withPath("/nonexistent", () => {
      expect(() => new AutomationEngine({ stack: "c4", root })).toThrow(PULUMI_CLI_MISSING);
    });
    expect(fs.existsSync(root)).toBe(false);
  });
});
