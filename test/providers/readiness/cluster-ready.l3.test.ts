/**
 * L3: the ClusterReady dynamic provider as `pulumi up` runs it: the provider text Pulumi serialized
 * under mocks, loaded by Pulumi's own dynamic-provider host in a fresh node process, driven over
 * gRPC against a real OpenSSH server on 127.0.0.1 (the live-host stand-in, test fixture, in state
 * "installed": the admin user with its key; stub `k3s`/`kairos`/`cat`). Covers check, create
 * (explicit: not-ready-then-ready; p2p), the timeout with console-tail diagnostics, diff, update,
 * read and delete, and that the kubeconfig is a secret output never printed by the host.
 */
import * as fs from "fs";
import * as path from "path";
import { ClusterReady } from "../../../providers/readiness";
import { LiveHost } from "../../fixtures/live-host/live-host";
import { run } from "../../../providers/exec";
import { ensureLibvirtd, runId } from "../libvirt/env";
import {
  CapturedResource, DynamicProviderHost, captureDynamicResource, isSecret, privateTempDir, reveal, secret, startDynamicProviderHost,
} from "../../harness/dynamic-provider-host";

const TYPE = "pulumi-nodejs:dynamic/kairos-readiness:ClusterReady";
const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ZmFrZQ==\n    server: https://127.0.0.1:6443\n  name: default\nusers:\n- name: default\n  user:\n    client-key-data: c2VjcmV0LWNsaWVudC1rZXk=\n";

let h: LiveHost;
let host: DynamicProviderHost;
let captured: CapturedResource;
const scratch = privateTempDir("kairos-l3-ready-");

