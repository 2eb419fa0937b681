/** L0: the remote commands and the parsers of their output. */
import {
  describeReadiness, kubeconfigCommand, k3sServerUrl, manualInstallCommand, nodesReadiness, parseNodes, kubeletReady,
  removePrivateDirCommand, rewriteKubeconfigServer, shellJoin, shellQuote, K3S_NODES_COMMAND, RESET_COMMAND,
  MAKE_PRIVATE_DIR_COMMAND, nameKubeconfig, kubeconfigContextName, kubeconfigClientCertificate,
} from "../../../kairos/scripts";
import * as yaml from "js-yaml";

describe("shell quoting", () => {
  test.each([
    ["/dev/sda", "/dev/sda"],
    ["auto", "auto"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["$(reboot)", "'$(reboot)'"],
    ["x;rm -rf /", "'x;rm -rf /'"],
  ])("quotes %j as %s", (arg, quoted) => {
    expect(shellQuote(arg)).toBe(quoted);
  });

  it("joins argv quoting each argument", () => {
    expect(shellJoin(["echo", "a b", "c"])).toBe("echo 'a b' c");
  });
});

describe("fixed commands (a contract with the stand-in guest and the live-host stand-in)", () => {
  it("reads nodes without headers through sudo", () => {
    expect(K3S_NODES_COMMAND).toBe("sudo k3s kubectl get nodes --no-headers");
  });
  it("resets unattended and reboots", () => {
    expect(RESET_COMMAND).toBe("sudo kairos-agent reset --unattended --reboot");
  });
  it("makes the upload directory private with umask 077", () => {
    expect(MAKE_PRIVATE_DIR_COMMAND).toBe("umask 077 && mktemp -d /tmp/kairos-install.XXXXXXXX");
  });
  test.each([
    ["explicit", "sudo cat /etc/rancher/k3s/k3s.yaml"],
    ["p2p", "sudo kairos get-kubeconfig --api http://127.0.0.1:8080"],
  ] as const)("fetches the kubeconfig in %s mode with %s", (mode, cmd) => {
    expect(kubeconfigCommand(mode)).toBe(cmd);
  });
  it("rejects an unknown kubeconfig mode naming it", () => {
    expect(() => kubeconfigCommand("ledger" as never)).toThrow('kubeconfig mode: "ledger" is not supported; use "explicit" or "p2p"');
  });
});

describe("manualInstallCommand", () => {
  test.each([
    ["auto", "/tmp/kairos-install.ab12/cloud-config.yaml", "sudo kairos-agent manual-install --device auto --reboot /tmp/kairos-install.ab12/cloud-config.yaml"],
    ["/dev/sda", "/tmp/x/c.yaml", "sudo kairos-agent manual-install --device /dev/sda --reboot /tmp/x/c.yaml"],
    ["/dev/disk/by-id/ata-My Disk", "/tmp/x/c.yaml", "sudo kairos-agent manual-install --device '/dev/disk/by-id/ata-My Disk' --reboot /tmp/x/c.yaml"],
  ])("installs on %s from %s", (device, file, cmd) => {
    expect(manualInstallCommand(device, file)).toBe(cmd);
  });
  test.each([
    ["sda", 'device: "sda" is not valid; expected "auto" or a path under /dev/ (e.g. /dev/sda)'],
    ["", 'device: "" is not valid; expected "auto" or a path under /dev/ (e.g. /dev/sda)'],
    ["/dev/", 'device: "/dev/" is not valid; expected "auto" or a path under /dev/ (e.g. /dev/sda)'],
  ])("rejects device %j", (device, message) => {
    expect(() => manualInstallCommand(device, "/tmp/c.yaml")).toThrow(message);
  });
  it("rejects a relative config path", () => {
    expect(() => manualInstallCommand("auto", "c.yaml")).toThrow('configPath: "c.yaml" is not valid; expected an absolute path');
  });
});

describe("removePrivateDirCommand", () => {
  it("removes only a directory the upload made", () => {
    expect(removePrivateDirCommand("/tmp/kairos-install.Ab3dEf9h")).toBe("rm -rf /tmp/kairos-install.Ab3dEf9h");
  });
  test.each(["/", "/tmp", "/tmp/kairos-install.x/../..", "/home/kairos"])("refuses %s", (dir) => {
    expect(() => removePrivateDirCommand(dir)).toThrow(`dir: ${JSON.stringify(dir)} is not a directory made by MAKE_PRIVATE_DIR_COMMAND`);
  });
});

describe("parseNodes", () => {
  test.each([
    ["empty output", "", []],
    ["one ready server", "cp1   Ready   control-plane,master   5m   v1.33.1+k3s1\n", [
      { name: "cp1", status: "Ready", roles: "control-plane,master", age: "5m", version: "v1.33.1+k3s1" },
    ]],
    ["an agent with <none> roles and CRLF", "w1 NotReady <none> 10s v1.33.1+k3s1\r\n", [
      { name: "w1", status: "NotReady", roles: "<none>", age: "10s", version: "v1.33.1+k3s1" },
    ]],
    ["a header line and blank lines", "NAME STATUS ROLES AGE VERSION\n\ncp1 Ready control-plane 1m v1\n\n", [
      { name: "cp1", status: "Ready", roles: "control-plane", age: "1m", version: "v1" },
    ]],
    ["a cordoned node", "a Ready,SchedulingDisabled control-plane 2d v1\n", [
      { name: "a", status: "Ready,SchedulingDisabled", roles: "control-plane", age: "2d", version: "v1" },
    ]],
  ])("parses %s", (_title, text, rows) => {
    expect(parseNodes(text)).toEqual(rows);
  });

  it("rejects a line with too few columns naming it", () => {
    expect(() => parseNodes("The connection to the server 127.0.0.1:6443 was refused")).not.toThrow();
    expect(() => parseNodes("cp1 Ready")).toThrow(`unexpected line in 'kubectl get nodes' output: "cp1 Ready"; expected NAME STATUS ROLES AGE VERSION`);
  });
});

test.each([
  ["Ready", true], ["Ready,SchedulingDisabled", true], ["NotReady", false], ["NotReady,SchedulingDisabled", false], ["Unknown", false],
])("kubeletReady(%s) is %s: cordoned counts, as a rolling step needs", (status, ready) => {
  expect(kubeletReady(status)).toBe(ready);
});

describe("nodesReadiness", () => {
  const out = "cp1 Ready control-plane 1m v1\nw1 NotReady <none> 1m v1\nw3 Ready,SchedulingDisabled <none> 1m v1\nextra Ready <none> 1m v1\n";
  test.each([
    [["cp1"], { ready: true, missing: [], notReady: [] }],
    [["cp1", "extra"], { ready: true, missing: [], notReady: [] }],
    [["cp1", "w1"], { ready: false, missing: [], notReady: [{ name: "w1", status: "NotReady" }] }],
    [["cp1", "w2"], { ready: false, missing: ["w2"], notReady: [] }],
    [["w3"], { ready: false, missing: [], notReady: [{ name: "w3", status: "Ready,SchedulingDisabled" }] }],
    [[], { ready: true, missing: [], notReady: [] }],
  ])("expecting %j gives %j", (expected, readiness) => {
    expect(nodesReadiness(parseNodes(out), expected)).toEqual(readiness);
  });

  it("describes a partial state in one line", () => {
    const r = nodesReadiness(parseNodes(out), ["cp1", "w1", "w2"]);
    expect(describeReadiness(r, 3)).toBe("1/3 Ready; missing: w2; not ready: w1 (NotReady)");
  });
});

describe("kubeconfig rewrite", () => {
  const k3sYaml = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: Q0EK",
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "users:",
    "- name: default",
    "  user:",
    "    client-key-data: U0VDUkVULUtFWQ==",
    "",
  ].join("\n");

  test.each([
    ["192.168.122.10", "https://192.168.122.10:6443"],
    ["cp1.example.org", "https://cp1.example.org:6443"],
    ["fd00::10", "https://[fd00::10]:6443"],
  ])("points the server at %s", (endpoint, url) => {
    const out = rewriteKubeconfigServer(k3sYaml, endpoint);
    expect(out).toContain(`    server: ${url}\n`);
    expect(out).not.toContain("127.0.0.1");
    expect(out.replace(url, "https://127.0.0.1:6443")).toBe(k3sYaml);
    expect(k3sServerUrl(endpoint)).toBe(url);
  });

  test.each(["https://10.0.0.1", "10.0.0.1:6443", "", "a b"])("rejects endpoint %j naming it", (endpoint) => {
    expect(() => rewriteKubeconfigServer(k3sYaml, endpoint)).toThrow(
      `endpoint: ${JSON.stringify(endpoint)} is not valid; expected an IP address or DNS name without scheme or port (e.g. 192.168.122.10)`,
    );
  });

  it("refuses text that is not a k3s kubeconfig without echoing it", () => {
    const other = "server: https://10.0.0.1:6443\nclient-key-data: U0VDUkVULUtFWQ==\n";
    let message = "";
    try { rewriteKubeconfigServer(other, "10.0.0.2"); } catch (e) { message = (e as Error).message; }
    expect(message).toBe(`kubeconfig: no "server: https://127.0.0.1:6443" found (${other.length} bytes); expected k3s' /etc/rancher/k3s/k3s.yaml`);
    expect(message).not.toContain("U0VDUkVULUtFWQ");
  });
});

