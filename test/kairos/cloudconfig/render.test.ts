import * as yaml from "js-yaml";
import { renderCloudConfig, CLOUD_CONFIG_HEADER } from "../../../kairos/cloudconfig/render";
import type { CloudConfig } from "../../../kairos/cloudconfig/model";

/** A non-p2p first server (docs/kairos-notes.md §3.6) with a stage, files and an unknown key. */
const server: CloudConfig = {
  hostname: "cp1-{{ trunc 4 .MachineID }}",
  users: [
    {
      name: "ops",
      groups: ["admin"],
      lock_passwd: true,
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q ops@example"],
    },
  ],
  write_files: [{ path: "/etc/motd", content: "line one\nline two\n", permissions: "0644", owner: "root:root" }],
  runcmd: ["echo hello"],
  stages: {
    "boot.before": [
      {
        name: "manifests",
        files: [{ path: "/var/lib/rancher/k3s/server/manifests/x.yaml", content: "a: 1\n", permissions: 420, owner: 0, group: 0 }],
      },
    ],
  },
  install: { auto: true, device: "auto", reboot: true },
  k3s: {
    enabled: true,
    args: ["--cluster-init", "--tls-san=192.168.122.10"],
    env: { K3S_TOKEN: "K10abc::server:def" },
  },
  options: { debug: "yes", "0644": "on" },
  zzz_unknown: { b: 1, a: "2020-01-01" },
  config_url: "https://example.invalid/{{ .Values.node }}",
};

/** The same object built with every map's keys in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as unknown as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = reversedKeys((value as Record<string, unknown>)[key]);
    return out as T;
  }
  return value;
}

describe("renderCloudConfig", () => {
  test("line 1 is exactly #cloud-config and the text ends with one newline", () => {
    const text = renderCloudConfig(server);
    expect(text.split("\n")[0]).toBe(CLOUD_CONFIG_HEADER);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
  });

  test("an agent config renders to exactly this text", () => {
    const agent: CloudConfig = {
      "k3s-agent": { env: { K3S_URL: "https://192.168.122.10:6443", K3S_TOKEN: "K10abc::server:def" }, enabled: true },
      install: { reboot: true, device: "/dev/vda", auto: true },
      users: [{ ssh_authorized_keys: ["github:ops-team"], groups: ["admin"], name: "ops" }],
      hostname: "worker-{{ trunc 4 .MachineID }}",
    };
    expect(renderCloudConfig(agent)).toBe(
      [
        "#cloud-config",
        "hostname: worker-{{ trunc 4 .MachineID }}",
        "users:",
        "  - name: ops",
        "    groups:",
        "      - admin",
        "    ssh_authorized_keys:",
        "      - github:ops-team",
        "install:",
        "  auto: true",
        "  device: /dev/vda",
        "  reboot: true",
        "k3s-agent:",
        "  enabled: true",
        "  env:",
        "    K3S_TOKEN: K10abc::server:def",
        "    K3S_URL: https://192.168.122.10:6443",
        "",
      ].join("\n"),
    );
  });

  test("an empty config is the header alone", () => {
    expect(renderCloudConfig({})).toBe("#cloud-config\n");
  });

  test("top-level keys follow the canonical order, unknown keys sorted after", () => {
    const text = renderCloudConfig(reversedKeys(server));
    const topKeys = text
      .split("\n")
      .filter((l) => /^[^\s#-][^:]*:/.test(l))
      .map((l) => l.slice(0, l.indexOf(":")));
    expect(topKeys).toEqual([
      "hostname",
      "users",
      "write_files",
      "runcmd",
      "stages",
      "install",
      "k3s",
      "options",
      "config_url",
      "zzz_unknown",
    ]);
  });

  test("the same config with keys in another order renders the same bytes", () => {
    expect(renderCloudConfig(reversedKeys(server))).toBe(renderCloudConfig(server));
  });

  test("nested keys are sorted with name first", () => {
    const text = renderCloudConfig({ users: [{ shell: "/bin/sh", name: "ops", groups: ["admin"] }] });
    expect(text).toBe("#cloud-config\nusers:\n  - name: ops\n    groups:\n      - admin\n    shell: /bin/sh\n");
  });

  test("Go templates appear verbatim in the text and survive a parse", () => {
    const text = renderCloudConfig(server);
    expect(text).toContain("cp1-{{ trunc 4 .MachineID }}");
    expect(text).toContain("https://example.invalid/{{ .Values.node }}");
    const tpl = '{{ if eq .Values.role "master" }}--cluster-init{{ end }}';
    const withQuotes = renderCloudConfig({ k3s: { args: [tpl] } });
    expect(withQuotes).toContain(tpl);
    expect((yaml.load(withQuotes) as CloudConfig).k3s?.args).toEqual([tpl]);
  });

  test("parsing the rendered text gives back the input", () => {
    expect(yaml.load(renderCloudConfig(server))).toEqual(server);
  });

  test("strings another YAML parser could retype stay strings", () => {
    const tricky = { options: { a: "0644", b: "yes", c: "on", d: "420", e: "1e3", f: "2020-01-01", g: "~", h: "null", i: "" } };
    const text = renderCloudConfig(tricky);
    expect(text).toContain("a: '0644'");
    expect(text).toContain("b: 'yes'");
    expect(text).toContain("c: 'on'");
    expect(yaml.load(text)).toEqual(tricky);
  });

  test("stage permissions stay integers, write_files permissions stay strings", () => {
    const text = renderCloudConfig(server);
    expect(text).toMatch(/^ {10}permissions: 420$/m);
    expect(text).toMatch(/^ {4}permissions: '0644'$/m);
  });

  test("undefined values are dropped from maps and lists", () => {
    const text = renderCloudConfig({ hostname: undefined, runcmd: ["a", undefined as unknown as string, "b"], install: { device: "auto", reboot: undefined } });
    expect(text).toBe("#cloud-config\nruncmd:\n  - a\n  - b\ninstall:\n  device: auto\n");
  });

  test("no anchors or aliases when the same object appears twice", () => {
    const keys = ["ssh-ed25519 AAAA x"];
    const text = renderCloudConfig({ users: [{ name: "a", ssh_authorized_keys: keys }, { name: "b", ssh_authorized_keys: keys }] });
    expect(text).not.toMatch(/[&*]ref/);
    expect(text.match(/ssh-ed25519 AAAA x/g)).toHaveLength(2);
  });

  test("long lines are never folded", () => {
    const long = "--tls-san=" + "a".repeat(300);
    expect(renderCloudConfig({ k3s: { args: [long] } })).toContain(`  - '${long}'\n`);
  });

  test("a value YAML cannot carry is refused with its path", () => {
    expect(() => renderCloudConfig({ k3s: { args: [() => 1] as unknown as string[] } })).toThrow(
      "renderCloudConfig: k3s.args[0] is a function; accepted: string, finite number, boolean, null, list or plain map (resolve Pulumi Outputs before rendering)",
    );
    expect(() => renderCloudConfig({ p2p: { minimum_nodes: NaN } })).toThrow(
      "renderCloudConfig: p2p.minimum_nodes is NaN; accepted: a finite number (or a string)",
    );
    class Output {}
    expect(() => renderCloudConfig({ hostname: new Output() as unknown as string })).toThrow(
      "renderCloudConfig: hostname is an instance of Output;",
    );
  });

  test("rendering does not mutate the input", () => {
    const copy = JSON.parse(JSON.stringify(server));
    renderCloudConfig(server);
    expect(server).toEqual(copy);
  });
});
