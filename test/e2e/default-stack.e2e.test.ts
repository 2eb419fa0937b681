/**
 * L4, opt-in (KAIROS_E2E=1): a real `pulumi up` and `pulumi destroy` of the repository's own default
 * stack through the Automation API, with real Kairos images. Needs the Pulumi CLI, internet (the
 * release ISO, provider plugins), libvirt with KVM (software emulation takes hours) and
 * `scripts/setup-host.sh --deploy`. jest.config.js only collects this folder when KAIROS_E2E=1.
 *
 * Passes when every node reports Ready through the Kubernetes API, reached with the stack's own
 * kubeconfig output, and destroy leaves no libvirt domain named after the stack.
 */
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { run } from "../../providers/exec";

const REPO = path.resolve(__dirname, "..", "..");
const servers = Number(process.env.KAIROS_E2E_SERVERS ?? 1);
const agents = Number(process.env.KAIROS_E2E_AGENTS ?? 2);

interface Kubeconfig {
  clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
}

function getJson(kubeconfig: Kubeconfig, apiPath: string): Promise<{ items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] }> {
  const c = kubeconfig.clusters[0].cluster;
  const u = kubeconfig.users[0].user;
  const b64 = (s: string) => Buffer.from(s, "base64");
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(apiPath, c.server), { ca: b64(c["certificate-authority-data"]), cert: b64(u["client-certificate-data"]), key: b64(u["client-key-data"]), timeout: 30_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode} ${body.slice(0, 200)}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${apiPath} timed out`)));
    req.on("error", reject);
  });
}

test("the default stack comes up with every node Ready and destroys cleanly", async () => {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-e2e-state-"));
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "e2e", workDir: REPO },
    { envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "kairos-e2e" } },
  );
  await stack.setAllConfig({ servers: { value: String(servers) }, agents: { value: String(agents) }, networkCidr: { value: "192.168.214.0/24" } });
  try {
    const up = await stack.up({ onOutput: (s) => process.stdout.write(s) });
    const kubeconfig = yaml.load(up.outputs.kubeconfig.value as string) as Kubeconfig;
    const nodes = await getJson(kubeconfig, "/api/v1/nodes");
    const ready = nodes.items.filter((n) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    expect(ready.map((n) => n.metadata.name).sort()).toHaveLength(servers + agents);
  } finally {
    await stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    const left = await run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"]);
    expect(left.stdout.split("\n").filter((n) => n.includes("e2e"))).toEqual([]);
    fs.rmSync(backend, { recursive: true, force: true });
  }
}, 4 * 60 * 60_000);
