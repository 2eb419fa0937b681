/**
 * L2: the bare-metal install driver against the live-host stand-in (a real sshd on 127.0.0.1 with
 * recording stubs; the "reboot" restarts sshd as the installed system with another host key and
 * the admin user). The stand-in does not apply the cloud-config: its admin user exists from the start.
 */
import * as fs from "fs";
import { BareMetalNodeInputs, BareMetalNodeOutputs, installNode, probeNode, resetNode } from "../../../providers/baremetal";
import { HostKeyMismatchError, fingerprint, parseHostKey } from "../../../providers/ssh";
import { PermanentError, WaitTimeoutError } from "../../../providers/retry";
import { LiveHost } from "../../fixtures/live-host/live-host";

const CLOUD_CONFIG = "#cloud-config\nusers:\n- name: kairos\n  groups: [admin]\n  passwd: Sup3rSecretPw\n";

describe("bare-metal driver: install over SSH from the live system", () => {
  let h: LiveHost;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(`info: ${m}`), warn: (m: string) => logs.push(`warn: ${m}`) };
  const inputs = (extra: Partial<BareMetalNodeInputs["host"]> = {}, more: Partial<BareMetalNodeInputs> = {}): BareMetalNodeInputs => ({
    host: { name: "n1", address: "127.0.0.1", port: h.port, user: h.liveUser.name, password: h.liveUser.password, ...extra },
    cloudConfig: CLOUD_CONFIG,
    adminUser: h.adminUser.name,
    adminPrivateKey: h.adminUser.privateKey,
    timeouts: { connectMs: 10_000, installMs: 20_000, rebootMs: 20_000 },
    ...more,
  });

  beforeAll(async () => {
    h = await LiveHost.start({ rebootDownMs: 1500 });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(async () => {
    logs.length = 0;
    h.resetStubs(h.liveUser);
    h.resetStubs(h.adminUser);
    await h.setState("live");
  });

  it("uploads the config as a private file, runs manual-install with sudo, rides the reboot and records both host keys", async () => {
    const started = Date.now();
    const out = await installNode(inputs(), { log, intervalMs: 200 });
    expect(out).toEqual({
      address: "127.0.0.1",
      hostKeyLive: h.liveHostKey,
      hostKey: h.installedHostKey,
      installedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      configDigest: require("crypto").createHash("sha256").update(CLOUD_CONFIG).digest("hex"),
      reachable: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // the simulated reboot was waited out
    expect(h.state).toBe("installed");
    expect(h.reboots).toBeGreaterThanOrEqual(1);
    const calls = h.calls(h.liveUser);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/^sudo kairos-agent manual-install --device auto --reboot \/tmp\/kairos-install\.[A-Za-z0-9]{8}\/cloud-config\.yaml$/);
    expect(calls[1]).toBe(calls[0].replace(/^sudo /, ""));
    expect(h.stubFile(h.liveUser, "install-config.yaml")).toBe(CLOUD_CONFIG);
    expect(h.stubFile(h.liveUser, "install-modes")).toBe("600 700\n"); // file 0600 in a 0700 dir
    expect(logs.filter((l) => l.startsWith("warn: "))).toEqual([
      `warn: n1 (127.0.0.1): live host key not pinned (host.hostKey); trusting the first key seen: ${h.liveHostKey}`,
      `warn: n1 (127.0.0.1): installed host key not pinned (host.installedHostKey); recorded the first key seen: ${h.installedHostKey}`,
    ]);
    const all = logs.join("\n");
    expect(all).not.toContain("Sup3rSecretPw");
    expect(all).not.toContain(h.liveUser.password!);
    expect(all).not.toContain("PRIVATE KEY");
  });

  it("installs with key auth, pinned live and installed keys and an explicit device, without warnings", async () => {
    const out = await installNode(
      inputs({ password: undefined, privateKey: h.liveUser.privateKey, hostKey: h.liveHostKey, installedHostKey: h.installedHostKey, device: "/dev/vda" }),
      { log, intervalMs: 200 },
    );
    expect(out.hostKey).toBe(h.installedHostKey);
    expect(h.calls(h.liveUser)[0]).toMatch(/^sudo kairos-agent manual-install --device \/dev\/vda --reboot /);
    expect(logs.filter((l) => l.startsWith("warn: "))).toEqual([]);
  });

  it("refuses a live system whose host key differs from the pinned one, before running anything", async () => {
    const err = await installNode(inputs({ hostKey: h.installedHostKey }), { log, intervalMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toContain(`expected ${fingerprint(parseHostKey(h.installedHostKey))}, server presented ${fingerprint(parseHostKey(h.liveHostKey))}`);
    expect(h.calls(h.liveUser)).toEqual([]);
    expect(h.state).toBe("live");
  });

  it("surfaces a failed install's exit code and remote stderr, and removes the uploaded config", async () => {
    await h.control(h.liveUser, "install-fail", "Error: 1 error occurred:\n\t* no disk found matching /dev/sdz\n");
    const err = await installNode(inputs({ device: "/dev/sdz" }), { log, intervalMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(new RegExp(
      "^kairos-agent manual-install failed on n1 \\(127\\.0\\.0\\.1\\) with exit code 3: sudo kairos-agent manual-install --device /dev/sdz " +
        "--reboot /tmp/kairos-install\\.[A-Za-z0-9]{8}/cloud-config\\.yaml\\nError: 1 error occurred:\\n\\t\\* no disk found matching /dev/sdz$",
    ));
    expect(err.message).not.toContain("Sup3rSecretPw");
    expect(h.tmpDirsOf(h.liveUser)).toEqual([]);
    expect(h.state).toBe("live");
  });

  it("treats an install killed by a signal as a reboot when the machine then goes down", async () => {
    await h.control(h.liveUser, "install-signal", "reboot");
    const out = await installNode(inputs(), { log, intervalMs: 200 });
    expect(out.hostKey).toBe(h.installedHostKey);
    expect(logs).toContain("info: n1 (127.0.0.1): manual-install was killed by signal SIGKILL; checking whether the machine is rebooting");
  });

  it("fails an install killed by a signal when the machine does not reboot", async () => {
    await h.control(h.liveUser, "install-signal", "stay");
    const err = await installNode(inputs({}, { timeouts: { connectMs: 10_000, installMs: 20_000, rebootMs: 2_000 } }), { log, intervalMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/^kairos-agent manual-install on n1 \(127\.0\.0\.1\) was killed by signal SIGKILL and the machine did not reboot: sudo kairos-agent manual-install --device auto --reboot \/tmp\/kairos-install\.[A-Za-z0-9]{8}\/cloud-config\.yaml\nINFO installing Kairos to auto\nINFO rebooting$/);
    expect(h.state).toBe("live");
  });

  it("keeps retrying refused admin credentials after the reboot, but only until rebootMs", async () => {
    const other = fs.readFileSync(require("path").join(h.base, "keys", "live_host"), "utf8"); // a valid key the admin does not accept
    const started = Date.now();
    const err = await installNode(inputs({}, { adminPrivateKey: other, timeouts: { connectMs: 10_000, installMs: 20_000, rebootMs: 4_000 } }), { log, intervalMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err.message).toMatch(new RegExp(`^timed out waiting for SSH on ${h.adminUser.name}@127\\.0\\.0\\.1:${h.port} after \\d+ s\\nlast error: SSH authentication failed for ${h.adminUser.name}@127\\.0\\.0\\.1:${h.port} \\(tried publickey\\)$`));
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  describe("after the install", () => {
    let state: BareMetalNodeOutputs;
    beforeEach(async () => {
      const i = inputs({}, { onDestroy: "reset" });
      state = { ...i, ...(await installNode(i, { log, intervalMs: 200 })) };
    });

    it("probes the installed system as the admin with the recorded key", async () => {
      await expect(probeNode(state)).resolves.toBe(true);
    });

    it("reports an unreachable node as not reachable", async () => {
      await h.stopSshd();
      await expect(probeNode(state, { timeoutMs: 3000 })).resolves.toBe(false);
      await h.startSshd();
    });

    it("refuses a node whose host key changed since the install", async () => {
      await expect(probeNode({ ...state, hostKey: h.liveHostKey })).rejects.toBeInstanceOf(HostKeyMismatchError);
    });

    // A machine reinstalled outside Pulumi: state recorded key A (here the live key), the machine
    // presents B (the installed key) and the user names B in host.installedHostKey.
    it("pins host.installedHostKey over the recorded key, for probe and reset", async () => {
      const repinned = { ...state, hostKey: h.liveHostKey, host: { ...state.host, installedHostKey: h.installedHostKey } };
      await expect(probeNode(repinned)).resolves.toBe(true);
      await resetNode(repinned, { intervalMs: 200, timeoutMs: 10_000 });
      expect(h.calls(h.adminUser)).toEqual(["sudo kairos-agent reset --unattended --reboot", "kairos-agent reset --unattended --reboot"]);
    });

    it("refuses a node that does not present the key named in host.installedHostKey, even if it matches the recorded one", async () => {
      await expect(probeNode({ ...state, host: { ...state.host, installedHostKey: h.liveHostKey } })).rejects.toBeInstanceOf(HostKeyMismatchError);
    });

    it("resets the node with kairos-agent reset through sudo", async () => {
      await resetNode(state, { intervalMs: 200, timeoutMs: 10_000 });
      expect(h.calls(h.adminUser)).toEqual([
        "sudo kairos-agent reset --unattended --reboot",
        "kairos-agent reset --unattended --reboot",
      ]);
      expect(h.stubFile(h.adminUser, "reset-requested")).toBe("");
    });
  });

  it("does not mistake a live system that still answers after the session dropped for the installed one", async () => {
    const lagging = await LiveHost.start({ rebootDownMs: 1000, rebootLagMs: 2000, liveAdmitsAdmin: true });
    try {
      const i: BareMetalNodeInputs = {
        ...inputs(),
        host: { name: "n2", address: "127.0.0.1", port: lagging.port, user: lagging.liveUser.name, password: lagging.liveUser.password },
        adminUser: lagging.adminUser.name,
        adminPrivateKey: lagging.adminUser.privateKey,
      };
      const out = await installNode(i, { log, intervalMs: 200 });
      expect(out.hostKeyLive).toBe(lagging.liveHostKey);
      expect(out.hostKey).toBe(lagging.installedHostKey); // not the live key, though the admin could log in there
      expect(lagging.state).toBe("installed");
    } finally {
      await lagging.stop();
    }
  });
});
