/**
 * L3: the NodeConfig dynamic provider as `pulumi up` runs it (Pulumi's dynamic-provider host in a
 * fresh process, over gRPC): what it refuses at preview, and what it only records. The rolling
 * itself (drain, /oem, reboot, Ready) is proven on stand-in guests at L3+
 * (test/components/kairos-cluster.day2.l3plus.test.ts).
 */
import { NodeConfig } from "../../../providers/lifecycle";
import {
  CapturedResource, DynamicProviderHost, captureDynamicResource, privateTempDir, secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";

const TYPE = "pulumi-nodejs:dynamic/kairos-lifecycle:NodeConfig";
const scratch = privateTempDir("kairos-l3-nodeconfig-");
let host: DynamicProviderHost;
let captured: CapturedResource;
const D = (c: string) => c.repeat(64);

beforeAll(async () => {
  captured = await captureDynamicResource(() => {
    new NodeConfig("n", {
      node: "n", address: "127.0.0.1", adminUser: "a", privateKey: "k", cloudConfig: "#cloud-config\n", configDigest: D("a"), k3sDigest: "x",
      servers: [], mode: "reboot", drain: { timeoutSeconds: 1, force: false }, readySeconds: 1,
    });
  }, { type: TYPE });
  host = await startDynamicProviderHost({ env: { HOME: scratch.dir, TMPDIR: scratch.dir }, callTimeoutMs: 30_000 });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  scratch.remove();
});

/** Inputs as the engine sends them. Port 1 on 127.0.0.1: any SSH attempt fails at once. */
const inputs = (extra: Record<string, unknown> = {}) => ({
  __provider: captured.provider, node: "demo-agent-0", address: "127.0.0.1", port: 1, adminUser: "kairos-admin", privateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"),
  cloudConfig: secret("#cloud-config\nhostname: demo-agent-0\n"), configDigest: D("a"), k3sDigest: "k1", secretsDigest: "s1",
  servers: [{ name: "demo-server-0", address: "127.0.0.1", port: 1 }], mode: "reboot", drain: { timeoutSeconds: 30, force: false }, readySeconds: 30, ...extra,
});

describe("NodeConfig through Pulumi's dynamic-provider host (L3)", () => {
  test("new cluster tokens on a machine that stays are refused at preview, naming the node and what to do", async () => {
    const r = await host.check(TYPE, inputs(), inputs({ secretsDigest: "s2", configDigest: D("b") }));
    expect(r.failures).toEqual([{
      property: "secretsDigest",
      reason: 'secretsDigest: the k3s join token or the edgevpn network token of node "demo-agent-0" changed (secrets.rotate, or a token you supply), '
        + 'which a running node cannot take in place; expected the same as before, or configChange: "reinstall" (the nodes are installed again)',
    }]);
    expect((await host.check(TYPE, inputs(), inputs({ adminUser: "ops" }))).failures).toEqual([{
      property: "adminUser",
      reason: 'adminUser: "ops" is not valid for running node "demo-agent-0" (it has "kairos-admin"); expected the same as before, or configChange: "reinstall" (the nodes are installed again)',
    }]);
    // Rebuilt by its target (another machine), or reinstall mode: accepted.
    expect((await host.check(TYPE, inputs({ machineId: "u1" }), inputs({ secretsDigest: "s2", machineId: "u2" }))).failures).toEqual([]);
    expect((await host.check(TYPE, inputs(), inputs({ secretsDigest: "s2", mode: "reinstall" }))).failures).toEqual([]);
    // State from before the digest existed: nothing to compare with.
    const { secretsDigest: _s, ...older } = inputs();
    expect((await host.check(TYPE, older, inputs({ secretsDigest: "s2" }))).failures).toEqual([]);
    // A first create has no old inputs.
    expect((await host.check(TYPE, {}, inputs({ secretsDigest: "s2", adminUser: "ops" }))).failures).toEqual([]);
  });

  test("a rebuilt machine booted its config from cidata: the change is recorded, no SSH, no reboot", async () => {
    const created = await host.create(TYPE, inputs({ machineId: "u1" }), { name: "demo-agent-0-config" });
    const news = inputs({ machineId: "u2", configDigest: D("b"), secretsDigest: "s2" });
    expect(await host.diff(TYPE, created.id, created.properties, news)).toMatchObject({ changes: "some", replaces: [] });
    const outs = await host.update(TYPE, created.id, created.properties, news);
    expect(outs).toMatchObject({ appliedConfigDigest: D("b"), machineId: "u2", pendingReboot: false });
    expect(host.output()).not.toMatch(/cordon|reboot/);
    // The same machine with a new config is applied over SSH (here: nothing listens, so it fails naming the node and step).
    const err = await host.update(TYPE, created.id, outs, inputs({ machineId: "u2", configDigest: D("c"), secretsDigest: "s2" })).catch((e: Error) => e);
    expect(String(err)).toContain("node demo-agent-0: cordon and drain failed:");
  }, 60_000);

  test("osImage at preview: a k3s minor skip is refused naming the node; a bad reference names the field; the first osImage is no change to check", async () => {
    const V1 = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";
    const SKIP = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.3.0-k3s-v1.38.0-k3s1";
    const how = { by: "ssh", recovery: false, force: false };
    const skip = await host.check(TYPE, inputs({ osImage: V1, upgrade: how }), inputs({ osImage: SKIP, upgrade: how }));
    expect(skip.failures).toHaveLength(1);
    expect(skip.failures[0].property).toBe("osImage");
    expect(skip.failures[0].reason).toMatch(/^node "demo-agent-0": osImage: .*v1\.36.*v1\.38/);
    expect(skip.failures[0].reason).toContain("upgrade.force does not lift this");
    // force does not lift a skip either
    expect((await host.check(TYPE, inputs({ osImage: V1, upgrade: how }), inputs({ osImage: SKIP, upgrade: { ...how, force: true } }))).failures).toHaveLength(1);
    const bad = await host.check(TYPE, {}, inputs({ osImage: "quay.io/kairos/hadron", upgrade: how }));
    expect(bad.failures.map((f) => f.property)).toEqual(["osImage"]);
    expect(bad.failures[0].reason).toContain("neither tag nor digest");
    expect((await host.check(TYPE, inputs(), inputs({ osImage: SKIP, upgrade: how }))).failures).toEqual([]);
  });

  test("osImage no longer given: recorded without touching the node, nothing of it kept, the next diff is clean", async () => {
    const V1 = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";
    const managed = inputs({ osImage: V1, upgrade: { by: "ssh", recovery: false, force: false } });
    const olds = { ...managed, appliedConfigDigest: D("a"), appliedK3sDigest: "k1", appliedRestartDigest: "", pendingReboot: false, appliedOsImage: V1 };
    expect(await host.diff(TYPE, "node-config-demo-agent-0", olds, inputs())).toMatchObject({ changes: "some", replaces: [] });
    const seen = host.output().length;
    const outs = await host.update(TYPE, "node-config-demo-agent-0", olds, inputs());
    expect(outs.osImage).toBeUndefined();
    expect(outs.appliedOsImage).toBeUndefined();
    expect(host.output().slice(seen)).toContain("could not read its OS"); // the only SSH: reading what runs
    expect(host.output().slice(seen)).not.toMatch(/cordon|kairos-agent upgrade|reboot/);
    expect(await host.diff(TYPE, "node-config-demo-agent-0", outs, inputs())).toMatchObject({ changes: "none" });
  }, 60_000);
});
