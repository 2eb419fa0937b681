/**
 * Jest globalSetup: brings dist/ up to date (`tsc -p tsconfig.build.json`, incremental) before any
 * test runs. Pulumi's dynamic-provider host loads drivers the way a user's program does, by package
 * path (`pulumi-kairos/drivers/<family>` -> dist/providers/<family>/impl.js through the repository's
 * self-link), so L3 tests must never run against a stale build.
 */
const { execFileSync } = require("child_process");
const path = require("path");

module.exports = async function buildPackage() {
  const root = path.resolve(__dirname, "..");
  const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
  try {
    execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "pipe" });
  } catch (e) {
    throw new Error(`building the package for the provider host failed (tsc -p tsconfig.build.json):\n${e.stdout || ""}${e.stderr || ""}`);
  }
};