describe("kubeconfig names", () => {
  // k3s' /etc/rancher/k3s/k3s.yaml: cluster, user and context all called `default`.
  const k3sYaml = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: Q0EK",
    "    server: https://10.0.0.1:6443",
    "  name: default",
    "contexts:",
    "- context:",
    "    cluster: default",
    "    user: default",
    "  name: default",
    "current-context: default",
    "kind: Config",
    "preferences: {}",
    "users:",
    "- name: default",
    "  user:",
    "    client-certificate-data: Q0VSVA==",
    "    client-key-data: U0VDUkVULUtFWQ==",
    "",
  ].join("\n");

  it("names the cluster's kubeconfig kairos-<cluster>", () => {
    expect(kubeconfigContextName("demo")).toBe("kairos-demo");
  });

  it("renames cluster, user, context and current-context, keeping everything else", () => {
    const doc = yaml.load(nameKubeconfig(k3sYaml, "kairos-demo")) as Record<string, any>;
    expect(doc.clusters[0].name).toBe("kairos-demo");
    expect(doc.users[0].name).toBe("kairos-demo");
    expect(doc.contexts[0]).toEqual({ name: "kairos-demo", context: { cluster: "kairos-demo", user: "kairos-demo" } });
    expect(doc["current-context"]).toBe("kairos-demo");
    expect(doc.clusters[0].cluster.server).toBe("https://10.0.0.1:6443");
    expect(doc.users[0].user["client-key-data"]).toBe("U0VDUkVULUtFWQ==");
  });

  it("renames from a name given (a renamed cluster), and leaves other names alone", () => {
    const once = nameKubeconfig(k3sYaml, "kairos-a");
    const doc = yaml.load(nameKubeconfig(once, "kairos-b", "kairos-a")) as Record<string, any>;
    expect(doc["current-context"]).toBe("kairos-b");
    expect((yaml.load(nameKubeconfig(once, "kairos-b")) as Record<string, any>)["current-context"]).toBe("kairos-a");
  });

  it("refuses a bad name, and text that is no kubeconfig without echoing it", () => {
    expect(() => nameKubeconfig(k3sYaml, "a b")).toThrow('name: "a b" is not valid; expected a kubeconfig name');
    let message = "";
    try { nameKubeconfig("client-key-data: U0VDUkVULUtFWQ==\n", "x"); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/^kubeconfig: no clusters \(\d+ bytes\)/);
    expect(message).not.toContain("U0VDUkVULUtFWQ");
  });

  it("finds the client certificate", () => {
    expect(kubeconfigClientCertificate(k3sYaml)).toBe("Q0VSVA==");
    expect(kubeconfigClientCertificate("::: not yaml")).toBeUndefined();
  });
});
