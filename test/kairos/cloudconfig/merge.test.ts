import { mergeCloudConfig, ConfigConflictError } from "../../../kairos/cloudconfig/merge";
import type { CloudConfig } from "../../../kairos/cloudconfig/model";

const TOKEN = "K10-server-secret-value";

function ours(): CloudConfig {
  return {
    hostname: "cp1",
    users: [{ name: "ops", groups: ["admin"] }],
    ssh_authorized_keys: ["ssh-ed25519 AAAA ours"],
    write_files: [{ path: "/etc/ours", content: "x" }],
    runcmd: ["echo ours"],
    stages: { boot: [{ name: "ours", commands: ["true"] }] },
    install: { auto: true, device: "auto", reboot: true },
    k3s: { enabled: true, args: ["--cluster-init"], env: { K3S_TOKEN: TOKEN } },
  };
}

const OWNED = ["hostname", "install.device", "k3s.env.K3S_TOKEN", "p2p.network_token"];

describe("mergeCloudConfig", () => {
  test("no extra gives a copy of ours", () => {
    const base = ours();
    const merged = mergeCloudConfig(base, undefined, { owned: OWNED });
    expect(merged).toEqual(base);
    expect(merged).not.toBe(base);
    expect(merged.users).not.toBe(base.users);
  });

  test("users, keys, files, commands and stage step lists are appended after ours", () => {
    const merged = mergeCloudConfig(ours(), {
      users: [{ name: "dev", groups: ["wheel"] }],
      ssh_authorized_keys: ["ssh-ed25519 BBBB extra"],
      write_files: [{ path: "/etc/extra", content: "y" }],
      runcmd: ["echo extra"],
      stages: { boot: [{ name: "extra" }], network: [{ name: "net" }] },
    });
    expect(merged.users?.map((u) => u.name)).toEqual(["ops", "dev"]);
    expect(merged.ssh_authorized_keys).toEqual(["ssh-ed25519 AAAA ours", "ssh-ed25519 BBBB extra"]);
    expect(merged.write_files?.map((f) => f.path)).toEqual(["/etc/ours", "/etc/extra"]);
    expect(merged.runcmd).toEqual(["echo ours", "echo extra"]);
    expect(merged.stages?.boot.map((s) => s.name)).toEqual(["ours", "extra"]);
    expect(merged.stages?.network).toEqual([{ name: "net" }]);
  });

  test("other lists are replaced and maps merge key by key", () => {
    const merged = mergeCloudConfig(ours(), {
      k3s: { args: ["--disable=traefik"], env: { EXTRA: "1" } },
      install: { grub_options: { extra_cmdline: "console=ttyS0" } },
      options: { a: "b" },
    });
    expect(merged.k3s).toEqual({ enabled: true, args: ["--disable=traefik"], env: { K3S_TOKEN: TOKEN, EXTRA: "1" } });
    expect(merged.install).toEqual({ auto: true, device: "auto", reboot: true, grub_options: { extra_cmdline: "console=ttyS0" } });
    expect(merged.options).toEqual({ a: "b" });
  });

  test("scalars and null from extra win; undefined in extra is ignored", () => {
    const merged = mergeCloudConfig(ours(), { install: { reboot: false, poweroff: true, auto: undefined }, kubevip: null as never });
    expect(merged.install).toEqual({ auto: true, device: "auto", reboot: false, poweroff: true });
    expect(merged.kubevip).toBeNull();
  });

  test("an owned key repeated with the same value is no conflict", () => {
    const merged = mergeCloudConfig(ours(), { hostname: "cp1", k3s: { env: { K3S_TOKEN: TOKEN } } }, { owned: OWNED });
    expect(merged.hostname).toBe("cp1");
  });

  test("changing an owned key throws, naming the key and the opt-in, never the value", () => {
    const attempt = () =>
      mergeCloudConfig(ours(), { k3s: { env: { K3S_TOKEN: "user-chosen-token" } } }, { owned: OWNED });
    expect(attempt).toThrow(ConfigConflictError);
    expect(attempt).toThrow(
      new Error(
        'extra cloud-config sets k3s.env.K3S_TOKEN, which the cluster owns; remove it from extra, or opt in with allowOverride: ["k3s.env.K3S_TOKEN"]',
      ),
    );
    try {
      attempt();
    } catch (e) {
      expect((e as ConfigConflictError).keys).toEqual(["k3s.env.K3S_TOKEN"]);
      expect((e as Error).message).not.toContain("user-chosen-token");
      expect((e as Error).message).not.toContain(TOKEN);
    }
  });

  test("replacing a parent of an owned key is a conflict named at the parent", () => {
    expect(() => mergeCloudConfig(ours(), { k3s: { env: null as never } }, { owned: OWNED })).toThrow(
      new Error(
        'extra cloud-config sets k3s.env, which replaces k3s.env.K3S_TOKEN that the cluster owns; remove it from extra, or opt in with allowOverride: ["k3s.env.K3S_TOKEN"]',
      ),
    );
    expect(() => mergeCloudConfig(ours(), { install: "manual" as never }, { owned: OWNED })).toThrow(
      /^extra cloud-config sets install, which replaces install.device that the cluster owns;/,
    );
  });

  test("setting an owned key that ours leaves unset is a conflict too", () => {
    expect(() => mergeCloudConfig(ours(), { p2p: { network_token: "abc" } }, { owned: OWNED })).toThrow(
      'extra cloud-config sets p2p.network_token, which the cluster owns; remove it from extra, or opt in with allowOverride: ["p2p.network_token"]',
    );
  });

  test("every conflict is reported, one per line", () => {
    expect(() => mergeCloudConfig(ours(), { hostname: "mine", install: { device: "/dev/sdb" } }, { owned: OWNED })).toThrow(
      new Error(
        'extra cloud-config sets hostname, which the cluster owns; remove it from extra, or opt in with allowOverride: ["hostname"]\n' +
          'extra cloud-config sets install.device, which the cluster owns; remove it from extra, or opt in with allowOverride: ["install.device"]',
      ),
    );
  });

  test("allowOverride lets the user's value through, by exact key or by parent", () => {
    const exact = mergeCloudConfig(ours(), { install: { device: "/dev/sdb" } }, { owned: OWNED, allowOverride: ["install.device"] });
    expect(exact.install?.device).toBe("/dev/sdb");
    const parent = mergeCloudConfig(ours(), { k3s: { env: { K3S_TOKEN: "mine" } } }, { owned: OWNED, allowOverride: ["k3s"] });
    expect(parent.k3s?.env?.K3S_TOKEN).toBe("mine");
    // A sibling's opt-in does not cover another owned key.
    expect(() =>
      mergeCloudConfig(ours(), { install: { device: "/dev/sdb" } }, { owned: OWNED, allowOverride: ["install.dev"] }),
    ).toThrow(ConfigConflictError);
  });

  test("neither input is mutated, and the result shares no objects with them", () => {
    const base = ours();
    const extra: CloudConfig = { users: [{ name: "dev", groups: ["x"] }], k3s: { env: { EXTRA: "1" } }, stages: { boot: [{ name: "e" }] } };
    const baseCopy = JSON.parse(JSON.stringify(base));
    const extraCopy = JSON.parse(JSON.stringify(extra));
    const merged = mergeCloudConfig(base, extra, { owned: OWNED });
    expect(base).toEqual(baseCopy);
    expect(extra).toEqual(extraCopy);
    merged.users![0].groups!.push("changed");
    merged.users![1].groups!.push("changed");
    merged.k3s!.env!.NEW = "v";
    merged.stages!.boot.push({ name: "more" });
    expect(base).toEqual(baseCopy);
    expect(extra).toEqual(extraCopy);
  });

  test("an extra that is not a map is refused", () => {
    expect(() => mergeCloudConfig(ours(), ["x"] as never)).toThrow(
      "mergeCloudConfig: extra is a list; accepted: a map of cloud-config keys",
    );
  });
});
