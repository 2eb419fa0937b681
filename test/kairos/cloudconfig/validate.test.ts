import * as fs from "fs";
import * as yaml from "js-yaml";
import {
  validateCloudConfig,
  assertValidCloudConfig,
  CloudConfigError,
  formatIssue,
  MAX_CLOUD_CONFIG_BYTES,
} from "../../../kairos/cloudconfig/validate";
import { renderCloudConfig } from "../../../kairos/cloudconfig/render";
import type { CloudConfig } from "../../../kairos/cloudconfig/model";
import { NETWORK_TOKEN } from "./network-token.fixture";
import { oraclePath, testWithOracle } from "../../oracles";

const K3S_TOKEN = "K10c0ffee::server:f00dsecretvalue";
const PASSWORD = "hunter2-plaintext";

/** A first k3s server without p2p (docs/kairos-notes.md §3.6). */
function server(): CloudConfig {
  return {
    hostname: "cp1-{{ trunc 4 .MachineID }}",
    users: [{ name: "ops", groups: ["admin"], passwd: PASSWORD, lock_passwd: false, ssh_authorized_keys: ["github:ops-team"] }],
    install: { auto: true, device: "auto", reboot: true },
    k3s: { enabled: true, args: ["--cluster-init", "--tls-san=192.168.122.10"], env: { K3S_TOKEN } },
  };
}

function edited<T>(value: T, edit: (v: T) => void): T {
  edit(value);
  return value;
}

/** A network token printed in the Kairos docs (../shared/oracles/SOURCE.md). */
const DOCS_TOKEN = "oracles/kairos-docs-network-token.txt";

describe("validateCloudConfig: good configs", () => {
  testWithOracle("the Kairos docs' network token (outside oracle) is accepted", [DOCS_TOKEN], () => {
    const token = fs.readFileSync(oraclePath(DOCS_TOKEN), "utf8").trim();
    expect(validateCloudConfig({ users: [{ name: "ops", groups: ["admin"] }], p2p: { network_token: token } })).toEqual([]);
  });


  test.each<[string, () => string | CloudConfig]>([
    ["a k3s server (value)", server],
    ["a k3s server (rendered text)", () => renderCloudConfig(server())],
    [
      "a k3s agent",
      () => ({
        users: [{ name: "ops", primary_group: "admin" }],
        install: { auto: true, device: "/dev/vda", poweroff: true },
        "k3s-agent": { enabled: true, env: { K3S_URL: "https://192.168.122.10:6443", K3S_TOKEN } },
      }),
    ],
    [
      "a p2p node with HA, vpn env map and DHT options",
      () => ({
        users: [{ name: "ops", groups: ["admin"] }],
        install: { auto: true, device: "auto", reboot: true },
        p2p: {
          network_token: NETWORK_TOKEN,
          network_id: "lab-a",
          role: "master",
          minimum_nodes: 1,
          vpn: { create: false, use: false, env: { EDGEVPNLOGLEVEL: "info" } },
          auto: { enable: true, ha: { enable: true, master_nodes: 0 } },
        },
        kubevip: { eip: "192.168.122.50" },
      }),
    ],
    ["an admin user defined only in a stage", () => ({ stages: { initramfs: [{ users: { ops: { groups: ["admin"] } } }] } })],
    ["no users with install.nousers", () => ({ install: { nousers: true } })],
    [
      "bare metal: script device, stage files with integer modes, write_files with octal strings",
      () => ({
        users: [{ name: "ops", groups: ["admin"] }],
        install: { auto: true, device: "script:///usr/local/bin/pick-disk.sh", reboot: true, "no-format": false, partitions: { persistent: { size: 0, fs: "ext4" } } },
        write_files: [{ path: "/etc/motd", content: "hi", permissions: "0644" }],
        stages: { boot: [{ files: [{ path: "/etc/x", content: "y", permissions: 420, owner: 0, group: 0 }], directories: [{ path: "/var/x", permissions: 493 }] }] },
        options: { debug: "true" },
        unknown_future_key: { anything: [1, 2] },
      }),
    ],
    ["CRLF line endings", () => "#cloud-config\r\nusers:\r\n  - name: ops\r\n    groups: [admin]\r\n"],
    ["an empty network token (p2p auto mode off)", () => ({ users: [{ name: "ops", groups: ["admin"] }], p2p: { network_token: "" } })],
  ])("%s yields no issues", (_title, make) => {
    expect(validateCloudConfig(make())).toEqual([]);
  });
});

