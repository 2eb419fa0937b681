import * as yaml from "js-yaml";
import { buildNodeConfigs, BuildNodeConfigsInput, configDigest, DEFAULT_ADMIN_USER } from "../../kairos/cluster-config";
import { ConfigConflictError } from "../../kairos/cloudconfig/merge";
import { CloudConfigError } from "../../kairos/cloudconfig/validate";
import { ClusterSpecError, planRoles } from "../../kairos/roles/plan";

const K3S_TOKEN = "K10fake-cluster-token";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake ops@example";
const plan3 = () => planRoles({ cluster: "lab", servers: 3, agents: 1, mode: "explicit", k3sToken: K3S_TOKEN, vip: "10.0.0.100" });
const input = (over: Partial<BuildNodeConfigsInput> = {}): BuildNodeConfigsInput => ({
  plan: plan3(), sshAuthorizedKeys: [KEY], bootMode: "iso", ...over,
});

describe("buildNodeConfigs", () => {
  test("every node gets its hostname, a locked admin user with the keys, the installer and its role blocks", () => {
    const out = buildNodeConfigs(input());
    expect(out.map((n) => [n.name, n.role])).toEqual([
      ["lab-server-0", "init"], ["lab-server-1", "server"], ["lab-server-2", "server"], ["lab-agent-0", "agent"],
    ]);
    for (const n of out) {
      expect(n.text.split("\n")[0]).toBe("#cloud-config");
      const parsed = yaml.load(n.text) as any;
      expect(parsed).toEqual(JSON.parse(JSON.stringify(n.config)));
      expect(parsed.hostname).toBe(n.name);
      expect(parsed.users).toEqual([{ name: DEFAULT_ADMIN_USER, groups: ["admin"], lock_passwd: true, ssh_authorized_keys: [KEY] }]);
      expect(parsed.install).toEqual({ auto: true, device: "auto", reboot: true });
    }
    expect((yaml.load(out[0].text) as any).k3s.args).toEqual(["--cluster-init", "--tls-san=10.0.0.100"]);
    expect((yaml.load(out[3].text) as any)["k3s-agent"].env).toEqual({ K3S_URL: "https://10.0.0.100:6443", K3S_TOKEN });
  });

  test("disk mode has no install block (a raw image resets itself on first boot); baremetal installs to the given device", () => {
    expect(buildNodeConfigs(input({ bootMode: "disk" }))[0].config.install).toBeUndefined();
    expect(buildNodeConfigs(input({ bootMode: "baremetal", installDevice: "/dev/nvme0n1" }))[0].config.install).toEqual({
      auto: true, device: "/dev/nvme0n1", reboot: true,
    });
  });

  test("extra config is merged: users appended after the admin, new keys added", () => {
    const [n] = buildNodeConfigs(input({
      users: [{ name: "dev", ssh_authorized_keys: ["github:dev"] }],
      extraConfig: { users: [{ name: "extra", groups: ["wheel"] }], runcmd: ["echo hi"], k3s: { env: { EXTRA: "1" } } },
    }));
    expect(n.config.users!.map((u) => u.name)).toEqual([DEFAULT_ADMIN_USER, "dev", "extra"]);
    expect(n.config.runcmd).toEqual(["echo hi"]);
    expect(n.config.k3s!.env).toEqual({ K3S_TOKEN, EXTRA: "1" });
  });

  test("extra config changing an owned path fails naming the path, never the value; allowOverride lets it through", () => {
    const extraConfig = { k3s: { env: { K3S_TOKEN: "other-secret" } }, hostname: "mine" };
    let err: unknown;
    try { buildNodeConfigs(input({ extraConfig })); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigConflictError);
    expect((err as ConfigConflictError).keys).toEqual(["hostname", "k3s.env.K3S_TOKEN"]);
    expect((err as Error).message).not.toContain("other-secret");
    const [n] = buildNodeConfigs(input({ extraConfig, allowOverride: ["hostname", "k3s.env.K3S_TOKEN"] }));
    expect(n.config.hostname).toBe("mine");
  });

  test("a merged config that Kairos would reject fails validation, naming the node", () => {
    expect(() => buildNodeConfigs(input({ extraConfig: { install: { poweroff: true } } }))).toThrow(CloudConfigError);
    expect(() => buildNodeConfigs(input({ extraConfig: { install: { poweroff: true } } }))).toThrow(
      /^node lab-server-0: invalid cloud-config \(1 problem\)\n  - install\.poweroff: true is not valid; expected not together with install\.reboot: true/,
    );
  });

  test("hostnames override the default per node", () => {
    const out = buildNodeConfigs(input({ hostnames: { "lab-agent-0": "worker-a" } }));
    expect(out[3].config.hostname).toBe("worker-a");
    expect(out[0].config.hostname).toBe("lab-server-0");
  });

  test("the same input renders the same bytes, whatever the key order of the extra config", () => {
    const a = buildNodeConfigs(input({ extraConfig: { runcmd: ["a"], options: { x: "1", y: "2" } } }));
    const b = buildNodeConfigs(input({ extraConfig: { options: { y: "2", x: "1" }, runcmd: ["a"] } }));
    expect(b.map((n) => n.text)).toEqual(a.map((n) => n.text));
  });

  test.each<[string, Partial<BuildNodeConfigsInput>, string]>([
    ["admin named kairos", { adminUser: "kairos" }, `  - adminUser: "kairos" is not valid; expected a Linux user name ([a-z_][a-z0-9_-]*, at most 32) other than "kairos" (built in, locked) and "root" (locked)`],
    ["no keys", { sshAuthorizedKeys: [] }, "  - sshAuthorizedKeys: [] is not valid; expected at least one public key: the admin password is locked, SSH keys are the only way in"],
    ["a private key pasted as a key", { sshAuthorizedKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }, '  - sshAuthorizedKeys[0]: "-----BEGIN OPENSSH PRIVATE KEY-----" is not valid; expected one OpenSSH public key line ("ssh-ed25519 AAAA... comment") or "github:USER"'],
    ["bad boot mode", { bootMode: "pxe" as any }, '  - bootMode: "pxe" is not valid; expected "disk", "iso" or "baremetal"'],
    ["install device in disk mode", { bootMode: "disk", installDevice: "/dev/sda" }, '  - installDevice: "/dev/sda" is not valid; expected unset with bootMode "disk" (a disk image is not installed)'],
    ["bad install device", { installDevice: "sda" }, '  - installDevice: "sda" is not valid; expected "auto", a device path "/dev/..." or "script://<path>"'],
    ["hostname for an unknown node", { hostnames: { ghost: "x" } }, '  - hostnames.ghost: "x" is not valid; expected a node name from the plan (lab-server-0, lab-server-1, lab-server-2, ...)'],
    ["bad hostname", { hostnames: { "lab-agent-0": "a_b" } }, '  - hostnames.lab-agent-0: "a_b" is not valid; expected a host name: letters, digits and \'-\', 1-63 characters'],
    ["extra user named like the admin", { users: [{ name: "kairos-admin" }] }, '  - users[0].name: "kairos-admin" is not valid; expected a name other than the admin user "kairos-admin" (set adminUser to rename it)'],
    ["empty plan", { plan: [] }, '  - plan: [] is not valid; expected a non-empty list from planRoles'],
  ])("refuses %s", (_t, over, line) => {
    let err: unknown;
    try { buildNodeConfigs(input(over)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ClusterSpecError);
    expect((err as Error).message.split("\n")[0]).toMatch(/^invalid node config input \(\d+ problems?\)$/);
    expect((err as Error).message.split("\n")).toContain(line);
  });
});

describe("configDigest", () => {
  test("is the SHA-256 hex of the text", () => {
    expect(configDigest("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("changes when any node config changes, and only then", () => {
    const a = buildNodeConfigs(input()).map((n) => configDigest(n.text));
    expect(buildNodeConfigs(input()).map((n) => configDigest(n.text))).toEqual(a);
    const b = buildNodeConfigs(input({ sshAuthorizedKeys: [KEY, "github:other"] })).map((n) => configDigest(n.text));
    b.forEach((d, i) => expect(d).not.toBe(a[i]));
  });
});
