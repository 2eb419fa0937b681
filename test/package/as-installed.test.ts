/**
 * As installed: the package as users get it. `npm pack` (which builds through `prepack`), then the
 * tarball installed with @pulumi/pulumi into a program folder outside the repository, as a user's
 * `npm install` would.
 *
 * - The tarball holds the library only, and its declarations compile in that fresh consumer with
 *   `skipLibCheck: false` (node and node16 module resolution).
 * - A program in that folder (secrets, a network, one stand-in node: test fixture, not Kairos) runs
 *   through the L3+ harness with the folder's own @pulumi/pulumi and its own dynamic-provider host,
 *   so every driver is found by package path from the folder. Then the folder is moved and the
 *   stack destroyed from the new place, through the provider text saved at create, as `pulumi
 *   destroy` after a move or a reinstall would; nothing is left.
 */
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { run } from "../../providers/exec";
import { buildStandInGuest } from "../fixtures/standin-guest/build";
import { ProgramRun, REPO_ROOT, privateTempDir, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd, runId } from "../providers/libvirt/env";
import { outputValue as value } from "../harness/mocks";

const repoPackage = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
const scratch = privateTempDir("kairos-as-installed-");
const programDir = path.join(scratch.dir, "program");
const movedDir = path.join(scratch.dir, "moved", "program");
const id = runId();
let tarball = "";
let packed: string[] = [];
let pool: TestPool | undefined;
let program: ProgramRun | undefined;

