/** L0: the built CLI as a process (dist/cli/main.js, brought up to date by Jest's globalSetup): exit codes and streams. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const main = path.resolve(__dirname, "..", "..", "dist", "cli", "main.js");
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });

test("an unknown option exits 2 with one line on stderr and nothing on stdout", () => {
  const r = cli(["--bogus"]);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^pulumi-kairos: unknown option --bogus; .* \(pulumi-kairos --help\)\n$/);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
});

test("--help exits 0 with the usage on stdout; --version prints the package version", () => {
  const help = cli(["--help"]);
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^Usage: pulumi-kairos <command> \[options\]/);
  expect(help.stderr).toBe("");
  const version = cli(["--version"]);
  expect(version.status).toBe(0);
  expect(version.stdout).toBe(`${JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "package.json"), "utf8")).version}\n`);
});

test("the built file starts with the node shebang (npm links it as the pulumi-kairos bin)", () => {
  expect(fs.readFileSync(main, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "package.json"), "utf8"));
  expect(pkg.bin).toEqual({ "pulumi-kairos": "dist/cli/main.js" });
});

test("list in an empty store prints the header and exits 0", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-cli-main-"));
  try {
    const r = cli(["list"], { PULUMI_KAIROS_HOME: home });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("NAME  SERVERS  AGENTS  API  CREATED  EXPIRES\n");
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
