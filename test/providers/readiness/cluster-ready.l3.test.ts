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
import { nameKubeconfig } from "../../../kairos/scripts";
import { LiveHost } from "../../fixtures/live-host/live-host";
import { run } from "../../../providers/exec";
import { ensureLibvirtd, runId } from "../libvirt/env";
import { kubeconfigWithCert } from "../../harness/kubeconfig-cert";
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

    // diff: a longer timeout, other nodes (joining, leaving, moving) are in-place updates; another endpoint is another cluster: replace.
    const id = r.id;
    const longer = await host.diff(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ readyTimeoutSeconds: 99 }))).inputs);
    expect(longer.changes).toBe("some");
    expect(longer.replaces).toEqual([]);
    const other = await host.diff(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ nodes: [{ name: "n0", address: "10.0.0.9" }] }))).inputs);
    expect(other).toMatchObject({ changes: "some", replaces: [] });
    const moved = await host.diff(TYPE, id, r.properties, (await host.check(TYPE, {}, inputs({ endpoint: "10.1.0.6" }))).inputs);
    expect(moved.replaces).toEqual(["endpoint"]);
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
    expect(err!.message).toContain(`last serial console lines of n0 (NotReady) (${consoleLog}):`);
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

  test("a node that leaves: cordoned and drained via a remaining server, powered off, then deleted there; the kubeconfig stays", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\nn2\n");
    await h.control(h.adminUser, "kubeconfig", KUBECONFIG);
    const n2 = await h.addMachine(); // a machine of its own, which powers off for real
    const three = [
      { name: "n0", address: h.host, port: h.port, role: "server" },
      { name: "n1", address: h.host, port: h.port, role: "agent" },
      { name: "n2", address: h.host, port: n2, role: "agent" },
    ];
    const created = await host.create(TYPE, (await host.check(TYPE, {}, inputs({ nodes: three, drain: { timeoutSeconds: 30, force: true } }))).inputs, { name: "scale" });
    h.resetStubs(h.adminUser);
    await h.control(h.adminUser, "nodes", "n0\nn1\nn2\n");
    const two = (await host.check(TYPE, {}, inputs({ nodes: three.slice(0, 2), drain: { timeoutSeconds: 30, force: true } }))).inputs;
    expect(await host.diff(TYPE, created.id, created.properties, two)).toMatchObject({ changes: "some", replaces: [] });
    const updated = await host.update(TYPE, created.id, created.properties, two);
    const calls = h.calls(h.adminUser);
    const at = (cmd: string) => calls.findIndex((c) => c === cmd);
    expect(at("k3s kubectl cordon n2")).toBeGreaterThan(-1);
    expect(at("k3s kubectl drain n2 --ignore-daemonsets --delete-emptydir-data --timeout=30s --force")).toBeGreaterThan(at("k3s kubectl cordon n2"));
    // A deleted Node whose k3s still runs would register again: deleted only once the machine is off.
    expect(at("poweroff")).toBeGreaterThan(at("k3s kubectl drain n2 --ignore-daemonsets --delete-emptydir-data --timeout=30s --force"));
    expect(at("k3s kubectl delete node n2")).toBeGreaterThan(at("poweroff"));
    expect(h.poweredOff(n2)).toBe(true);
    expect(h.stubFile(h.adminUser, "nodes")).toBe("n0\nn1\n");
    expect(updated.readyNodes).toEqual(["n0", "n1"]);
    expect(Object.keys(updated.hostKeys as object).sort()).toEqual(["n0", "n1"]);
    expect(reveal<string>(updated.kubeconfig)).toBe(reveal<string>(created.properties.kubeconfig));
    expect(host.output()).toContain("kairos: n2: leaving the cluster: cordon, drain, power off, delete node (via n0)");

    // A node Kubernetes no longer lists is already out: nothing to drain.
    h.resetStubs(h.adminUser);
    await h.control(h.adminUser, "nodes", "n0\n");
    const one = (await host.check(TYPE, {}, inputs({ nodes: three.slice(0, 1) }))).inputs;
    await host.update(TYPE, created.id, updated, one);
    expect(h.calls(h.adminUser).filter((c) => /cordon|drain|delete|poweroff/.test(c))).toEqual([]);
  }, 90_000);

  test("a new admin key is an update that waits for nothing; a node leaving meanwhile is reached with the previous key", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    await h.control(h.adminUser, "kubeconfig", KUBECONFIG);
    const two = [{ name: "n0", address: h.host, port: h.port, role: "server" }, { name: "n1", address: h.host, port: await h.addMachine(), role: "agent" }];
    const created = await host.create(TYPE, (await host.check(TYPE, {}, inputs({ nodes: two }))).inputs, { name: "rotate" });
    // The nodes take the new key only when their NodeConfigs roll (after this resource): it is not authorized yet.
    const rotated = (await host.check(TYPE, {}, inputs({ nodes: two.slice(0, 1), privateKey: secret(h.liveUser.privateKey) }))).inputs;
    expect(await host.diff(TYPE, created.id, created.properties, rotated)).toMatchObject({ changes: "some", replaces: [] });
    h.resetStubs(h.adminUser);
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    const updated = await host.update(TYPE, created.id, created.properties, rotated);
    expect(h.calls(h.adminUser)).toContain("k3s kubectl delete node n1");
    expect(h.calls(h.adminUser).filter((c) => c === "k3s kubectl get nodes --no-headers")).toHaveLength(1); // the removal's listing: no wait
    expect(reveal<string>(updated.privateKey)).toBe(h.liveUser.privateKey);
  }, 60_000);

  test("the kubeconfig's cluster, user and context are named as asked (kairos-<cluster>)", async () => {
    await h.control(h.adminUser, "nodes", "n0\n");
    await h.control(h.adminUser, "kubeconfig", await kubeconfigWithCert(scratch.dir, 365));
    const r = await host.create(TYPE, (await host.check(TYPE, {}, inputs({ nodes: [{ name: "n0", address: h.host, port: h.port }], contextName: "kairos-demo" }))).inputs, { name: "named" });
    const kc = reveal<string>(r.properties.kubeconfig);
    expect(kc).toContain("current-context: kairos-demo");
    expect(kc).not.toMatch(/name: default/);
    expect(r.properties.kubeconfigContext).toBe("kairos-demo");
    expect(Math.abs(Date.parse(String(r.properties.certExpiresAt)) - (Date.now() + 365 * 86_400_000))).toBeLessThan(300_000);

    // State written before kubeconfig names: an update (here a node joining) keeps k3s' names, so
    // the Kubernetes provider records its clusterIdentifier before the kubeconfig changes; a refresh names it.
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    const { kubeconfigContext: _c, contextName: _n, ...legacy }: Record<string, unknown> = { ...r.properties, kubeconfig: secret(nameKubeconfig(kc, "default", "kairos-demo")) };
    const joined = (await host.check(TYPE, {}, inputs({ contextName: "kairos-demo" }))).inputs;
    const updated = await host.update(TYPE, r.id, legacy, joined);
    expect(reveal<string>(updated.kubeconfig)).toContain("current-context: default");
    expect(updated.kubeconfigContext).toBe("default");
    const refreshed = await host.read(TYPE, r.id, updated);
    expect(reveal<string>(refreshed.properties.kubeconfig)).toContain("current-context: kairos-demo");
    expect(refreshed.properties.kubeconfigContext).toBe("kairos-demo");
  }, 60_000);

  test("refresh looks again: NotReady nodes show (and the next update waits for them), the kubeconfig is read again, a certificate near its end is warned about", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    await h.control(h.adminUser, "kubeconfig", KUBECONFIG);
    const nodes = [{ name: "n0", address: h.host, port: h.port, role: "server" }, { name: "n1", address: h.host, port: h.port, role: "agent" }];
    const checked = (await host.check(TYPE, {}, inputs({ nodes, contextName: "kairos-demo" }))).inputs;
    const r = await host.create(TYPE, checked, { name: "refresh" });
    await expect(host.diff(TYPE, r.id, r.properties, checked)).resolves.toMatchObject({ changes: "none" });

    // n1 stops answering as Ready; the server's client certificate was renewed, ending in 10 days.
    await h.control(h.adminUser, "status-n1", "NotReady");
    const renewed = await kubeconfigWithCert(scratch.dir, 10);
    await h.control(h.adminUser, "kubeconfig", renewed);
    const read = await host.read(TYPE, r.id, r.properties);
    expect(read.properties.readyNodes).toEqual(["n0"]);
    expect(read.properties.notReady).toEqual([{ name: "n1", status: "NotReady" }]);
    expect(isSecret(read.properties.kubeconfig)).toBe(true);
    const kc = reveal<string>(read.properties.kubeconfig);
    expect(kc).toContain("current-context: kairos-demo");
    expect(kc).toContain("server: https://10.1.0.5:6443");
    expect(kc).toContain(renewed.match(/client-certificate-data: (\S+)/)![1]);
    expect(host.output()).toContain("kairos: warning: refresh: node n1 is NotReady");
    expect(host.output()).toMatch(/kairos: warning: the kubeconfig's client certificate expires on \S+ \((9|10) days\)/);
    expect(host.output()).not.toContain(renewed.match(/client-key-data: (\S+)/)![1]);

    // The next up: an update (same inputs), which waits until n1 is Ready again.
    expect(await host.diff(TYPE, r.id, read.properties, checked)).toMatchObject({ changes: "some", replaces: [] });
    await h.control(h.adminUser, "status-n1", "Ready");
    const updated = await host.update(TYPE, r.id, read.properties, checked);
    expect(updated.notReady).toEqual([]);
    expect(updated.readyNodes).toEqual(["n0", "n1"]);
    expect(await host.diff(TYPE, r.id, updated, checked)).toMatchObject({ changes: "none" });

    // No server answers: every node is reported, the state is otherwise kept.
    const away = await host.read(TYPE, r.id, { ...updated, nodes: [{ name: "n0", address: "127.0.0.1", port: 1, role: "server" }] });
    expect(away.properties.notReady).toEqual([{ name: "n0", status: "unreachable" }]);
    expect(reveal<string>(away.properties.kubeconfig)).toBe(reveal<string>(updated.kubeconfig));
  }, 90_000);

  test("a readiness timeout shows the consoles of the nodes not Ready, not the others'", async () => {
    await h.control(h.adminUser, "nodes", "n0\nn1\n");
    await h.control(h.adminUser, "status-n1", "NotReady");
    const log = (n: string) => {
      const f = path.join(scratch.dir, `${n}-console.log`);
      fs.writeFileSync(f, `${n}: k3s-agent: failed to join\n`, { mode: 0o600 });
      return f;
    };
    const checked = await host.check(TYPE, {}, inputs({
      nodes: [{ name: "n0", address: h.host, port: h.port, consoleLogFile: log("n0") }, { name: "n1", address: h.host, port: h.port, consoleLogFile: log("n1") }],
      readyTimeoutSeconds: 3,
    }));
    const err = await host.create(TYPE, checked.inputs, { name: "focus" }).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain("not ready: n1 (NotReady)");
    expect(err?.message).toContain("last serial console lines of n1 (NotReady)");
    expect(err?.message).toContain("n1: k3s-agent: failed to join");
    expect(err?.message).not.toContain("n0: k3s-agent");
  }, 60_000);
});
