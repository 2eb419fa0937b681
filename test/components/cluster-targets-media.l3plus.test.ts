/**
 * L3+: a KairosCluster with the media target run as a program under the mock monitor, its dynamic
 * resources (ClusterSecrets, one NodeMedia per node) created for real through Pulumi's
 * dynamic-provider host: the ISOs on disk hold exactly the configs the component rendered (read
 * back with xorriso), owner-only in the cluster's own folder inside outputDir; destroy removes every
 * file and that folder, never outputDir.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { KairosCluster } from "../../components/kairos-cluster";
import { roleCloudConfig } from "../../providers/media/spec";
import { ProgramRun, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { readIso, requireXorriso } from "../providers/media/iso-read";
import { outputValue as value } from "../harness/mocks";


describe("KairosCluster media target in a program run through the real host (L3+)", () => {
  let run: ProgramRun | undefined;
  let root: string;
  afterAll(async () => {
    try {
      await run?.destroy();
    } finally {
      if (root) fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it("writes a seed ISO per node and an installer ISO per role with the rendered configs; destroy removes them", async () => {
    requireXorriso();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-media-l3plus-"));
    const tree = path.join(root, "tree");
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, "README.txt"), "stand-in for a Kairos live ISO\n");
    const baseIso = path.join(root, "kairos.iso");
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "KAIROS", "-o", baseIso, tree], { stdio: "ignore" });
    const outputDir = path.join(root, "media");
    fs.mkdirSync(outputDir, { mode: 0o755 }); // the user's folder: its mode is never changed
    fs.chmodSync(outputDir, 0o755);
    const folder = path.join(outputDir, "shop"); // the target's own folder, named after the cluster

    let cluster: KairosCluster | undefined;
    run = await runProgramWithDynamicProviders(() => {
      cluster = new KairosCluster("shop", {
        image: { kind: "iso", path: baseIso }, servers: 1, agents: 1,
        target: { kind: "media", outputDir, endpoint: "10.42.0.10", isoImage: { isoPath: baseIso } },
      });
    }, { settleMs: 2000, timeoutMs: 180_000 });

    expect(run.created[0]).toMatchObject({ type: "pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets", name: "shop-secrets-secrets" });
    expect(run.created.slice(1).map((r) => [r.type, r.name]).sort()).toEqual([
      ["pulumi-nodejs:dynamic/kairos:NodeMedia", "shop-agent-0"],
      ["pulumi-nodejs:dynamic/kairos:NodeMedia", "shop-server-0"],
    ]);
    const configs = await value(cluster!.cloudConfigs);
    const k3sToken = await value(cluster!.k3sToken);
    expect(configs["shop-agent-0"]).toContain("https://10.42.0.10:6443");

    expect(fs.readdirSync(outputDir)).toEqual(["shop"]);
    expect(fs.readdirSync(folder).sort()).toEqual(["shop-agent-0-cidata.iso", "shop-agent.iso", "shop-server-0-cidata.iso", expect.stringMatching(/^shop-(init|server)\.iso$/)]);
    expect(fs.statSync(outputDir).mode & 0o777).toBe(0o755);
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(folder)) expect(fs.statSync(path.join(folder, f)).mode & 0o777).toBe(0o600);
    for (const node of ["shop-server-0", "shop-agent-0"]) {
      const seed = readIso(path.join(folder, `${node}-cidata.iso`));
      expect(seed.volumeId).toBe("cidata");
      expect(seed.files["user-data"]).toBe(configs[node]);
    }
    const agentIso = readIso(path.join(folder, "shop-agent.iso"));
    expect(agentIso.files["config.yaml"]).toBe(roleCloudConfig(configs["shop-agent-0"]));
    expect(agentIso.files["README.txt"]).toBe("stand-in for a Kairos live ISO\n");

    expect(await value(cluster!.kubeconfig)).toBe("");
    expect(run.host.output()).not.toContain(k3sToken);

    await run.destroy();
    expect(fs.readdirSync(outputDir)).toEqual([]); // our folder went with the files; outputDir stays
    expect(fs.statSync(outputDir).mode & 0o777).toBe(0o755);
  }, 240_000);
});
