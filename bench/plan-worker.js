/**
 * One plan-cost measurement in a fresh process (so time and memory high-water mark are its own);
 * prints one JSON line `{ ms, maxRssMiB, resources }`.
 *
 * - `kairos <nodes> [record.json]`: one KairosCluster (libvirt target, 3 servers, the rest agents)
 *   from the built package (dist/, as a user's program loads it), every resource answered by
 *   Pulumi's mocks. With a file, the registered custom resources (type, name, inputs) are written
 *   there after the measurement.
 * - `plain <record.json>`: the same graph as plain CustomResources: every custom resource that run
 *   registered, with the same name, the same properties (the serialized provider as a plain string)
 *   and the same dependencies (a VM on its disk and config volume, joining nodes on the first
 *   server's VM, readiness on every VM). What Pulumi itself costs for this graph: the baseline.
 * - `minimal <nodes>`: 3 plain resources per node with 2 to 4 properties each, same dependencies
 *   (the shape alone, for reference).
 *
 * Plain JavaScript on purpose: no TypeScript compiler in the measured process.
 */
const { createHash } = require("crypto");
const path = require("path");

const fs = require("fs");
const [mode, arg, recordFile] = process.argv.slice(2);
const nodes = Number(arg);
if (!(["kairos", "minimal"].includes(mode) && nodes >= 4) && !(mode === "plain" && arg)) {
  console.error("usage: node bench/plan-worker.js kairos <nodes (>= 4)> [record.json] | plain <record.json> | minimal <nodes>");
  process.exit(2);
}
const recorded = [];

const pulumi = require("@pulumi/pulumi");
const SECRETS = {
  networkToken: "", k3sToken: "bench-k3s-token-0123456789", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchKeyBenchKeyBenchKeyBenchKeyBenchKey bench",
};
const SIG = "4dabf18193072939515e22adb298388d";
const plain = (v) => (v && typeof v === "object" && SIG in v ? v.value : v);

/** Plausible outputs for each type, as the real providers would return them. */
function state(type, name, inputs) {
  const kind = type.split(":").pop();
  switch (kind) {
    case "ClusterSecrets": return { ...inputs, ...SECRETS };
    case "Network": return { ...inputs, name: `net-${inputs.cluster}`, bridge: "virbr9", owned: true };
    case "BaseImageVolume": return { ...inputs, name: "base", sha256: "ab".repeat(32), format: "qcow2", path: "/pool/base", capacityBytes: 1 << 30 };
    case "NodeDisk": return { ...inputs, name: `${inputs.node}-disk`, path: `/pool/${inputs.node}-disk`, capacityBytes: 1 << 30, backingPath: "/pool/base" };
    case "CidataVolume": {
      const sha = createHash("sha256").update(String(plain(inputs.userData))).digest("hex");
      return { ...inputs, name: `${inputs.node}-cidata-${sha.slice(0, 8)}`, path: `/pool/${inputs.node}-cidata`, userDataSha256: sha };
    }
    case "Domain": {
      const i = Number(/-(\d+)$/.exec(inputs.node || name)?.[1] || 0) + (/-agent-/.test(inputs.node || name) ? 3 : 0);
      return { ...inputs, name: `vm-${inputs.node}`, resolvedDomainType: "qemu", uuid: `uuid-${name}`, macAddress: "52:54:00:00:00:01", address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) || 1}`, addressSource: "lease", serialLogFile: `/var/log/${name}.log` };
    }
    case "ClusterReady": return { ...inputs, kubeconfig: "apiVersion: v1\n", apiEndpoint: `https://${inputs.endpoint}:6443`, hostKeys: {}, readyNodes: [] };
    default: return inputs;
  }
}

let registered = 0;
/** Every property a resource was constructed with, output placeholders (undefined) included. */
const propertyKeys = new Map();
let last = Date.now();

