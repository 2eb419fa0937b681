/**
 * L3: the ClusterSecrets dynamic provider as `pulumi up` runs it. The provider text Pulumi serialized
 * under mocks is loaded by Pulumi's own dynamic-provider host in a fresh node process and driven over
 * gRPC: check, create, diff, read, delete. Secretness is asserted on the gRPC responses, and nothing
 * secret may reach the host's output or its HOME/TMPDIR.
 */
import * as fs from "fs";
import { utils as sshUtils } from "ssh2";
import { ClusterSecrets } from "../../../components/cluster-secrets";
import { decodeNetworkToken } from "../../../kairos/edgevpn/token";
import {
  CapturedResource, DynamicProviderHost, PropertyMap, allStrings, captureDynamicResource, isSecret, privateTempDir, reveal,
  secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";

const TYPE = "pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets";
const SECRET_FIELDS = ["networkToken", "k3sToken", "sshPrivateKey"];

describe("ClusterSecrets provider through Pulumi's dynamic-provider host (L3)", () => {
  let captured: CapturedResource;
  let host: DynamicProviderHost | undefined;
  const scratch = privateTempDir("kairos-l3-secrets-");
  const seenSecrets: string[] = [];
  let created: { id: string; properties: PropertyMap };

  beforeAll(async () => {
    captured = await captureDynamicResource(() => {
      new ClusterSecrets("l3", { rotate: "1" });
    }, { type: TYPE });
    host = await startDynamicProviderHost({ env: { HOME: scratch.dir, TMPDIR: scratch.dir } });
  }, 90_000);

  afterAll(async () => {
    await host?.stop();
    scratch.remove();
  });

  it("serializes a small provider that does not embed the driver or the SDK", () => {
    expect(captured.type).toBe(TYPE);
    const bytes = Buffer.byteLength(captured.provider, "utf8");
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(200 * 1024);
    expect(captured.provider).toContain("exports.handler");
    expect(captured.provider).not.toContain("generateSshKeyPair"); // the driver is required at run time, not inlined
  });

  it("checks good inputs in the fresh host and refuses a bad supplied token without echoing it", async () => {
    const good = await host!.check(TYPE, {}, captured.inputs);
    expect(good.failures).toEqual([]);
    const bad = await host!.check(TYPE, {}, { ...captured.inputs, k3sToken: secret("short-secret!") });
    expect(bad.failures).toEqual([{
      property: "k3sToken",
      reason: 'k3sToken: <secret> (13 characters) is not accepted; expected 16-256 characters of [A-Za-z0-9._-] not starting with "K10", ' +
        'or a full k3s token "K10<64 hex>::<user>:<password>", or leave it unset to have one generated',
    }]);
    expect(isSecret(bad.inputs.k3sToken)).toBe(true);
    seenSecrets.push("short-secret!");
  });

  it("creates the bundle with every secret field secret in the gRPC response", async () => {
    created = await host!.create(TYPE, captured.inputs);
    const p = created.properties;
    expect(created.id).toMatch(/^cluster-secrets-[0-9a-f]{16}$/);
    for (const f of SECRET_FIELDS) {
      expect(isSecret(p[f])).toBe(true);
      seenSecrets.push(reveal<string>(p[f]));
    }
    expect(isSecret(p.sshPublicKey)).toBe(false);
    expect(() => decodeNetworkToken(reveal<string>(p.networkToken))).not.toThrow();
    expect(reveal<string>(p.k3sToken)).toMatch(/^[a-z0-9]{48}$/);
    const key = sshUtils.parseKey(reveal<string>(p.sshPrivateKey));
    if (key instanceof Error || Array.isArray(key)) throw new Error(`private key does not parse: ${String(key)}`);
    expect(p.sshPublicKey).toBe(`ssh-ed25519 ${key.getPublicSSH().toString("base64")} pulumi-kairos`);
    expect(p.rotate).toBe("1");
    expect(p.suppliedFields).toEqual([]);
  });

  it("diffs: the same inputs change nothing, a new rotate value replaces", async () => {
    expect(await host!.diff(TYPE, created.id, created.properties, captured.inputs)).toEqual(
      { changes: "none", replaces: [], deleteBeforeReplace: false, diffs: [] });
    const rotated = await host!.diff(TYPE, created.id, created.properties, { ...captured.inputs, rotate: "2" });
    expect(rotated.changes).toBe("some");
    expect(rotated.replaces).toEqual(["rotate"]);
  });

  it("reads back the same outputs, still secret", async () => {
    const read = await host!.read(TYPE, created.id, created.properties);
    expect(read.id).toBe(created.id);
    expect(reveal(read.properties)).toEqual(reveal(created.properties));
    for (const f of SECRET_FIELDS) expect(isSecret(read.properties[f])).toBe(true);
  });

  it("keeps a supplied k3s token, secret, and replaces when it changes", async () => {
    const inputs = { ...captured.inputs, k3sToken: secret("my-own-k3s-token-0001") };
    const r = await host!.create(TYPE, inputs);
    expect(isSecret(r.properties.k3sToken)).toBe(true);
    expect(reveal(r.properties.k3sToken)).toBe("my-own-k3s-token-0001");
    expect(r.properties.suppliedFields).toEqual(["k3sToken"]);
    seenSecrets.push(...SECRET_FIELDS.map((f) => reveal<string>(r.properties[f])));
    expect((await host!.diff(TYPE, r.id, r.properties, inputs)).changes).toBe("none");
    const changed = await host!.diff(TYPE, r.id, r.properties, { ...inputs, k3sToken: secret("my-own-k3s-token-0002") });
    expect(changed.replaces).toEqual(["k3sToken"]);
    await host!.delete(TYPE, r.id, r.properties);
  });

  it("deletes without error", async () => {
    await expect(host!.delete(TYPE, created.id, created.properties)).resolves.toBeUndefined();
  });

  it("wrote no secret to the host's output and nothing to its HOME or TMPDIR", () => {
    const output = host!.output();
    expect(seenSecrets.length).toBeGreaterThanOrEqual(7);
    for (const s of seenSecrets) {
      for (const line of s.split("\n").filter((l) => l.length >= 16)) expect(output).not.toContain(line);
    }
    expect(fs.readdirSync(scratch.dir)).toEqual([]);
    // The serialized provider itself carries no secret either.
    for (const s of allStrings(created.properties).filter((v) => SECRET_FIELDS.some((f) => reveal(created.properties[f]) === v))) {
      expect(captured.provider).not.toContain(s);
    }
  });
});
