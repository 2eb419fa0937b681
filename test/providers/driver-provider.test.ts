/**
 * How every dynamic provider reaches its driver, as Pulumi stores it: the `__provider` text of each
 * resource kind is captured under mocks and checked to hold a package specifier and nothing bound to
 * this checkout (no absolute path, no inlined driver), to be the same text for every resource of a
 * kind (one provider object per kind, serialized once), and, loaded by Pulumi's own host, to
 * resolve the driver from the host's working directory: the program folder, never this repository
 * as such.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "../../providers/libvirt/resources";
import { ClusterSecretsResource } from "../../providers/secrets/provider";
import { ClusterReady } from "../../providers/readiness/provider";
import { NodeMedia } from "../../providers/media/provider";
import { BareMetalNode } from "../../providers/baremetal/node";
import { KairosImageBuild } from "../../providers/image/local-build";
import { CapturedResource, REPO_ROOT, captureResources, startDynamicProviderHost } from "../harness/dynamic-provider-host";

const owner = { uri: "qemu:///system", cluster: "c", pool: "p" };

/** Two resources of every dynamic kind the package has. */
function everyKind(): void {
  for (const n of ["a", "b"]) {
    new BaseImageVolume(`base-${n}`, { ...owner, source: { kind: "file", path: "/img.qcow2" } });
    new NodeDisk(`disk-${n}`, { ...owner, node: n, sizeGiB: 1 });
    new CidataVolume(`cidata-${n}`, { ...owner, node: n, userData: "#cloud-config\n" });
    new Network(`net-${n}`, { ...owner, mode: "isolated", cidr: "10.9.0.0/24" });
    new Domain(`vm-${n}`, { ...owner, node: n, vcpus: 1, memoryMiB: 256, diskVolume: "d", network: "n" });
    new ClusterSecretsResource(`secrets-${n}`, {});
    new ClusterReady(`ready-${n}`, { mode: "explicit", adminUser: "kairos", privateKey: "k", nodes: [], sshTimeoutSeconds: 1, readyTimeoutSeconds: 1 });
    new NodeMedia(`media-${n}`, { outputDir: "/tmp/m", node: n, cloudConfig: "#cloud-config\n" });
    new BareMetalNode(`bm-${n}`, { host: { name: n, address: "127.0.0.1", user: "kairos", password: "x" }, cloudConfig: "#cloud-config\n", adminUser: "kairos", adminPrivateKey: "k" });
    new KairosImageBuild(`image-${n}`, { spec: {} as never, outputDir: "/tmp/i" });
  }
}

const FAMILY: Record<string, string> = {
  "kairos-libvirt": "libvirt", "kairos-secrets": "secrets", "kairos-readiness": "readiness", "kairos-image": "image",
};
const familyOf = (type: string): string => {
  const [, mod, kind] = /^pulumi-nodejs:dynamic\/([^:]+):(.+)$/.exec(type)!;
  return FAMILY[mod] ?? (kind === "NodeMedia" ? "media" : "baremetal");
};

let captured: CapturedResource[];

beforeAll(async () => {
  captured = (await captureResources(everyKind, { settleMs: 2000 })).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
}, 90_000);

describe("serialized dynamic providers", () => {
  test("every kind is captured twice", () => {
    const kinds = new Set(captured.map((r) => r.type));
    expect(kinds.size).toBe(10);
    for (const k of kinds) expect(captured.filter((r) => r.type === k)).toHaveLength(2);
  });

  test("each names its driver by package specifier and holds nothing of this checkout", () => {
    for (const r of captured) {
      expect(r.provider).toContain(`"pulumi-kairos/drivers/${familyOf(r.type)}"`);
      expect(r.provider).not.toContain(REPO_ROOT);
      expect(r.provider).not.toMatch(/require\("\/|require\('\//); // no absolute require
      expect(r.provider).not.toContain("ts-node");
      expect(Buffer.byteLength(r.provider)).toBeLessThan(4096); // the shim only, never a driver
    }
  });

  test("resources of one kind share one provider text (one provider object per kind)", () => {
    for (const type of new Set(captured.map((r) => r.type))) {
      const texts = new Set(captured.filter((r) => r.type === type).map((r) => r.provider));
      expect(texts.size).toBe(1);
    }
  });

  test("the host resolves the driver from its working directory: a folder without the package cannot load it", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-no-package-"));
    const secrets = captured.find((r) => r.type.endsWith(":ClusterSecrets"))!;
    const host = await startDynamicProviderHost({ cwd: empty });
    try {
      await expect(host.check(secrets.type, {}, secrets.inputs)).rejects.toThrow(/cannot load pulumi-kairos\/drivers\/secrets from .*kairos-no-package-.* \(Cannot find module 'pulumi-kairos\/drivers\/secrets'.*\); install pulumi-kairos in the program folder/);
    } finally {
      await host.stop();
      fs.rmSync(empty, { recursive: true, force: true });
    }
    // ...and the repository's own folder reaches itself by name through its self-link, like any program.
    const repoHost = await startDynamicProviderHost({ cwd: REPO_ROOT });
    try {
      expect((await repoHost.check(secrets.type, {}, secrets.inputs)).failures).toEqual([]);
    } finally {
      await repoHost.stop();
    }
  }, 60_000);
});