async function npm(args: string[], cwd: string, timeoutMs = 600_000) {
  return run(["npm", ...args], { cwd, timeoutMs, env: { npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
}

beforeAll(async () => {
  expect(path.relative(REPO_ROOT, scratch.dir).startsWith("..")).toBe(true); // outside the repository
  const out = await npm(["pack", "--json", "--pack-destination", scratch.dir], REPO_ROOT);
  const info = JSON.parse(out.stdout.slice(out.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(scratch.dir, info[0].filename);
  packed = info[0].files.map((f) => f.path).sort();
  fs.mkdirSync(programDir, { recursive: true });
  fs.writeFileSync(path.join(programDir, "package.json"), JSON.stringify({
    name: "kairos-consumer", version: "1.0.0", private: true,
    dependencies: { "pulumi-kairos": `file:${tarball}`, "@pulumi/pulumi": repoPackage.devDependencies["@pulumi/pulumi"] },
    devDependencies: { "@types/node": repoPackage.devDependencies["@types/node"], "@types/jest": repoPackage.devDependencies["@types/jest"] },
  }, null, 2));
  await npm(["install", "--prefer-offline", "--no-package-lock"], programDir);
}, 900_000);

afterAll(async () => {
  await program?.destroy().catch(() => undefined);
  await pool?.remove().catch(() => undefined);
  scratch.remove();
}, 300_000);

describe("the packed tarball", () => {
  test("holds the library only: built JavaScript and declarations, the license and the readme", () => {
    expect(packed).toEqual(expect.arrayContaining([
      "LICENSE", "README.md", "package.json", "dist/lib.js", "dist/lib.d.ts", "dist/testing/index.js", "dist/testing/index.d.ts",
      ...["libvirt", "secrets", "readiness", "baremetal", "media", "image"].map((f) => `dist/providers/${f}/impl.js`),
    ]));
    const stray = packed.filter((f) => !/^(LICENSE|README\.md|package\.json|dist\/.+\.(js|d\.ts))$/.test(f));
    expect(stray).toEqual([]);
    expect(packed.filter((f) => /^dist\/(test|bench)\/|^dist\/index\.|\.test\.|tsbuildinfo|\.map$/.test(f))).toEqual([]);
  });

  test.each([["node", "commonjs"], ["node16", "node16"]])("its declarations compile in a fresh consumer with skipLibCheck false (moduleResolution %s)", async (resolution, module) => {
    // Inside the program folder: a name its paths do not map (the `pulumi-kairos/testing` subpath,
    // through package.json "exports" or "typesVersions") resolves from its node_modules, as for a user.
    const dir = path.join(programDir, `tsc-${resolution}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "index.ts"), [
      'import * as pulumi from "@pulumi/pulumi";',
      'import * as kairos from "pulumi-kairos";',
      "const cluster = new kairos.KairosCluster(\"c\", {",
      '  image: { kind: "disk", path: "/images/kairos.qcow2" },',
      '  target: { kind: "libvirt", uri: "qemu:///system", network: { kind: "create", mode: "nat", cidr: "10.77.0.0/24" } },',
      '  agents: 2, extraConfig: pulumi.secret({ runcmd: ["echo hi"] }), k3s: { args: [pulumi.output("--disable=traefik")] },',
      "});",
      "export const kubeconfig: pulumi.Output<string> = cluster.kubeconfig;",
      'const plan: kairos.NodePlan[] = kairos.planRoles({ cluster: "lab", servers: 1, agents: 1, mode: "explicit", k3sToken: "0123456789abcdef0123" });',
      'export const issues: kairos.ValidationIssue[] = kairos.validateCloudConfig(kairos.renderCloudConfig({ users: [{ name: "ops", groups: ["admin"] }] }));',
      "export const first = plan[0].name;",
      'import { createEphemeralCluster, withKairosCluster, type EphemeralCluster, type EphemeralClusterOptions } from "pulumi-kairos/testing";',
      "export const make: (o: EphemeralClusterOptions) => Promise<EphemeralCluster> = createEphemeralCluster;",
      "export const during = (o: EphemeralClusterOptions) => withKairosCluster(o, async (c) => { await using held = c; return held.kubectl(\"get\", \"nodes\"); });",
      'export const tag: string = kairos.image.imageTag(kairos.image.normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso"] }));',
      "",
    ].join("\n"));
    // The README's and examples/' Jest test, as a user copies it.
    fs.copyFileSync(path.join(REPO_ROOT, "examples", "jest-ephemeral", "cluster.test.ts"), path.join(dir, "cluster.test.ts"));
    const declarations = packed.filter((f) => f.endsWith(".d.ts")).map((f) => path.join(programDir, "node_modules", "pulumi-kairos", f));
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        strict: true, skipLibCheck: false, noEmit: true, target: "ES2022", module, moduleResolution: resolution, esModuleInterop: true,
        lib: ["ES2022", "esnext.disposable"],
        types: ["node", "jest"], typeRoots: [path.join(programDir, "node_modules", "@types")], baseUrl: programDir, paths: { "*": [path.join(programDir, "node_modules", "*")] },
      },
      files: ["index.ts", "cluster.test.ts", ...declarations],
    }, null, 2));
    const tsc = require.resolve("typescript/bin/tsc", { paths: [REPO_ROOT] });
    const r = await run([process.execPath, tsc, "-p", dir], { cwd: dir, timeoutMs: 180_000, allowFailure: true });
    const errors = (r.stdout + r.stderr).split("\n").filter((l) => /error TS\d+/.test(l));
    // Ours: the consumer files and every declaration in the package. Under node16 resolution
    // @pulumi/pulumi's own proto declarations lack @types/google-protobuf, and jest's own
    // declarations lack chalk's: theirs to fix.
    const ours = errors.filter((l) => !/node_modules\//.test(l.split("(")[0]) || /node_modules\/pulumi-kairos\//.test(l));
    expect(ours).toEqual([]);
    if (resolution === "node") expect(errors).toEqual([]);
    else if (errors.length) console.log(`moduleResolution ${resolution}: ${errors.length} error(s) in other packages' own declarations (@pulumi/pulumi, jest), none in pulumi-kairos or the consumer`);
  }, 240_000);
});

describe("the pulumi-kairos command as installed", () => {
  test("npm links it into node_modules/.bin: --help exits 0, a bad argument is one line and exit code 2", async () => {
    const bin = path.join(programDir, "node_modules", ".bin", "pulumi-kairos");
    const help = await run([bin, "--help"], { cwd: programDir, timeoutMs: 60_000, allowFailure: true });
    expect([help.exitCode, help.stdout]).toEqual([0, expect.stringMatching(/\bup\b[^]*\blist\b[^]*\bkubeconfig\b[^]*\bdown\b[^]*\breap\b/)]);
    const bad = await run([bin, "up", "--image", "/i/k.qcow2", "--servers", "zero"], { cwd: programDir, timeoutMs: 60_000, allowFailure: true });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^pulumi-kairos: .*--servers.*"?zero"?/)]);
  }, 120_000);
});

describe("pulumi-kairos/testing as installed", () => {
  test("resolves by its subpath and, without the Pulumi CLI on PATH, rejects with the one-line install message", async () => {
    const script = [
      'const t = require("pulumi-kairos/testing");',
      'if (typeof t.createEphemeralCluster !== "function" || typeof t.withKairosCluster !== "function") throw new Error("exports missing");',
      't.createEphemeralCluster({ image: { kind: "disk", path: "/nope.qcow2" }, target: { kind: "libvirt" } })',
      '  .then(() => { console.log("resolved?"); process.exit(1); }, (e) => { console.log(e.message); process.exit(e.message === t.PULUMI_CLI_MISSING ? 0 : 2); });',
    ].join("\n");
    const r = await run([process.execPath, "-e", script], { cwd: programDir, env: { PATH: path.dirname(process.execPath) }, timeoutMs: 60_000, allowFailure: true });
    expect(r.stdout.trim()).toMatch(/^pulumi-kairos\/testing needs the Pulumi CLI on PATH/);
    expect(r.exitCode).toBe(0);
  }, 120_000);
});

describe("a program in the consumer folder (L3+ from the installed package)", () => {
  test("creates secrets, a network and one stand-in node, then is destroyed from a moved folder, leaving nothing", async () => {
    await ensureLibvirtd();
    const guestDisk = (await buildStandInGuest()).diskImage;
    pool = await createTestPool(LOCAL, `${id}-pool`);
    fs.writeFileSync(path.join(programDir, "program.js"), [
      "// A user's program: the package by its name, from this folder's node_modules.",
      'const kairos = require("pulumi-kairos");',
      "module.exports = (o) => new kairos.KairosCluster(o.name, {",
      '  image: { kind: "disk", path: o.guestDisk },',
      '  target: { kind: "libvirt", uri: "qemu:///system", pool: o.pool, network: { kind: "create", mode: "isolated", cidr: o.cidr },',
      '    vcpus: 1, memoryMiB: 256, diskGiB: 1, domainType: "qemu" },',
      "  timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 120 },",
      "});",
      "",
    ].join("\n"));
    const sdk = require(require.resolve("@pulumi/pulumi", { paths: [programDir] })) as typeof import("@pulumi/pulumi");
    expect(require.resolve("@pulumi/pulumi", { paths: [programDir] }).startsWith(programDir)).toBe(true);
    const userProgram = require(path.join(programDir, "program.js")) as (o: Record<string, string>) => { kubeconfig: import("@pulumi/pulumi").Output<string> };
    const cidr = `10.216.${1 + (randomBytes(1)[0] % 250)}.0/24`;
    let cluster!: { kubeconfig: import("@pulumi/pulumi").Output<string> };
    program = await runProgramWithDynamicProviders(() => {
      cluster = userProgram({ name: id, guestDisk, pool: pool!.name, cidr });
    }, { sdk, cwd: programDir, env: { HOME: scratch.dir, TMPDIR: scratch.dir }, callTimeoutMs: 420_000, timeoutMs: 900_000, settleMs: 3000 });

    const kinds = program.created.map((r) => r.type.split(":").pop());
    expect([...kinds].sort()).toEqual(["BaseImageVolume", "CidataVolume", "ClusterReady", "ClusterSecrets", "Domain", "Network", "NodeConfig", "NodeDisk"]);
    // The cluster is Ready only after its domain runs; each node's NodeConfig follows readiness.
    expect(kinds.indexOf("ClusterReady")).toBeGreaterThan(kinds.indexOf("Domain"));
    expect(kinds[kinds.length - 1]).toBe("NodeConfig");
    expect(await value(cluster.kubeconfig as never)).toContain("server: https://10.216.");
    for (const r of program.created) {
      const text = String(r.outputs.__provider);
      expect(text).toContain("pulumi-kairos/drivers/");
      expect(text).not.toContain(programDir);
      expect(text).not.toContain(REPO_ROOT);
      expect(r.outputs.kairosState).toEqual({ schema: expect.any(Number), writtenBy: repoPackage.version });
    }

    fs.mkdirSync(path.dirname(movedDir), { recursive: true });
    fs.renameSync(programDir, movedDir);
    const done = program;
    program = undefined;
    await done.destroy({ from: movedDir });
    expect(done.host.output()).not.toMatch(/Cannot find module|cannot load pulumi-kairos/);
    const leftovers = (await run(["virsh", "-q", "-c", LOCAL.uri, "list", "--all", "--name"])).stdout + (await run(["virsh", "-q", "-c", LOCAL.uri, "net-list", "--all", "--name"])).stdout;
    expect(leftovers.split("\n").filter((n) => n.includes(id))).toEqual([]);
    const volumes = (await run(["virsh", "-q", "-c", LOCAL.uri, "vol-list", "--pool", pool!.name])).stdout.trim();
    expect(volumes).toBe("");
  }, 1_200_000);
});
