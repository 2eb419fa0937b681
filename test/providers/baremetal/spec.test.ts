/** L0: bare-metal node input validation and the replace/update rule. */
import { BareMetalNodeInputs, BareMetalNodeOutputs, checkInputs, configDigest, diffInputs } from "../../../providers/baremetal";
import { pinnedHostKey } from "../../../providers/baremetal/spec";

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
/** Another machine's key: the one a reinstall outside Pulumi would bring. */
const ED25519_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3ZqYaqOXbeA1DQ4Czf2uJ/KpMgFHY21qDCPi3k+yDx";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const good = (): BareMetalNodeInputs => ({
  host: { name: "edge-1", address: "192.168.1.50", password: "kairos" },
  cloudConfig: "#cloud-config\nhostname: edge-1\n",
  adminUser: "kairos",
  adminPrivateKey: KEY,
});

describe("checkInputs", () => {
  it("accepts minimal inputs and every documented option", () => {
    expect(checkInputs(good())).toEqual([]);
    expect(checkInputs({
      ...good(),
      host: { name: "n.1_a", address: "fd00::5", port: 2222, user: "kairos", privateKey: KEY, hostKey: ED25519, installedHostKey: ED25519, device: "/dev/disk/by-id/nvme-X" },
      timeouts: { connectMs: 1000, installMs: 3_600_000, rebootMs: 86_400_000 },
      onDestroy: "reset",
    })).toEqual([]);
  });

  test.each<[string, (i: BareMetalNodeInputs) => void, { path: string; value: string; expected: string }]>([
    ["a bad name", (i) => { i.host.name = "-x"; }, { path: "host.name", value: '"-x"', expected: "1-63 characters of [A-Za-z0-9._-], starting with a letter or digit" }],
    ["a bad address", (i) => { i.host.address = "http://x"; }, { path: "host.address", value: '"http://x"', expected: "an IP address or DNS name (e.g. 192.168.1.50)" }],
    ["port 0", (i) => { i.host.port = 0; }, { path: "host.port", value: "0", expected: "an integer from 1 to 65535" }],
    ["a fractional port", (i) => { i.host.port = 22.5; }, { path: "host.port", value: "22.5", expected: "an integer from 1 to 65535" }],
    ["a bad user", (i) => { i.host.user = "root user"; }, { path: "host.user", value: '"root user"', expected: 'a login name such as "kairos"' }],
    ["a device outside /dev", (i) => { i.host.device = "sda"; }, { path: "host.device", value: '"sda"', expected: '"auto" or a device path matching ^/dev/.+ (e.g. /dev/sda)' }],
    ["no credentials", (i) => { delete i.host.password; }, { path: "host.password", value: "undefined", expected: 'a password or host.privateKey for the live system (the live ISO has user "kairos", password "kairos")' }],
    ["a bad live host key", (i) => { i.host.hostKey = "AAAA"; }, { path: "host.hostKey", value: '"AAAA"', expected: 'a public key line such as "ssh-ed25519 AAAAC3Nza..."' }],
    ["a bad installed host key", (i) => { i.host.installedHostKey = "ssh-rsa x"; }, { path: "host.installedHostKey", value: '"ssh-rsa x"', expected: 'a public key line such as "ssh-ed25519 AAAAC3Nza..."' }],
    ["a config without header", (i) => { i.cloudConfig = "hostname: x\n#cloud-config"; }, { path: "cloudConfig", value: "<secret>", expected: 'text whose first line is "#cloud-config"' }],
    ["a bad admin user", (i) => { i.adminUser = ""; }, { path: "adminUser", value: '""', expected: 'a login name such as "kairos"' }],
    ["a public key as admin key", (i) => { i.adminPrivateKey = ED25519; }, { path: "adminPrivateKey", value: "<secret>", expected: "a PEM or OpenSSH private key" }],
    ["a short timeout", (i) => { i.timeouts = { connectMs: 10 }; }, { path: "timeouts.connectMs", value: "10", expected: "an integer number of milliseconds from 1000 to 86400000" }],
    ["an unknown timeout", (i) => { i.timeouts = { bootMs: 1000 } as never; }, { path: "timeouts.bootMs", value: "1000", expected: "one of connectMs, installMs, rebootMs" }],
    ["a bad onDestroy", (i) => { i.onDestroy = "wipe" as never; }, { path: "onDestroy", value: '"wipe"', expected: '"none" or "reset"' }],
  ])("reports %s naming the field, the value and what is accepted", (_t, mutate, issue) => {
    const i = good();
    mutate(i);
    expect(checkInputs(i)).toEqual([issue]);
  });

  it("skips values unknown during preview", () => {
    const i = { ...good(), host: { ...good().host, address: UNKNOWN, port: UNKNOWN as never }, cloudConfig: UNKNOWN, adminPrivateKey: UNKNOWN };
    expect(checkInputs(i)).toEqual([]);
    expect(checkInputs({ ...good(), host: UNKNOWN as never })).toEqual([]);
  });
});

