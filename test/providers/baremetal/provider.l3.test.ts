/**
 * L3: the BareMetalNode dynamic provider as `pulumi up` runs it: the provider text Pulumi serialized
 * under mocks, loaded by Pulumi's own dynamic-provider host in a fresh process and driven over gRPC
 * (check, create, diff, read, update, delete) against the live-host stand-in on 127.0.0.1.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  CapturedResource, DynamicProviderHost, PropertyMap, captureDynamicResource, isSecret, reveal, secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";
import { BareMetalNode } from "../../../providers/baremetal";
import { LiveHost } from "../../fixtures/live-host/live-host";

const TYPE = "pulumi-nodejs:dynamic/kairos:BareMetalNode";
const CLOUD_CONFIG = "#cloud-config\nusers:\n- name: kairos\n  groups: [admin]\n  passwd: L3SecretPassw0rd\n";

describe("L3: BareMetalNode through Pulumi's dynamic provider host", () => {
  let h: LiveHost;
  let host: DynamicProviderHost | undefined;
  let captured: CapturedResource;

  beforeAll(async () => {
    h = await LiveHost.start({ rebootDownMs: 1000 });
    captured = await captureDynamicResource(() => {
      new BareMetalNode("n1", {
        host: { name: "n1", address: "127.0.0.1", port: h.port, user: h.liveUser.name, password: pulumi.secret(h.liveUser.password!) },
        cloudConfig: CLOUD_CONFIG,
        adminUser: h.adminUser.name,
        adminPrivateKey: h.adminUser.privateKey,
        timeouts: { connectMs: 15_000, installMs: 20_000, rebootMs: 20_000 },
        onDestroy: "reset",
      });
    });
    host = await startDynamicProviderHost();
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await h?.stop();
  });

  const inputs = (): PropertyMap => captured.inputs;

  it("registers the type with secret config and key, and a small serialized provider that requires its driver", () => {
    expect(captured.type).toBe(TYPE);
    expect(isSecret(captured.inputs.cloudConfig)).toBe(true);
    expect(isSecret(captured.inputs.adminPrivateKey)).toBe(true);
    expect(captured.provider).toContain('"pulumi-kairos/drivers/baremetal"');
    expect(captured.provider).not.toContain("manual-install"); // the driver is required, not inlined
    expect(captured.provider.length).toBeLessThan(4096);
  });

  it("check names every bad field, value and what is accepted, never echoing secrets", async () => {
    const bad = {
      ...inputs(),
      host: { name: "n1", address: "not an address", port: 70000, device: "sda", password: secret("pw-XYZ") },
      cloudConfig: secret("users: []\nsecret: v4lue\n"),
      onDestroy: "wipe",
    };
    const r = await host!.check(TYPE, {}, bad);
    expect(r.failures).toEqual([
      { property: "host.address", reason: 'host.address: "not an address" is not valid; expected an IP address or DNS name (e.g. 192.168.1.50)' },
      { property: "host.port", reason: "host.port: 70000 is not valid; expected an integer from 1 to 65535" },
      { property: "host.device", reason: 'host.device: "sda" is not valid; expected "auto" or a device path matching ^/dev/.+ (e.g. /dev/sda)' },
      { property: "cloudConfig", reason: 'cloudConfig: <secret> is not valid; expected text whose first line is "#cloud-config"' },
      { property: "onDestroy", reason: 'onDestroy: "wipe" is not valid; expected "none" or "reset"' },
    ]);
    expect((await host!.check(TYPE, {}, inputs())).failures).toEqual([]);
  });

  it("creates, diffs, reads, updates and deletes (reset) a node for real", async () => {
    const created = await host!.create(TYPE, inputs(), { name: "n1", timeoutMs: 90_000 });
    const s = created.properties;
    expect(created.id).toBe("n1@127.0.0.1");
    expect(s.hostKeyLive).toBe(h.liveHostKey);
    expect(s.hostKey).toBe(h.installedHostKey);
    expect(s.reachable).toBe(true);
    expect(isSecret(s.cloudConfig)).toBe(true);
    expect(isSecret(s.adminPrivateKey)).toBe(true);
    expect(isSecret((reveal(s.host) as PropertyMap).password) || isSecret(s.host)).toBe(true);
    expect(h.stubFile(h.liveUser, "install-config.yaml")).toBe(CLOUD_CONFIG);
    const out = host!.output();
    expect(out).toContain("live host key not pinned");
    for (const secretText of ["L3SecretPassw0rd", h.liveUser.password!, "PRIVATE KEY"]) expect(out).not.toContain(secretText);

    expect(await host!.diff(TYPE, created.id, s, inputs())).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false, diffs: [] });
    const changedConfig = await host!.diff(TYPE, created.id, s, { ...inputs(), cloudConfig: secret(CLOUD_CONFIG + "hostname: n1\n") });
    expect(changedConfig).toMatchObject({ changes: "some", replaces: ["cloudConfig"], deleteBeforeReplace: true });
    const changedTimeouts = await host!.diff(TYPE, created.id, s, { ...inputs(), timeouts: { connectMs: 30_000 } });
    expect(changedTimeouts).toMatchObject({ changes: "some", replaces: [] });

    const read = await host!.read(TYPE, created.id, s);
    expect(read.properties.reachable).toBe(true);
    expect(read.properties.hostKey).toBe(h.installedHostKey);
    await expect(host!.read(TYPE, created.id, { ...s, hostKey: h.liveHostKey })).rejects.toThrow(/read failed: host key mismatch for .*: expected SHA256:/);

    const updated = await host!.update(TYPE, created.id, s, { ...inputs(), timeouts: { connectMs: 30_000 } });
    expect(updated.hostKey).toBe(h.installedHostKey);
    expect(updated.timeouts).toEqual({ connectMs: 30_000 });

    // Reinstalled outside Pulumi: state recorded key A (here the live key), the machine presents B
    // (the installed key), and the user re-pins it by naming B in host.installedHostKey.
    const stale = { ...s, hostKey: h.liveHostKey };
    const repin = (key: string) => ({ ...inputs(), host: { ...(reveal(inputs().host) as PropertyMap), installedHostKey: key } });
    expect(await host!.diff(TYPE, created.id, stale, repin(h.installedHostKey))).toMatchObject({ changes: "some", replaces: [], deleteBeforeReplace: false });
    const repinned = await host!.update(TYPE, created.id, stale, repin(h.installedHostKey));
    expect(repinned.hostKey).toBe(h.installedHostKey);
    expect(repinned.reachable).toBe(true);
    expect((await host!.read(TYPE, created.id, repinned)).properties).toMatchObject({ reachable: true, hostKey: h.installedHostKey });
    await expect(host!.update(TYPE, created.id, s, repin(h.liveHostKey))).rejects.toThrow(/update failed: host key mismatch for .*: expected SHA256:/);

    h.resetStubs(h.adminUser);
    await host!.delete(TYPE, created.id, { ...s, onDestroy: "none" });
    expect(h.calls(h.adminUser)).toEqual([]);
    await host!.delete(TYPE, created.id, s);
    expect(h.calls(h.adminUser)).toEqual(["sudo kairos-agent reset --unattended --reboot", "kairos-agent reset --unattended --reboot"]);
  });
});
