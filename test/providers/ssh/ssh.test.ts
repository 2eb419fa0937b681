/**
 * L2: the SSH driver and the node waits against a real OpenSSH server on 127.0.0.1 (the live-host
 * stand-in of test/fixtures/live-host, with stub k3s/kairos/sudo on its PATH).
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import {
  HostKeyMismatchError, SshAuthError, SshConnectTimeoutError, SshDisconnectedError, SshTarget, fetchKubeconfig, fingerprint, parseHostKey, sshExec,
  sshRun, sshUpload, waitForK3sReady, waitForSsh, waitForSshDown,
} from "../../../providers/ssh";
import { PermanentError, WaitTimeoutError } from "../../../providers/retry";
import { LiveHost } from "../../fixtures/live-host/live-host";
import { silentPort } from "../../fixtures/silent-port";

const KUBECONFIG = [
  "apiVersion: v1",
  "clusters:",
  "- cluster:",
  "    certificate-authority-data: Q0EtREFUQQ==",
  "    server: https://127.0.0.1:6443",
  "  name: default",
  "users:",
  "- name: default",
  "  user:",
  "    client-key-data: S0VZLVNFQ1JFVC1kbzNmNQ==",
  "",
].join("\n");

describe("SSH driver against a real sshd on 127.0.0.1", () => {
  let h: LiveHost;
  const keyTarget = (extra: Partial<SshTarget> = {}): SshTarget => ({
    host: h.host, port: h.port, user: h.liveUser.name, privateKey: h.liveUser.privateKey, ...extra,
  });
  const passwordTarget = (extra: Partial<SshTarget> = {}): SshTarget => ({
    host: h.host, port: h.port, user: h.liveUser.name, password: h.liveUser.password, ...extra,
  });
  const fast = { timeoutMs: 10_000, intervalMs: 200, attemptTimeoutMs: 5_000 };

  beforeAll(async () => {
    h = await LiveHost.start();
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(async () => {
    h.resetStubs(h.liveUser);
    if (!(await isUp())) await h.startSshd();
  });
  const isUp = async () => {
    try { await sshExec(keyTarget(), "true", { connectTimeoutMs: 3000 }); return true; } catch { return false; }
  };

  it("runs a command with key auth and returns stdout, stderr, exit code and the host key", async () => {
    const seen: string[] = [];
    const r = await sshExec(keyTarget({ onHostKey: (k) => seen.push(k) }), "echo out; echo err >&2; exit 7");
    expect(r).toEqual({ stdout: "out\n", stderr: "err\n", code: 7, signal: undefined, hostKey: h.liveHostKey });
    expect(seen).toEqual([h.liveHostKey]);
  });

  it("logs in with a password and passes stdin to the command", async () => {
    const r = await sshExec(passwordTarget(), "cat; id -un", { input: "from stdin\n" });
    expect(r.stdout).toBe(`from stdin\n${h.liveUser.name}\n`);
    expect(r.code).toBe(0);
  });

  it("accepts the pinned host key", async () => {
    const r = await sshExec(keyTarget({ hostKey: h.liveHostKey }), "true");
    expect(r.code).toBe(0);
  });

  it("refuses a wrong host key, naming the host and both fingerprints, without retrying", async () => {
    const wrong = h.installedHostKey; // a valid key, just not this server's
    const started = Date.now();
    const err = await waitForSsh(keyTarget({ hostKey: wrong }), { ...fast, timeoutMs: 20_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe(
      `host key mismatch for ${h.liveUser.name}@127.0.0.1:${h.port}: expected ${fingerprint(parseHostKey(wrong))}, ` +
        `server presented ${fingerprint(parseHostKey(h.liveHostKey))}; refusing to connect (if the host was reinstalled, update hostKey)`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("fails at once on a wrong password, without echoing it", async () => {
    const started = Date.now();
    const err = await waitForSsh(passwordTarget({ password: "not-the-password-x9" }), { ...fast, timeoutMs: 20_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(SshAuthError);
    expect(err.message).toBe(`SSH authentication failed for ${h.liveUser.name}@127.0.0.1:${h.port} (tried password); check user, password or privateKey`);
    expect(err.message).not.toContain("not-the-password-x9");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects an unusable private key as permanent, without echoing it", async () => {
    const err = await sshExec(keyTarget({ privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END OPENSSH PRIVATE KEY-----\n" }), "true").catch((e) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(new RegExp(`^privateKey for ${h.liveUser.name}@127.0.0.1:${h.port} cannot be used: `));
    expect(err.message).not.toContain("Z2FyYmFnZQ");
  });

  it("validates the target, naming each field", async () => {
    const err = await sshExec({ host: "", port: 70000, user: "bad user" }, "true").catch((e) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe([
      'invalid SSH target bad user@:70000:',
      '  host: "" is not valid; expected an address or DNS name',
      "  port: 70000 is not valid; expected an integer from 1 to 65535",
      '  user: "bad user" is not valid; expected a login name such as "kairos"',
      "  privateKey/password: neither is set; expected at least one",
    ].join("\n"));
  });

  it("surfaces a failed command's exit code and stderr", async () => {
    const err = await sshRun(keyTarget(), "echo 'disk /dev/sdz not found' >&2; exit 3").catch((e) => e);
    expect(err.message).toBe(`failed with exit code 3: echo 'disk /dev/sdz not found' >&2; exit 3 (on ${h.liveUser.name}@127.0.0.1:${h.port})\ndisk /dev/sdz not found`);
  });

  it("ends a command that exceeds its timeout", async () => {
    const started = Date.now();
    await expect(sshExec(keyTarget(), "sleep 30", { timeoutMs: 1000 })).rejects.toThrow(
      `timed out after 1000 milliseconds: sleep 30 (on ${h.liveUser.name}@127.0.0.1:${h.port})`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("uploads a file readable only by its owner, even over an existing world-readable one", async () => {
    const remote = path.join(h.liveUser.home, "upload.yaml");
    fs.writeFileSync(remote, "old\n", { mode: 0o644 });
    fs.chmodSync(remote, 0o644);
    fs.chownSync(remote, Number((await sshExec(keyTarget(), "id -u")).stdout.trim()), 0);
    const hostKey = await sshUpload(keyTarget(), remote, "#cloud-config\nsecret: s3cr3t\n", 0o600);
    expect(hostKey).toBe(h.liveHostKey);
    expect(fs.readFileSync(remote, "utf8")).toBe("#cloud-config\nsecret: s3cr3t\n");
    expect(fs.statSync(remote).mode & 0o777).toBe(0o600);
    const big = "x".repeat(200_000);
    await sshUpload(keyTarget(), remote, big);
    expect(fs.readFileSync(remote, "utf8")).toBe(big);
  });

  it("reports a refused connection as retryable, and waitForSsh succeeds once sshd is back", async () => {
    await h.stopSshd();
    const refused = await sshExec(keyTarget(), "true", { connectTimeoutMs: 2000 }).catch((e) => e);
    expect(refused).not.toBeInstanceOf(PermanentError);
    expect(refused.message).toBe(`cannot connect to ${h.liveUser.name}@127.0.0.1:${h.port}: ECONNREFUSED`);
    const restart = setTimeout(() => void h.startSshd(), 1500);
    try {
      const started = Date.now();
      const { hostKey } = await waitForSsh(keyTarget(), fast);
      expect(hostKey).toBe(h.liveHostKey);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      clearTimeout(restart);
    }
  });

  it("bounds the TCP connect alone with tcpConnectTimeoutMs: a machine that answers no SYN fails that attempt (retryably) at once", async () => {
    const silent = await silentPort();
    try {
      const target = keyTarget({ port: silent.port });
      let started = Date.now();
      const cut = await sshExec(target, "true", { connectTimeoutMs: 20_000, tcpConnectTimeoutMs: 1000 }).catch((e) => e);
      expect(cut).not.toBeInstanceOf(PermanentError);
      expect(cut).toMatchObject({ name: "SshConnectTimeoutError", phase: "tcp" });
      expect(cut.message).toBe(`TCP connect to ${h.liveUser.name}@127.0.0.1:${silent.port} timed out after 1000 ms`);
      expect(Date.now() - started).toBeLessThan(5000);
      // Without it, the attempt waits out the SYN retransmits up to the whole connect bound.
      started = Date.now();
      const whole = await sshExec(target, "true", { connectTimeoutMs: 2500 }).catch((e) => e);
      expect(whole.message).toBe(`SSH connection to ${h.liveUser.name}@127.0.0.1:${silent.port} timed out after 2500 ms`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    } finally {
      silent.close();
    }
    // Connected, but nothing answers the handshake (a machine that reset under the connection): the "ssh" phase.
    const mute = net.createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (mute.address() as net.AddressInfo).port;
      const stalled = await sshExec(keyTarget({ port }), "true", { connectTimeoutMs: 1500, tcpConnectTimeoutMs: 1000 }).catch((e) => e);
      expect(stalled).toBeInstanceOf(SshConnectTimeoutError);
      expect(stalled).toMatchObject({ phase: "ssh", message: `SSH connection to ${h.liveUser.name}@127.0.0.1:${port} timed out after 1500 ms` });
    } finally {
      mute.close();
    }
    // A machine that answers: ssh2 takes over the socket; a refused connect reads as before.
    const r = await sshExec(keyTarget(), "echo over-our-socket", { tcpConnectTimeoutMs: 3000 });
    expect([r.code, r.stdout, r.hostKey]).toEqual([0, "over-our-socket\n", h.liveHostKey]);
    await h.stopSshd();
    try {
      const refused = await sshExec(keyTarget(), "true", { tcpConnectTimeoutMs: 3000 }).catch((e) => e);
      expect(refused.message).toBe(`cannot connect to ${h.liveUser.name}@127.0.0.1:${h.port}: ECONNREFUSED`);
    } finally {
      await h.startSshd();
    }
  });

  it("times out waiting for SSH with what was awaited and the caller's diagnostics", async () => {
    await h.stopSshd();
    const err = await waitForSsh(keyTarget(), { timeoutMs: 1500, intervalMs: 300, diagnostics: () => "console: login prompt never came" }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err.message).toMatch(new RegExp(`^timed out waiting for SSH on ${h.liveUser.name}@127.0.0.1:${h.port} after \\d+ s\\nlast error: cannot connect to .*: ECONNREFUSED\\nconsole: login prompt never came$`));
  });

  it("keeps waiting while the server presents the key of the system being replaced", async () => {
    const err = await waitForSsh(keyTarget(), { timeoutMs: 1500, intervalMs: 300, notYetHostKey: h.liveHostKey }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err.message).toContain(
      `last error: ${h.liveUser.name}@127.0.0.1:${h.port} still presents the host key of the system being replaced (${fingerprint(parseHostKey(h.liveHostKey))}); not rebooted yet`,
    );
    await expect(waitForSsh(keyTarget(), { ...fast, notYetHostKey: h.installedHostKey })).resolves.toEqual({ hostKey: h.liveHostKey });
  });

  it("waitForSshDown resolves once the host stops answering", async () => {
    let stopped: Promise<void> | undefined;
    const timer = setTimeout(() => { stopped = h.stopSshd(); }, 800);
    try {
      const started = Date.now();
      await waitForSshDown(keyTarget(), fast);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      clearTimeout(timer);
      await stopped;
    }
  });

  it("a command cut off by a dropped connection is a retryable SshDisconnectedError", async () => {
    await h.control(h.liveUser, "drop-once");
    const err = await sshExec(keyTarget(), "sudo k3s kubectl get nodes --no-headers").catch((e) => e);
    expect(err.message).toMatch(/^SSH connection to .* (ended before the command exited|closed while running): sudo k3s kubectl get nodes --no-headers/);
    expect(err).toBeInstanceOf(SshDisconnectedError);
    expect(err).not.toBeInstanceOf(PermanentError);
  });

  describe("waitForK3sReady", () => {
    it("retries after a dropped connection and returns the nodes once all are Ready", async () => {
      await h.control(h.liveUser, "nodes", "cp1\nw1\n");
      await h.control(h.liveUser, "drop-once");
      const nodes = await waitForK3sReady(keyTarget(), ["cp1", "w1"], fast);
      expect(nodes.map((n) => `${n.name}=${n.status}`)).toEqual(["cp1=Ready", "w1=Ready"]);
      expect(h.calls(h.liveUser).filter((c) => c.startsWith("k3s "))).toEqual([
        "k3s kubectl get nodes --no-headers", "k3s kubectl get nodes --no-headers",
      ]);
      expect(h.calls(h.liveUser)).toContain("sudo k3s kubectl get nodes --no-headers");
    });

    it("waits through API-down and NotReady answers, reporting progress", async () => {
      await h.control(h.liveUser, "nodes", "cp1\nw1\n");
      await h.control(h.liveUser, "apidown", "1");
      await h.control(h.liveUser, "notready", "3");
      const progress: string[] = [];
      await waitForK3sReady(keyTarget(), ["cp1", "w1"], { ...fast, progressEveryMs: 0, onProgress: (_ms, n, last) => progress.push(`${n}: ${last}`) });
      expect(h.stubFile(h.liveUser, "k3s-calls")).toBe("4\n");
      expect(progress[0]).toMatch(/^1: sudo k3s kubectl get nodes --no-headers exited with 1: The connection to the server 127.0.0.1:6443 was refused/);
      expect(progress).toContain("2: 0/2 Ready; not ready: cp1 (NotReady), w1 (NotReady)");
    });

    it("times out with the last readiness, the last nodes output and the caller's diagnostics", async () => {
      await h.control(h.liveUser, "nodes", "cp1\n");
      await h.control(h.liveUser, "notready", "100000");
      const err = await waitForK3sReady(keyTarget(), ["cp1", "w9"], { timeoutMs: 2000, intervalMs: 300, diagnostics: () => "serial tail:\nk3s[812]: waiting for etcd" }).catch((e) => e);
      expect(err).toBeInstanceOf(WaitTimeoutError);
      expect(err.message).toMatch(new RegExp([
        `^timed out waiting for k3s nodes cp1, w9 to be Ready \\(via ${h.liveUser.name}@127.0.0.1:${h.port}\\) after \\d+ s`,
        "last error: 0/2 Ready; missing: w9; not ready: cp1 \\(NotReady\\)",
        "last 'sudo k3s kubectl get nodes --no-headers' output:",
        "cp1 +NotReady +control-plane,master +1m +v1.33.1\\+k3s1",
        "serial tail:",
        "k3s\\[812\\]: waiting for etcd$",
      ].join("\\n")));
    });
  });

  describe("fetchKubeconfig", () => {
    it("explicit: reads k3s.yaml with sudo once it exists and points it at the endpoint", async () => {
      // The file appears only after a first attempt failed (progress is reported after each one).
      const failures: string[] = [];
      let written: Promise<void> | undefined;
      const kc = await fetchKubeconfig(keyTarget(), {
        ...fast, mode: "explicit", endpoint: "192.168.50.10", progressEveryMs: 0,
        onProgress: (_ms, _n, last) => { failures.push(last ?? ""); written ??= h.control(h.liveUser, "kubeconfig", KUBECONFIG); },
      });
      await written;
      expect(failures[0]).toBe("sudo cat /etc/rancher/k3s/k3s.yaml exited with 1: cat: /etc/rancher/k3s/k3s.yaml: No such file or directory");
      expect(kc).toBe(KUBECONFIG.replace("https://127.0.0.1:6443", "https://192.168.50.10:6443"));
      const cats = h.calls(h.liveUser).filter((c) => c === "sudo cat /etc/rancher/k3s/k3s.yaml");
      expect(cats.length).toBeGreaterThanOrEqual(2); // the first attempt found no file
    });

    it("p2p: asks kairos get-kubeconfig on the TCP API and keeps its address", async () => {
      await h.control(h.liveUser, "kubeconfig", KUBECONFIG);
      const kc = await fetchKubeconfig(keyTarget(), { ...fast, mode: "p2p" });
      expect(kc).toBe(KUBECONFIG.replace("https://127.0.0.1:6443", "https://10.1.0.5:6443"));
      expect(h.calls(h.liveUser)).toEqual([
        "sudo kairos get-kubeconfig --api http://127.0.0.1:8080",
        "kairos get-kubeconfig --api http://127.0.0.1:8080",
      ]);
    });

    it("never puts the kubeconfig's content into a timeout error", async () => {
      const notKubeconfig = "client-key-data: S0VZLVNFQ1JFVC1kbzNmNQ==\nnot a kubeconfig\n";
      await h.control(h.liveUser, "kubeconfig", notKubeconfig);
      const err = await fetchKubeconfig(keyTarget(), { timeoutMs: 1000, intervalMs: 300, mode: "explicit", endpoint: "10.0.0.1" }).catch((e) => e);
      expect(err).toBeInstanceOf(WaitTimeoutError);
      expect(err.message).toContain(`last error: sudo cat /etc/rancher/k3s/k3s.yaml printed no kubeconfig yet (${notKubeconfig.length} bytes)`);
      expect(err.message).not.toContain("S0VZLVNFQ1JFVC");
    });

    it("requires an endpoint in explicit mode", async () => {
      await expect(fetchKubeconfig(keyTarget(), { ...fast, mode: "explicit" })).rejects.toThrow(
        'endpoint: undefined is not valid for mode "explicit"; expected the API address clients use (e.g. the first server\'s IP)',
      );
    });
  });
});
