/**
 * `loadDriverModule`, the loader every dynamic provider calls inside its methods: a function that
 * calls it is serialized by Pulumi's closure serializer (as a provider method is) and the text is run
 * in a fresh, plain `node` process, as Pulumi's dynamic-provider host runs it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { run } from "../../providers/exec";
import { loadDriverModule } from "../../providers/load-driver";

const REPO = path.resolve(__dirname, "..", "..");
const TS_FIXTURE = path.join(__dirname, "fixtures", "load-driver-target");

let tmp = "";
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "load-driver-"));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Serializes `fn` as Pulumi does a provider method and runs `exports.handler()` in a fresh node. */
async function runSerialized(fn: () => unknown): Promise<{ text: string; printed: string }> {
  const { text } = await pulumi.runtime.serializeFunction(fn);
  const file = path.join(tmp, `serialized-${Date.now()}-${Math.random().toString(16).slice(2)}.js`);
  fs.writeFileSync(file, text, { mode: 0o600 });
  const script = `Promise.resolve(require(${JSON.stringify(file)}).handler()).then((v) => process.stdout.write(JSON.stringify(v)))`;
  // No NODE_OPTIONS preload: the host has no TypeScript loader of its own.
  const r = await run([process.execPath, "-e", script], { cwd: REPO, env: { NODE_OPTIONS: "" }, timeoutMs: 60_000 });
  return { text, printed: r.stdout };
}

describe("loadDriverModule", () => {
  test("a serialized caller loads a TypeScript-only module in a plain node process (ts-node registered)", async () => {
    const target = TS_FIXTURE;
    const { text, printed } = await runSerialized(() => {
      const m = loadDriverModule<typeof import("./fixtures/load-driver-target")>(target);
      return [m.kind, m.greet("pulumi")];
    });
    expect(JSON.parse(printed)).toEqual(["ts-fixture-driver", "hello pulumi from the ts fixture"]);
    // The loader travels by value; the module it loads does not.
    expect(text).toContain("ts-node");
    expect(text).not.toContain("from the ts fixture");
  }, 90_000);

  test("a .js beside the .ts wins, and nothing TypeScript is registered for it", async () => {
    const base = path.join(tmp, "both");
    fs.writeFileSync(`${base}.js`, "exports.which = 'js'; exports.tsRegistered = Boolean(require.extensions['.ts']);\n");
    fs.writeFileSync(`${base}.ts`, "export const which = 'ts';\n");
    const { printed } = await runSerialized(() => loadDriverModule<{ which: string; tsRegistered: boolean }>(base));
    expect(JSON.parse(printed)).toEqual({ which: "js", tsRegistered: false });
  }, 90_000);

  test("under jest the module loads through jest's own TypeScript transform", () => {
    const m = loadDriverModule<typeof import("./fixtures/load-driver-target")>(TS_FIXTURE);
    expect(m.greet("jest")).toBe("hello jest from the ts fixture");
  });

  test("a relative path is refused with the value and what is accepted", () => {
    expect(() => loadDriverModule("./driver")).toThrow(
      'loadDriverModule: "./driver" is not valid; expected an absolute module path (e.g. path.join(__dirname, "driver"))',
    );
  });

  test("a missing module fails naming its path", () => {
    const missing = path.join(tmp, "no-such-driver");
    expect(() => loadDriverModule(missing)).toThrow(missing);
  });
});