async function main() {
  await pulumi.runtime.setMocks({
    newResource(args) {
      registered++;
      last = Date.now();
      if (recordFile && args.custom !== false && !args.type.startsWith("kairos:index:")) recorded.push({ type: args.type, name: args.name, inputs: args.inputs, keys: propertyKeys.get(args.name) });
      return { id: `${args.name}-id`, state: state(args.type, args.name, args.inputs) };
    },
    call: (args) => args.inputs,
  }, "bench", "bench", false);

  const started = process.hrtime.bigint();
  let expected;
  let done;
  if (mode === "kairos") {
    const kairos = require(path.join(__dirname, "..", "dist", "lib.js"));
    const cluster = new kairos.KairosCluster("bench", {
      image: { kind: "disk", path: "/images/kairos.qcow2" },
      target: { kind: "libvirt", network: { kind: "create", mode: "isolated", cidr: "10.0.0.0/8" }, domainType: "qemu" },
      servers: 3, agents: nodes - 3,
    }, { transformations: [(t) => { propertyKeys.set(t.name, Object.keys(t.props)); return undefined; }] });
    // component + secrets (component and resource) + base + network + 3 per node + ready + k8s provider
    expected = 1 + 2 + 2 + 3 * nodes + 2;
    done = new Promise((resolve) => pulumi.all([cluster.nodes, cluster.kubeconfig]).apply(resolve));
  } else if (mode === "plain") {
    const graph = JSON.parse(fs.readFileSync(arg, "utf8"));
    const unwire = (v) => (v && typeof v === "object" && !Array.isArray(v)
      ? (SIG in v ? pulumi.secret(unwire(v.value)) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwire(x)])))
      : Array.isArray(v) ? v.map(unwire) : v);
    const byName = new Map();
    const kindOf = (r) => r.type.split(":").pop();
    const nodeOf = (r) => r.inputs.node;
    const firstVm = graph.find((r) => kindOf(r) === "Domain" && /-server-0$/.test(nodeOf(r)));
    const vms = [];
    // Registration order as recorded; dependencies as the component wires them.
    for (const r of graph) {
      const kind = kindOf(r);
      const node = nodeOf(r);
      const deps = [];
      if (node && firstVm && node !== nodeOf(firstVm)) deps.push(byName.get(firstVm.name));
      if (kind === "Domain") deps.push(byName.get(`${node}-disk`), byName.get(`${node}-cidata`));
      if (kind === "ClusterReady") deps.push(...vms);
      // The same properties: the recorded inputs, and placeholders for the outputs it declared.
      const props = unwire(r.inputs);
      for (const k of r.keys || []) if (!(k in props)) props[k] = undefined;
      const res = new pulumi.CustomResource(`bench:replay:${kind}`, r.name, props, { dependsOn: deps.filter(Boolean) });
      byName.set(r.name, res);
      if (kind === "Domain") vms.push(res);
    }
    expected = graph.length;
    done = Promise.resolve();
  } else {
    const R = (t, n, props, deps = []) => new pulumi.CustomResource(`bench:index:${t}`, n, props, { dependsOn: deps });
    const secrets = R("Secrets", "secrets", { rotate: "1", sshPublicKey: undefined });
    const base = R("Base", "base", { path: "/images/kairos.qcow2", name: undefined });
    const net = R("Network", "network", { cidr: "10.0.0.0/8", name: undefined });
    const vms = [];
    let first;
    for (let i = 0; i < nodes; i++) {
      const node = i < 3 ? `bench-server-${i}` : `bench-agent-${i - 3}`;
      const after = i === 0 ? [] : [first];
      const disk = R("Disk", `${node}-disk`, { node, base: base.urn, sizeGiB: 40 }, after);
      const cfg = R("Config", `${node}-cidata`, { node, userData: pulumi.secret(secrets.urn.apply((u) => `#cloud-config\nhostname: ${node}\n# ${u}\n`)) }, after);
      const vm = R("Vm", node, { node, disk: disk.urn, cidata: cfg.urn, network: net.urn }, [...after, disk, cfg]);
      if (i === 0) first = vm;
      vms.push(vm);
    }
    R("Ready", "ready", { nodes: pulumi.all(vms.map((v) => v.urn)) }, vms);
    expected = 3 + 3 * nodes + 1;
    done = Promise.resolve();
  }
  await done;
  const deadline = Date.now() + 600_000;
  while ((registered < expected || Date.now() - last < 100) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, resources: registered, expected }) + "\n");
  if (recordFile) fs.writeFileSync(recordFile, JSON.stringify(recorded));
  process.exit(registered >= expected ? 0 : 1);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