beforeAll(async () => {
  h = await LiveHost.start();
  await h.setState("installed");
  captured = await captureDynamicResource(() => {
    new ClusterReady("ready", {
      mode: "explicit", adminUser: "x", privateKey: "captured-key", nodes: [{ name: "n0", address: "127.0.0.1" }],
      endpoint: "10.1.0.5", sshTimeoutSeconds: 10, readyTimeoutSeconds: 10,
    });
  }, { type: TYPE });
  host = await startDynamicProviderHost({ env: { HOME: scratch.dir, TMPDIR: scratch.dir }, callTimeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await h?.stop();
  scratch.remove();
}, 60_000);

beforeEach(() => h.resetStubs(h.adminUser));

/** Inputs as the engine would send them: the captured provider, secrets as secrets. */
function inputs(extra: Record<string, unknown> = {}) {
  return {
    __provider: captured.provider,
    mode: "explicit",
    adminUser: h.adminUser.name,
    privateKey: secret(h.adminUser.privateKey),
    nodes: [{ name: "n0", address: h.host, port: h.port }, { name: "n1", address: h.host, port: h.port }],
    endpoint: "10.1.0.5",
    sshTimeoutSeconds: 20,
    readyTimeoutSeconds: 20,
    intervalMs: 200,
    ...extra,
  };
}

describe("ClusterReady through Pulumi's dynamic-provider host (L3, real sshd on 127.0.0.1)", () => {
  test("the serialized provider is small and loads its driver at run time", () => {
    expect(Buffer.byteLength(captured.provider)).toBeLessThan(200 * 1024);
    expect(captured.provider).not.toContain("waitForK3sReady");
    expect(isSecret(captured.inputs.privateKey)).toBe(true);
  });

  test("check names bad fields, never echoing the key", async () => {
    const r = await host.check(TYPE, {}, inputs({ mode: "raft", nodes: [{ name: "n0", address: "" }], privateKey: secret("not a key"), sshTimeoutSeconds: 0 }));
    expect(r.failures).toEqual([
      { property: "mode", reason: 'mode: "raft" is not valid; expected "explicit" or "p2p"' },
      { property: "privateKey", reason: "privateKey: <secret> is not valid; expected an OpenSSH or PEM private key" },
      { property: "nodes[0].address", reason: 'nodes[0].address: "" is not valid; expected an IP address or DNS name the node is reachable at (none was found: did the node get an address?)' },
      { property: "sshTimeoutSeconds", reason: "sshTimeoutSeconds: 0 is not valid; expected a number of seconds from 1 to 86400" },
    ]);
    expect(JSON.stringify(r.failures)).not.toContain("not a key");
  });

  test("explicit: waits through NotReady, then returns the kubeconfig pointed at the endpoint, as a secret", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    await h.control(h.adminUser, "apidown", "1");
    await h.control(h.adminUser, "notready", "2");
    await h.control(h.adminUser, "kubeconfig", KUBECONFIG);
    const checked = await host.check(TYPE, {}, inputs());
    expect(checked.failures).toEqual([]);
    const r = await host.create(TYPE, checked.inputs, { name: "ready" });
    expect(isSecret(r.properties.kubeconfig)).toBe(true);
    const kc = reveal<string>(r.properties.kubeconfig);
    expect(kc).toContain("server: https://10.1.0.5:6443");
    expect(kc).not.toContain("127.0.0.1");
    expect(r.properties.apiEndpoint).toBe("https://10.1.0.5:6443");
    expect(r.properties.readyNodes).toEqual(["n0", "n1"]);
    expect((r.properties.hostKeys as Record<string, string>).n0).toBe(h.installedHostKey);
    const calls = h.calls(h.adminUser).join("\n");
    expect(calls.match(/k3s kubectl get nodes --no-headers/g)!.length).toBeGreaterThanOrEqual(3);
    expect(calls).toContain("cat /etc/rancher/k3s/k3s.yaml");
    // Progress goes to the provider's stderr (the engine's provider log), never a secret.
    expect(host.output()).toContain("kairos: SSH answers on 2 node(s)");
    expect(host.output()).toContain("kairos: 2 k3s node(s) Ready (via n0)");
    expect(host.output()).not.toContain("c2VjcmV0LWNsaWVudC1rZXk=");
    expect(host.output()).not.toContain("OPENSSH PRIVATE KEY");

    // diff: a longer timeout is an in-place update; other nodes mean another wait: replace.
    const id = r.id;
    const longer = await host.diff(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ readyTimeoutSeconds: 99 }))).inputs);
    expect(longer.changes).toBe("some");
    expect(longer.replaces).toEqual([]);
    const other = await host.diff(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ nodes: [{ name: "n0", address: "10.0.0.9" }] }))).inputs);
    expect(other.replaces).toEqual(["nodes"]);
    const same = await host.diff(TYPE, id, r.properties, checked.inputs);
    expect(same.changes).toBe("none");
    // Diagnostics of the same nodes (console log, libvirt domain) update in place: the cluster is the same.
    const diag = (await host.check(TYPE, {}, inputs({ nodes: [
      { name: "n0", address: h.host, port: h.port, consoleLogFile: "/var/log/x.log", libvirt: { uri: "qemu:///system", domain: "d0" } },
      { name: "n1", address: h.host, port: h.port },
    ] }))).inputs;
    expect(await host.diff(TYPE, id, r.properties, diag)).toMatchObject({ changes: "some", replaces: [] });
    const updated = await host.update(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ readyTimeoutSeconds: 99 }))).inputs);
    expect(reveal<string>(updated.kubeconfig)).toBe(kc);
    const read = await host.read(TYPE, id, r.properties);
    expect(isSecret(read.properties.kubeconfig)).toBe(true);
    await host.delete(TYPE, id, r.properties);
  }, 90_000);

  test("p2p: the kubeconfig comes from kairos get-kubeconfig --api http://127.0.0.1:8080", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    await h.control(h.adminUser, "kubeconfig", KUBECONFIG);
    const checked = await host.check(TYPE, {}, inputs({ mode: "p2p", endpoint: undefined }));
    expect(checked.failures).toEqual([]);
    const r = await host.create(TYPE, checked.inputs, { name: "ready-p2p" });
    // The live-host's kairos stub stands for the master's address with 10.1.0.5.
    expect(reveal<string>(r.properties.kubeconfig)).toContain("server: https://10.1.0.5:6443");
    expect(r.properties.apiEndpoint).toBe("https://10.1.0.5:6443");
    expect(h.calls(h.adminUser).join("\n")).toContain("kairos get-kubeconfig --api http://127.0.0.1:8080");
  }, 90_000);

  test("a node that never gets Ready fails create in time, naming what was awaited, with the console tail", async () => {
    await h.control(h.adminUser, "nodes", "n0\n");
    await h.control(h.adminUser, "notready", "100000");
    const consoleLog = path.join(scratch.dir, "n0-console.log");
    fs.writeFileSync(consoleLog, Array.from({ length: 60 }, (_, i) => `console line ${i}`).join("\n") + "\n", { mode: 0o600 });
    const checked = await host.check(TYPE, {}, inputs({
      nodes: [{ name: "n0", address: h.host, port: h.port, consoleLogFile: consoleLog }], readyTimeoutSeconds: 3,
    }));
    const started = Date.now();
    const err = await host.create(TYPE, checked.inputs, { name: "ready-timeout" }).then(() => undefined, (e: Error) => e);
    expect(err).toBeDefined();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(err!.message).toContain("k3s nodes n0 to be Ready");
    expect(err!.message).toContain("not ready: n0 (NotReady)");
    expect(err!.message).toContain(`last serial console lines of n0 (${consoleLog}):`);
    expect(err!.message).toContain("console line 59");
    expect(err!.message).not.toContain("console line 19\n");
  }, 60_000);

  test("a node whose libvirt domain stopped running ends the wait at once, naming the node and the domain's state", async () => {
    await ensureLibvirtd();
    const domain = `${runId()}-stopped`;
    const xml = path.join(scratch.dir, "stopped.xml");
    fs.writeFileSync(xml, `<domain type='qemu'><name>${domain}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    await run(["virsh", "-q", "-c", "qemu:///system", "define", xml]);
    try {
      await h.control(h.adminUser, "nodes", "n0\n");
      await h.control(h.adminUser, "notready", "100000");
      const checked = await host.check(TYPE, {}, inputs({
        nodes: [{ name: "n0", address: h.host, port: h.port, libvirt: { uri: "qemu:///system", domain } }], readyTimeoutSeconds: 120,
      }));
      const started = Date.now();
      const err = await host.create(TYPE, checked.inputs, { name: "ready-stalled" }).then(() => undefined, (e: Error) => e);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(err?.message).toMatch(new RegExp(`stopped waiting for k3s nodes n0 to be Ready.* after \\d+ s: node n0: domain '${domain}' is shut off`));
    } finally {
      await run(["virsh", "-q", "-c", "qemu:///system", "undefine", domain], { allowFailure: true });
    }
  }, 60_000);
});
