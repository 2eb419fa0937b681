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