describe("diffInputs", () => {
  const state = (): BareMetalNodeOutputs => ({
    ...good(), configDigest: configDigest(good().cloudConfig), address: "192.168.1.50",
    hostKeyLive: ED25519, hostKey: ED25519, installedAt: "2026-11-25T00:00:00.000Z", reachable: true,
  });

  test.each<[string, (i: BareMetalNodeInputs) => void, { changes: boolean; replaces: string[] }]>([
    ["nothing", () => undefined, { changes: false, replaces: [] }],
    ["defaults spelled out", (i) => { i.host.port = 22; i.host.device = "auto"; i.host.user = "kairos"; i.onDestroy = "none"; }, { changes: false, replaces: [] }],
    ["the cloud-config", (i) => { i.cloudConfig += "# changed\n"; }, { changes: true, replaces: ["cloudConfig"] }],
    ["the address", (i) => { i.host.address = "192.168.1.51"; }, { changes: true, replaces: ["host.address"] }],
    ["the device", (i) => { i.host.device = "/dev/sdb"; }, { changes: true, replaces: ["host.device"] }],
    ["the admin user", (i) => { i.adminUser = "ops"; }, { changes: true, replaces: ["adminUser"] }],
    ["the live password", (i) => { i.host.password = "other"; }, { changes: true, replaces: [] }],
    ["the admin key", (i) => { i.adminPrivateKey = KEY + "\n"; }, { changes: true, replaces: [] }],
    ["onDestroy", (i) => { i.onDestroy = "reset"; }, { changes: true, replaces: [] }],
    ["timeouts", (i) => { i.timeouts = { rebootMs: 5000 }; }, { changes: true, replaces: [] }],
    ["the installed host key (recorded A, the machine reinstalled outside Pulumi now presents B)", (i) => { i.host.installedHostKey = ED25519_B; }, { changes: true, replaces: [] }],
    ["the live host key (matters only to a future install)", (i) => { i.host.hostKey = ED25519_B; }, { changes: true, replaces: [] }],
    ["the installed host key during preview", (i) => { i.host.installedHostKey = UNKNOWN; }, { changes: true, replaces: [] }],
  ])("a change of %s", (_t, mutate, decision) => {
    const i = good();
    mutate(i);
    expect(diffInputs(state(), i)).toEqual(decision);
  });

  it("an unchanged installed key that matches the recorded one (comment aside) is no change", () => {
    const i = good();
    i.host.installedHostKey = `${ED25519} root@edge-1`;
    expect(diffInputs({ ...state(), host: { ...i.host } }, i)).toEqual({ changes: false, replaces: [] });
  });

  it("an unchanged installed key that the recorded one does not match yet is an update (it gets recorded)", () => {
    const i = good();
    i.host.installedHostKey = ED25519_B;
    expect(diffInputs({ ...state(), host: { ...i.host } }, i)).toEqual({ changes: true, replaces: [] });
  });
});

describe("pinnedHostKey", () => {
  it("pins the installed key input over the recorded key, in the recorded form", () => {
    expect(pinnedHostKey({ installedHostKey: `${ED25519_B} root@edge-1` }, ED25519)).toBe(ED25519_B);
  });

  it("without the input, pins the key recorded at first contact, or nothing before it", () => {
    expect(pinnedHostKey({}, ED25519)).toBe(ED25519);
    expect(pinnedHostKey({ installedHostKey: "" }, ED25519)).toBe(ED25519);
    expect(pinnedHostKey({})).toBeUndefined();
  });
});
