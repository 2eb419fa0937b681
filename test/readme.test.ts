/**
 * The README's TypeScript examples compile against the public entry: every ```ts block is written
 * to a scratch folder with `pulumi-kairos` mapped to lib.ts (blocks without the import get it
 * prepended, as they continue an earlier example) and type-checked with the project's tsc.
 */
import * as fs from "fs";
import * as path from "path";
import { run } from "../providers/exec";

const REPO = path.resolve(__dirname, "..");

test("every TypeScript example in README.md type-checks against lib.ts", async () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  const dir = path.join(REPO, "test", ".work", "readme-examples");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const files = blocks.map((code, i) => {
    const header = code.includes('from "pulumi-kairos"') ? "" : 'import * as kairos from "pulumi-kairos";\n';
    const file = path.join(dir, `example-${i}.ts`);
    // Each block is a module of its own (`export {}`), so names in two examples do not clash.
    fs.writeFileSync(file, `${header}${code}\nexport {};\n`);
    return file;
  });
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
    extends: path.join(REPO, "tsconfig.json"),
    compilerOptions: { noEmit: true, rootDir: REPO, baseUrl: REPO, paths: { "pulumi-kairos": ["lib.ts"], "pulumi-kairos/testing": ["testing/index.ts"] }, noUnusedLocals: false },
    include: [],
    files: files,
  }));
  const r = await run([process.execPath, path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(dir, "tsconfig.json")], { allowFailure: true, timeoutMs: 180_000 });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
}, 200_000);