const OVERSIZED = `#cloud-config\nusers: [{name: ops, groups: [admin]}]\nrunme: "${"x".repeat(MAX_CLOUD_CONFIG_BYTES)}"\n`;
const HEADER_EXPECT = '"#cloud-config" exactly on line 1';

describe("validateCloudConfig: bad configs", () => {
  // [title, input, paths of every issue expected, fragment of the first issue's message]
  test.each<[string, string | CloudConfig, string[], string]>([
    [
      "legacy #kairos-config header",
      "#kairos-config\nusers: [{name: ops, groups: [admin]}]\n",
      ["(header)"],
      `(header): "#kairos-config" is not valid; expected ${HEADER_EXPECT} (under a legacy #kairos-config header yip drops users`,
    ],
    [
      "legacy #node-config header",
      "#node-config\nusers: [{name: ops, groups: [admin]}]\n",
      ["(header)"],
      "under a legacy #node-config header yip drops users, write_files, runcmd, hostname and ssh_authorized_keys",
    ],
    [
      "header on line 2",
      "# generated\n#cloud-config\nusers: [{name: ops, groups: [admin]}]\n",
      ["(header)"],
      `(header): "# generated" is not valid; expected ${HEADER_EXPECT}, not line 2`,
    ],
    [
      "no header",
      "users: [{name: ops, groups: [admin]}]\n",
      ["(header)"],
      "(Kairos ignores config files without it)",
    ],
    [
      "document over 1 MiB",
      OVERSIZED,
      ["(document)"],
      `(document): ${Buffer.byteLength(OVERSIZED)} bytes is not valid; expected at most 1048576 bytes (1 MiB)`,
    ],
    [
      "YAML syntax error",
      "#cloud-config\nusers:\n  - name: ops\n   groups: [admin]\n",
      ["(document)"],
      "(document): YAML syntax error at line 4, column",
    ],
    [
      "a YAML list, not a mapping",
      "#cloud-config\n- a\n- b\n",
      ["(document)"],
      "(document): a list of 2 items is not valid; expected a YAML mapping of cloud-config keys",
    ],
    [
      "no user in group admin",
      edited(server(), (c) => (c.users![0].groups = ["wheel"])),
      ["users"],
      'users: ["ops"] is not valid; expected at least one user with groups: [admin] or primary_group: admin',
    ],
    ["no users at all", { install: { auto: true, reboot: true } }, ["users"], "users: [] is not valid; expected at least one user"],
    [
      "install.auto without reboot or poweroff",
      edited(server(), (c) => delete c.install!.reboot),
      ["install.auto"],
      "install.auto: true is not valid; expected install.reboot: true or install.poweroff: true alongside (otherwise the installer waits for Enter on tty1)",
    ],
    [
      "install.reboot and install.poweroff together",
      edited(server(), (c) => (c.install!.poweroff = true)),
      ["install.poweroff"],
      "install.poweroff: true is not valid; expected not together with install.reboot: true (choose one)",
    ],
    [
      "install.device not a device",
      edited(server(), (c) => (c.install!.device = "sda")),
      ["install.device"],
      'install.device: "sda" is not valid; expected "auto", a device path "/dev/..." or "script://<path>"',
    ],
    [
      "install.no_format spelled like the schema",
      edited(server(), (c) => (c.install!.no_format = true)),
      ["install.no_format"],
      "install.no_format: true is not valid; expected install.no-format (kairos-sdk reads no-format; no_format is ignored)",
    ],
    [
      "p2p.role none",
      edited(server(), (c) => (c.p2p = { role: "none" as never })),
      ["p2p.role"],
      'p2p.role: "none" is not valid; expected "master" or "worker"',
    ],
    [
      "p2p.network_token not decodable",
      edited(server(), (c) => (c.p2p = { network_token: "zzzz-not-base64-%%%" })),
      ["p2p.network_token"],
      "p2p.network_token: <secret> is not valid; expected a decodable edgevpn network token (standard padded base64 of a YAML map with otp.dht, otp.crypto, room, rendezvous, mdns); network token: is not standard padded base64",
    ],
    [
      "p2p.network_token base64 of a map without the otp keys",
      edited(server(), (c) => (c.p2p = { network_token: Buffer.from("room: abc\n").toString("base64") })),
      ["p2p.network_token"],
      "p2p.network_token: <secret> is not valid; expected a decodable edgevpn network token (standard padded base64 of a YAML map with otp.dht, otp.crypto, room, rendezvous, mdns); network token: missing field otp",
    ],
    [
      "p2p.network_token not a string",
      edited(server(), (c) => (c.p2p = { network_token: 42 as never })),
      ["p2p.network_token"],
      "p2p.network_token: <secret> is not valid; expected a string holding an edgevpn network token",
    ],
    [
      "p2p.auto.ha.master_nodes negative",
      edited(server(), (c) => (c.p2p = { auto: { ha: { master_nodes: -1 } } })),
      ["p2p.auto.ha.master_nodes"],
      "p2p.auto.ha.master_nodes: -1 is not valid; expected a non-negative integer",
    ],
    [
      "p2p.auto.ha.master_nodes fractional",
      edited(server(), (c) => (c.p2p = { auto: { ha: { master_nodes: 1.5 } } })),
      ["p2p.auto.ha.master_nodes"],
      "p2p.auto.ha.master_nodes: 1.5 is not valid",
    ],
    [
      "ha directly under p2p",
      edited(server(), (c) => (c.p2p = { ha: { master_nodes: 2 } })),
      ["p2p.ha"],
      "p2p.ha: a map is not valid; expected p2p.auto.ha (provider-kairos reads ha only under p2p.auto)",
    ],
    [
      "p2p.minimum_nodes zero",
      edited(server(), (c) => (c.p2p = { minimum_nodes: 0 })),
      ["p2p.minimum_nodes"],
      "p2p.minimum_nodes: 0 is not valid; expected an integer >= 1",
    ],
    [
      "p2p.vpn.env as a list",
      edited(server(), (c) => (c.p2p = { vpn: { env: ["EDGEVPNTOKEN=abc"] as never } })),
      ["p2p.vpn.env"],
      "p2p.vpn.env: a list of 1 item is not valid; expected a map of edgevpn environment variables to string values",
    ],
    [
      "lockPasswd spelled like the schema",
      edited(server(), (c) => (c.users![0].lockPasswd = true)),
      ["users[0].lockPasswd"],
      "users[0].lockPasswd: true is not valid; expected lock_passwd (yip reads lock_passwd; lockPasswd is ignored)",
    ],
    [
      "lockPasswd in a stage user",
      edited(server(), (c) => (c.stages = { initramfs: [{ users: { kairos: { lockPasswd: true } } }] })),
      ["stages.initramfs[0].users.kairos.lockPasswd"],
      "stages.initramfs[0].users.kairos.lockPasswd: true is not valid; expected lock_passwd",
    ],
    [
      "a user without a name",
      edited(server(), (c) => c.users!.push({ groups: ["dev"] } as never)),
      ["users[1].name"],
      "users[1].name: (missing) is not valid; expected a non-empty user name (yip creates users by name)",
    ],
    [
      "a non-string password",
      edited(server(), (c) => (c.users![0].passwd = 1234 as never)),
      ["users[0].passwd"],
      "users[0].passwd: <secret> is not valid; expected a string",
    ],
    [
      "stage file permissions as an octal string",
      edited(server(), (c) => (c.stages = { boot: [{ files: [{ path: "/etc/x", permissions: "0644" as never }] }] })),
      ["stages.boot[0].files[0].permissions"],
      'stages.boot[0].files[0].permissions: "0644" is not valid; expected an integer mode (yip reads a number: 420 = 0644',
    ],
    [
      "stage directory owner as a name",
      edited(server(), (c) => (c.stages = { boot: [{ directories: [{ path: "/var/x", owner: "root" as never }] }] })),
      ["stages.boot[0].directories[0].owner"],
      'stages.boot[0].directories[0].owner: "root" is not valid; expected an integer id (yip reads a numeric uid/gid)',
    ],
    [
      "write_files permissions as an integer",
      edited(server(), (c) => (c.write_files = [{ path: "/etc/x", content: "y", permissions: 420 as never }])),
      ["write_files[0].permissions"],
      'write_files[0].permissions: 420 is not valid; expected an octal string such as "0644"',
    ],
    [
      "k3s.args as one string",
      edited(server(), (c) => (c.k3s!.args = "--cluster-init" as never)),
      ["k3s.args"],
      'k3s.args: "--cluster-init" is not valid; expected a list of k3s command-line arguments',
    ],
    [
      "a k3s-agent arg that is not a string",
      { users: [{ name: "ops", groups: ["admin"] }], "k3s-agent": { args: ["--node-label=a", 7 as never] } },
      ["k3s-agent.args[1]"],
      "k3s-agent.args[1]: 7 is not valid; expected a string (k3s-agent command-line arguments)",
    ],
    [
      "k3s.env K3S_TOKEN not a string",
      edited(server(), (c) => (c.k3s!.env = { K3S_TOKEN: 12345 as never })),
      ["k3s.env.K3S_TOKEN"],
      "k3s.env.K3S_TOKEN: <secret> is not valid; expected a string (environment variable names to string values)",
    ],
    [
      "k3s.env as a list",
      edited(server(), (c) => (c.k3s!.env = [`K3S_TOKEN=${K3S_TOKEN}`] as never)),
      ["k3s.env"],
      "k3s.env: a list of 1 item is not valid; expected a map of environment variable names to string values",
    ],
    [
      "k3s and k3s-agent both enabled",
      edited(server(), (c) => (c["k3s-agent"] = { enabled: true })),
      ["k3s-agent.enabled"],
      "k3s-agent.enabled: true is not valid; expected not together with k3s.enabled: true",
    ],
    [
      "options as a list",
      edited(server(), (c) => (c.options = ["a"] as never)),
      ["options"],
      "options: a list of 1 item is not valid; expected a map of option names to string values",
    ],
    [
      "an option value that is not a string",
      edited(server(), (c) => (c.options = { retries: 3 as never })),
      ["options.retries"],
      "options.retries: 3 is not valid; expected a string (option names to string values)",
    ],
  ])("%s", (_title, input, paths, fragment) => {
    const issues = validateCloudConfig(input);
    expect(issues.map((i) => i.path)).toEqual(paths);
    expect(formatIssue(issues[0])).toContain(fragment);
  });

  test("every problem is reported at once, in document order", () => {
    const issues = validateCloudConfig({
      users: [{ name: "ops", lockPasswd: true }],
      install: { auto: true, device: "sdb" },
      p2p: { role: "leader" as never, ha: {} },
    });
    expect(issues.map((i) => i.path)).toEqual(["users[0].lockPasswd", "install.auto", "install.device", "p2p.role", "p2p.ha", "users"]);
  });

  test("a value that is not a map at all is one document issue", () => {
    expect(validateCloudConfig(null as never)).toEqual([{ path: "(document)", value: "null", expected: "a map of cloud-config keys" }]);
  });
});

