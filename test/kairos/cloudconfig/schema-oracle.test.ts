/**
 * Outside oracle: the newest published Kairos cloud-config schema (kairos-docs
 * static/v2.0.1/cloud-config.json, 2023; provenance in shared/kairos-config-schema.SOURCE.md).
 * Configs this project renders must pass it, except where it is outdated and our rule follows the
 * code Kairos runs today (docs/kairos-notes.md §3.7); those deltas are listed and asserted one by one.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import { renderCloudConfig } from "../../../kairos/cloudconfig/render";
import { validateCloudConfig } from "../../../kairos/cloudconfig/validate";
import type { CloudConfig } from "../../../kairos/cloudconfig/model";
import { NETWORK_TOKEN } from "./network-token.fixture";
import { describeWithOracle, oraclePath } from "../../oracles";

const SCHEMA = "kairos-config-schema.json";
const SCHEMA_PATH = oraclePath(SCHEMA);

let schemaValidate: ValidateFunction;

beforeAll(() => {
  if (!fs.existsSync(SCHEMA_PATH)) return; // the suites below are skipped (or fail, in CI) without it
  const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")) as Record<string, unknown>;
  // Its $schema is its own Kairos URL, not a JSON Schema draft Ajv knows (docs/kairos-notes.md §3.7).
  delete schema.$schema;
  schemaValidate = new Ajv({ strict: false, allErrors: true }).compile(schema);
});

/** What a node would read: the rendered text, parsed back. */
function asNodeReadsIt(config: CloudConfig): unknown {
  return yaml.load(renderCloudConfig(config));
}

function schemaErrors(config: CloudConfig): ErrorObject[] {
  return schemaValidate(asNodeReadsIt(config)) ? [] : [...(schemaValidate.errors ?? [])];
}

const admin = { name: "ops", groups: ["admin"], lock_passwd: true, ssh_authorized_keys: ["github:ops-team"] };

const rendered: Record<string, CloudConfig> = {
  "a one-node k3s server": {
    hostname: "cp1-{{ trunc 4 .MachineID }}",
    users: [admin],
    install: { auto: true, device: "auto", reboot: true },
    k3s: { enabled: true, args: ["--cluster-init", "--tls-san=192.168.122.10"], env: { K3S_TOKEN: "K10abc::server:def" } },
  },
  "a k3s agent": {
    users: [admin],
    install: { auto: true, device: "/dev/vda", reboot: true },
    "k3s-agent": { enabled: true, env: { K3S_URL: "https://192.168.122.10:6443", K3S_TOKEN: "K10abc::server:def" } },
  },
  "a p2p node": {
    users: [admin],
    install: { auto: true, device: "auto", reboot: true },
    p2p: { network_token: NETWORK_TOKEN, network_id: "lab-a", dns: true, auto: { ha: { master_nodes: 2 } } },
  },
  "a bare-metal install block": {
    users: [admin],
    install: {
      auto: true,
      device: "/dev/nvme0n1",
      poweroff: true,
      grub_options: { extra_cmdline: "console=ttyS0,115200" },
      partitions: { persistent: { size: 0, fs: "ext4" } },
      bind_mounts: ["/var/lib/longhorn"],
    },
    stages: { boot: [{ name: "motd", files: [{ path: "/etc/motd", content: "hi\n", permissions: 420, owner: 0, group: 0 }] }] },
  },
};

describeWithOracle("configs we render pass the published schema", [SCHEMA], () => {
  test.each(Object.entries(rendered))("%s", (_title, config) => {
    expect(validateCloudConfig(renderCloudConfig(config))).toEqual([]);
    expect(schemaErrors(config)).toEqual([]);
  });
});

/**
 * Where the v2.0.1 schema is outdated and rejects what current Kairos reads (docs/kairos-notes.md §3.7).
 * [delta, config, instancePath and keyword of the schema error it must raise]
 */
const schemaRejectsButKairosReads: Array<[string, CloudConfig, string, string]> = [
  [
    "p2p.vpn.env is a string map in provider-kairos (schema: array)",
    { users: [admin], p2p: { network_token: NETWORK_TOKEN, vpn: { create: false, env: { EDGEVPNLOGLEVEL: "info" } } } },
    "/p2p/vpn/env",
    "type",
  ],
  [
    "install.device script:// (schema pattern predates it)",
    { users: [admin], install: { auto: true, device: "script:///usr/local/bin/pick-disk.sh", reboot: true } },
    "/install/device",
    "pattern",
  ],
  [
    "install.device by-path names with ':' and '.' (schema pattern too strict)",
    { users: [admin], install: { auto: true, device: "/dev/disk/by-path/pci-0000:00:1f.2-ata-1", reboot: true } },
    "/install/device",
    "pattern",
  ],
  [
    "options is a string map in kairos-sdk (schema: array)",
    { users: [admin], options: { debug: "true" } },
    "/options",
    "type",
  ],
  [
    "an admin user defined only in a stage (schema requires top-level users; install accepts it)",
    { stages: { initramfs: [{ users: { ops: { groups: ["admin"] } } }] } },
    "",
    "required",
  ],
  [
    "p2p.auto.ha.master_nodes 0 = no extra control planes (schema minimum 1)",
    { users: [admin], p2p: { network_token: NETWORK_TOKEN, auto: { ha: { master_nodes: 0 } } } },
    "/p2p/auto/ha/master_nodes",
    "minimum",
  ],
];

describeWithOracle("known deltas: the schema rejects what Kairos reads today", [SCHEMA], () => {
  test.each(schemaRejectsButKairosReads)("%s", (_delta, config, instancePath, keyword) => {
    expect(validateCloudConfig(renderCloudConfig(config))).toEqual([]);
    const errors = schemaErrors(config);
    expect(errors.map((e) => `${e.instancePath} ${e.keyword}`)).toContain(`${instancePath} ${keyword}`);
  });
});

/**
 * The other direction: the schema is silent (no stages, no additionalProperties) or wrong
 * (`lockPasswd`, `role: none`) where Kairos ignores or mis-reads the value; our validator flags it.
 */
const schemaAcceptsButKairosMisreads: Array<[string, CloudConfig, string]> = [
  ["lockPasswd (yip reads lock_passwd)", { users: [{ name: "ops", groups: ["admin"], lockPasswd: true }] }, "users[0].lockPasswd"],
  ["ha directly under p2p (must be p2p.auto.ha)", { users: [admin], p2p: { network_token: NETWORK_TOKEN, ha: { master_nodes: 2 } } }, "p2p.ha"],
  ["install.no_format (code reads no-format)", { users: [admin], install: { no_format: true } }, "install.no_format"],
  ['p2p.role "none" (provider-kairos knows master and worker)', { users: [admin], p2p: { network_token: NETWORK_TOKEN, role: "none" as never } }, "p2p.role"],
  [
    "stage file permissions as an octal string (yip reads an integer)",
    { users: [admin], stages: { boot: [{ files: [{ path: "/etc/x", permissions: "0644" as never }] }] } },
    "stages.boot[0].files[0].permissions",
  ],
  ["write_files permissions as an integer (cloud-init reads an octal string)", { users: [admin], write_files: [{ path: "/etc/x", content: "", permissions: 420 as never }] }, "write_files[0].permissions"],
];

describeWithOracle("known deltas: the schema accepts what Kairos ignores or misreads", [SCHEMA], () => {
  test.each(schemaAcceptsButKairosMisreads)("%s", (_delta, config, ourPath) => {
    expect(schemaErrors(config)).toEqual([]);
    expect(validateCloudConfig(renderCloudConfig(config)).map((i) => i.path)).toEqual([ourPath]);
  });
});
