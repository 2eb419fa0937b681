/**
 * L0: the examples folder says what the README says. The Jest example itself is type-checked against
 * the packed package in test/package/as-installed.test.ts; here: the GitHub Actions workflow is valid
 * YAML that runs on a self-hosted KVM runner, installs the Pulumi CLI, runs the tests bounded in
 * time, and reaps before the tests and after them even when they fail or are cancelled.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

const ROOT = path.join(__dirname, "..");

interface Step { uses?: string; run?: string; if?: string; name?: string }
const workflow = yaml.load(fs.readFileSync(path.join(ROOT, "examples", "github-actions", "kairos-tests.yml"), "utf8")) as {
  jobs: Record<string, { "runs-on": string[]; "timeout-minutes": number; steps: Step[] }>;
};

test("the workflow runs the tests on a self-hosted KVM runner, within a time bound", () => {
  const job = workflow.jobs.test;
  expect(job["runs-on"]).toEqual(expect.arrayContaining(["self-hosted", "kvm"]));
  expect(job["timeout-minutes"]).toBeGreaterThan(0);
  expect(job.steps.some((s) => s.uses?.startsWith("pulumi/actions@"))).toBe(true);
  expect(job.steps.some((s) => /npm test/.test(s.run ?? ""))).toBe(true);
});

test("the reaper runs before the tests and, always, after them", () => {
  const steps = workflow.jobs.test.steps;
  const tests = steps.findIndex((s) => /npm test/.test(s.run ?? ""));
  const reaps = steps.map((s, i) => [i, s] as const).filter(([, s]) => /npx pulumi-kairos reap/.test(s.run ?? ""));
  expect(reaps.some(([i]) => i < tests)).toBe(true);
  expect(reaps.some(([i, s]) => i > tests && s.if === "always()")).toBe(true);
});

test("the Jest example disposes its cluster with await using, and the README shows the same", () => {
  const example = fs.readFileSync(path.join(ROOT, "examples", "jest-ephemeral", "cluster.test.ts"), "utf8");
  expect(example).toMatch(/await using cluster = await createEphemeralCluster\(/);
  expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).toMatch(/await using cluster = await createEphemeralCluster\(/);
});