describe("assertValidCloudConfig", () => {
  test("a good config passes silently", () => {
    expect(() => assertValidCloudConfig(renderCloudConfig(server()), "node cp1")).not.toThrow();
  });

  test("a bad config throws CloudConfigError listing every issue in one format", () => {
    const bad = edited(server(), (c) => {
      c.install!.device = "sda";
      c.install!.no_format = true;
    });
    let caught: unknown;
    try {
      assertValidCloudConfig(bad, "node cp1");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CloudConfigError);
    expect((caught as CloudConfigError).issues).toHaveLength(2);
    expect((caught as Error).message).toBe(
      [
        "node cp1: invalid cloud-config (2 problems)",
        '  - install.device: "sda" is not valid; expected "auto", a device path "/dev/..." or "script://<path>"',
        "  - install.no_format: true is not valid; expected install.no-format (kairos-sdk reads no-format; no_format is ignored)",
      ].join("\n"),
    );
  });

  test("secret values never appear in the message", () => {
    const bad: CloudConfig = {
      users: [{ name: "ops", passwd: 99 as never }, { name: "dev", groups: "admin" as never }, { name: "ops2", passwd: PASSWORD, lockPasswd: true }],
      k3s: { enabled: true, args: `--token ${K3S_TOKEN}` as never, env: { K3S_TOKEN: 1 as never, OTHER_SECRET: [] as never } },
      p2p: { network_token: `${K3S_TOKEN}-not-a-token`, vpn: { env: { EDGEVPNTOKEN: 5 as never } } },
    };
    const text = `#cloud-config\n${yaml.dump(bad)}`;
    for (const input of [bad, text]) {
      let message = "";
      try {
        assertValidCloudConfig(input);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain("<secret>");
      expect(message).not.toContain(K3S_TOKEN);
      expect(message).not.toContain("f00dsecretvalue");
      expect(message).not.toContain(PASSWORD);
    }
  });

  test("a YAML error in text quotes no document content", () => {
    const text = `#cloud-config\nk3s:\n  env:\n    K3S_TOKEN: ${K3S_TOKEN}\n   broken: [\n`;
    expect(() => assertValidCloudConfig(text)).toThrow(CloudConfigError);
    const issue = validateCloudConfig(text)[0];
    expect(issue.path).toBe("(document)");
    expect(formatIssue(issue)).not.toContain("f00dsecretvalue");
  });
});
