/** The package's public entry exports what the README promises, and the pieces work together through it. */
import * as kairos from "../lib";

describe("public entry (lib.ts)", () => {
  test.each([
    "renderCloudConfig",
    "validateCloudConfig",
    "assertValidCloudConfig",
    "mergeCloudConfig",
    "generateNetworkToken",
    "decodeNetworkToken",
    "planRoles",
    "fillEndpoint",
    "buildNodeConfigs",
    "ClusterSecrets",
    "KairosImage",
    "KairosCluster",
  ])("exports %s as a function or class", (name) => {
    expect(typeof (kairos as Record<string, unknown>)[name]).toBe("function");
  });

  test("a planned, rendered node config validates and carries the generated token", () => {
    const token = kairos.generateNetworkToken();
    const plan = kairos.planRoles({ cluster: "demo", servers: 1, agents: 1, mode: "p2p", networkToken: token });
    const nodes = kairos.buildNodeConfigs({
      plan,
      sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVzZXJzLWtleS1mb3ItdGVzdHMtb25seS0wMDAw demo"],
      bootMode: "iso",
    });
    expect(nodes.map((n) => n.name)).toEqual(["demo-node-0", "demo-node-1"]);
    for (const n of nodes) {
      expect(n.text.split("\n")[0]).toBe("#cloud-config");
      expect(kairos.validateCloudConfig(n.text)).toEqual([]);
      expect(n.config.p2p?.network_token).toBe(token);
    }
    expect(kairos.decodeNetworkToken(token).otp.dht.key).toMatch(/^[A-Za-z0-9]{43}$/);
  });
});

describe("public API surface", () => {
  // The TypeScript compiler's own view of lib.ts: the names users can import, and their docs.
  const ts = require("typescript") as typeof import("typescript");
  const path = require("path") as typeof import("path");
  const entry = path.join(__dirname, "..", "lib.ts");
  const program = ts.createProgram([entry], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
  const resolve = (s: import("typescript").Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);

  test("is an explicit list of what users need, not every internal symbol", () => {
    const names = exports.map((s) => s.name).sort();
    expect(names.length).toBeGreaterThan(40);
    expect(names.length).toBeLessThan(85);
    for (const internal of ["physicalName", "nodesAwaitingEndpoint", "ENDPOINT_PLACEHOLDER", "TOP_LEVEL_KEY_ORDER", "MAX_INT64_TEXT", "driverProvider", "validateLibvirtTarget"]) {
      expect(names).not.toContain(internal);
    }
  });

  test("every exported name carries TSDoc where it is declared", () => {
    const undocumented = exports.filter((s) => {
      const target = resolve(s);
      if (s.name === "image") return false; // a namespace: documented at its export in lib.ts
      return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === "";
    }).map((s) => s.name);
    expect(undocumented).toEqual([]);
  });
});
