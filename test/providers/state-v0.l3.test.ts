/**
 * L3: state written by pulumi-kairos 0.1.0 (schema 0, recorded from real runs into
 * test/fixtures/state/v0.json) still reads, diffs and deletes with this version, through Pulumi's
 * dynamic-provider host as `pulumi up`/`refresh`/`destroy` would drive it.
 *
 * For every kind: the objects the state describes are made real again under the recorded names
 * (libvirt pool, network, volumes and a domain with the recorded UUID; the media and image files; a
 * live-host stand-in for the bare-metal node), with only machine-specific values substituted (paths,
 * ports, generated secrets: see the fixture's `placeholders`). Then:
 * - read with today's provider sees them and returns the state stamped with the current schema;
 * - diff of the recorded outputs (with the recorded provider text, which pointed into the 0.1.0
 *   checkout by absolute path) against the same program's inputs checked today is a change to
 *   rewrite in place, never a replacement; update rewrites it;
 * - delete removes what the state describes.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../providers/exec";
import { createNetwork, readDomain, readNetwork, readVolume } from "../../providers/libvirt/driver";
import { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "../../providers/libvirt/resources";
import { ClusterSecretsResource } from "../../providers/secrets/provider";
import { ClusterReady } from "../../providers/readiness/provider";
import { NodeMedia } from "../../providers/media/provider";
import { BareMetalNode } from "../../providers/baremetal/node";
import { KairosImageBuild } from "../../providers/image/local-build";
import { generateNetworkToken } from "../../kairos/edgevpn/token";
import { STATE_KEY, STATE_SCHEMA } from "../../providers/state-schema";
import { LiveHost } from "../fixtures/live-host/live-host";
import {
  DynamicProviderHost, PropertyMap, captureResources, fromWire, privateTempDir, REPO_ROOT, startDynamicProviderHost,
} from "../harness/dynamic-provider-host";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd } from "./libvirt/env";

interface Recorded { type: string; name: string | null; id: string; inputs: PropertyMap; outputs: PropertyMap }
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "state", "v0.json"), "utf8")) as {
  recordedProvider: string; resources: Recorded[];
};
const kind = (r: Recorded) => r.type.split(":").pop()!;
const rec = (k: string) => FIXTURE.resources.find((r) => kind(r) === k)!;

const scratch = privateTempDir("kairos-state-v0-");
let live: LiveHost;
let pool: TestPool | undefined;
let host: DynamicProviderHost | undefined;
let providerText: Record<string, string> = {};
let subs: Record<string, string | number>;

/** Replaces the fixture's placeholders (strings, deeply); wire-encoded secrets become `Secret`s. */
function materialize<T>(v: T): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === "string") {
      if (x in subs && typeof subs[x] === "number") return subs[x];
      return x.replace(/@@[A-Z0-9_]+@@/g, (m) => String(subs[m] ?? m));
    }
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  return fromWire(walk(v)) as T;
}

/** The recorded state as the engine holds it (outputs), with today's or the recorded provider text. */
const stateOf = (r: Recorded, provider: "today" | "recorded"): PropertyMap =>
  ({ ...materialize(r.outputs), __provider: provider === "today" ? providerText[r.type] : FIXTURE.recordedProvider });

/** A minimal program with one resource of each kind: today's serialized provider text per type. */
function everyKind(): void {
  const owner = { uri: LOCAL.uri, cluster: "c", pool: "p" };
  new BaseImageVolume("b", { ...owner, source: { kind: "file", path: "/x" } });
  new NodeDisk("d", { ...owner, node: "n", sizeGiB: 1 });
  new CidataVolume("c", { ...owner, node: "n", userData: "#cloud-config\n" });
  new Network("n", { ...owner, mode: "isolated", cidr: "10.9.0.0/24" });
  new Domain("v", { ...owner, node: "n", vcpus: 1, memoryMiB: 256, diskVolume: "d", network: "n" });
  new ClusterSecretsResource("s", {});
  new ClusterReady("r", { mode: "explicit", adminUser: "a", privateKey: "k", nodes: [], sshTimeoutSeconds: 1, readyTimeoutSeconds: 1 });
  new NodeMedia("m", { outputDir: "/tmp/m", node: "n", cloudConfig: "#cloud-config\n" });
  new BareMetalNode("h", { host: { name: "n", address: "127.0.0.1", user: "u", password: "p" }, cloudConfig: "#cloud-config\n", adminUser: "a", adminPrivateKey: "k" });
  new KairosImageBuild("i", { spec: {} as never, outputDir: "/tmp/i" });
}

const virsh = (args: string[]) => run(["virsh", "-q", "-c", LOCAL.uri, ...args], { allowFailure: true });

beforeAll(async () => {
  await ensureLibvirtd();
  live = await LiveHost.start({ rebootDownMs: 500 });
  await live.setState("installed");
  const baseFile = path.join(scratch.dir, "base.raw");
  fs.writeFileSync(baseFile, Buffer.alloc(1024 * 1024));
  subs = {
    "@@REPO@@": REPO_ROOT, "@@TMP@@": scratch.dir,
    "@@BASE_FILE@@": baseFile, "@@BASE_SHA256@@": createHash("sha256").update(fs.readFileSync(baseFile)).digest("hex"),
    "@@SSH_PRIVATE_KEY@@": live.adminUser.privateKey, "@@NETWORK_TOKEN@@": generateNetworkToken(),
    "@@LIVE_PORT@@": live.port, "@@LIVE_USER@@": live.liveUser.name, "@@LIVE_PASSWORD@@": live.liveUser.password!,
    "@@ADMIN_USER@@": live.adminUser.name, "@@HOST_KEY@@": live.installedHostKey, "@@HOST_KEY_LIVE@@": live.liveHostKey,
  };
  for (const r of await captureResources(everyKind, { settleMs: 1500 })) if (r.provider) providerText[r.type] = r.provider;
  host = await startDynamicProviderHost({ env: { HOME: scratch.dir } });

  // The libvirt objects of the recorded state, under the recorded names.
  const net = materialize(rec("Network").outputs);
  pool = await createTestPool(LOCAL, String(materialize(rec("BaseImageVolume").outputs).pool));
  for (const k of ["BaseImageVolume", "NodeDisk", "CidataVolume"]) {
    const o = materialize(rec(k).outputs);
    await run(["virsh", "-q", "-c", LOCAL.uri, "vol-create-as", pool.name, String(o.name), "1M", "--format", "raw"]);
  }
  await createNetwork(LOCAL, { name: String(net.name), mode: "isolated", cidr: String(net.cidr), owner: { stack: String(net.stack), cluster: String(net.cluster) } });
  const dom = materialize(rec("Domain").outputs);
  const xml = path.join(scratch.dir, "domain.xml");
  fs.writeFileSync(xml, `<domain type='qemu'><name>${dom.name}</name><uuid>${dom.uuid}</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
  await run(["virsh", "-q", "-c", LOCAL.uri, "define", xml]);

  // The files the media and image states list.
  for (const k of ["NodeMedia", "KairosImageBuild"]) {
    const o = materialize(rec(k).outputs) as { files?: { path: string }[]; artifacts?: { path: string }[]; recordPath?: string };
    for (const f of [...(o.files ?? []), ...(o.artifacts ?? []), ...(o.recordPath ? [{ path: o.recordPath }] : [])]) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      fs.writeFileSync(f.path, "recorded\n");
    }
  }
}, 180_000);

afterAll(async () => {
  await host?.stop();
  const dom = materialize(rec("Domain").outputs);
  await virsh(["undefine", String(dom.name)]);
  await virsh(["net-destroy", String(materialize(rec("Network").outputs).name)]);
  await virsh(["net-undefine", String(materialize(rec("Network").outputs).name)]);
  await pool?.remove();
  await live?.stop();
  scratch.remove();
}, 120_000);

describe("state recorded by pulumi-kairos 0.1.0 (schema 0)", () => {
  test("the fixture holds every dynamic kind, unstamped, and the recorded provider pointed into that checkout", () => {
    expect(FIXTURE.resources.map(kind).sort()).toEqual(
      ["BareMetalNode", "BaseImageVolume", "CidataVolume", "ClusterReady", "ClusterSecrets", "Domain", "KairosImageBuild", "Network", "NodeDisk", "NodeMedia"]);
    for (const r of FIXTURE.resources) expect(r.outputs[STATE_KEY]).toBeUndefined();
    expect(FIXTURE.recordedProvider).toMatch(/"\/work\/main\/providers\/secrets\/driver"/);
    expect(Object.keys(providerText)).toHaveLength(10);
  });

  test.each(FIXTURE.resources.map((r) => [kind(r), r] as const))("%s: read sees the object and stamps the current schema", async (_k, r) => {
    const got = await host!.read(r.type, materialize(r.id), stateOf(r, "today"), { name: r.name ?? "res", timeoutMs: 60_000 });
    expect(got.id).toBe(materialize(r.id));
    expect(got.properties[STATE_KEY]).toEqual({ schema: STATE_SCHEMA, writtenBy: expect.any(String) });
  }, 90_000);

  test.each(FIXTURE.resources.map((r) => [kind(r), r] as const))("%s: the same program today is an in-place rewrite, never a replacement", async (_k, r) => {
    const inputs = { ...materialize(r.inputs), __provider: providerText[r.type] };
    const checked = await host!.check(r.type, inputs, inputs, { name: r.name ?? "res" });
    expect(checked.failures).toEqual([]);
    const d = await host!.diff(r.type, materialize(r.id), stateOf(r, "recorded"), checked.inputs, { name: r.name ?? "res" });
    expect(d).toMatchObject({ changes: "some", replaces: [] });
    const outs = await host!.update(r.type, materialize(r.id), stateOf(r, "recorded"), checked.inputs, { name: r.name ?? "res" });
    expect(outs[STATE_KEY]).toEqual({ schema: STATE_SCHEMA, writtenBy: expect.any(String) });
    expect(outs.__provider).toBe(providerText[r.type]);
    // Rewritten, the state now diffs as no change.
    expect((await host!.diff(r.type, materialize(r.id), outs, checked.inputs, { name: r.name ?? "res" })).changes).toBe("none");
  }, 90_000);

  test.each(FIXTURE.resources.map((r) => [kind(r), r] as const))("%s: delete removes what the state describes", async (_k, r) => {
    await host!.delete(r.type, materialize(r.id), stateOf(r, "today"), { name: r.name ?? "res", timeoutMs: 90_000 });
    const o = materialize(r.outputs) as Record<string, any>;
    switch (kind(r)) {
      case "Domain": expect(await readDomain(LOCAL, o.name)).toBeUndefined(); break;
      case "Network": expect(await readNetwork(LOCAL, o.name)).toBeUndefined(); break;
      case "BaseImageVolume": case "NodeDisk": case "CidataVolume": expect(await readVolume(LOCAL, o.pool, o.name)).toBeUndefined(); break;
      case "NodeMedia": for (const f of o.files) expect(fs.existsSync(f.path)).toBe(false); break;
      case "KairosImageBuild": for (const f of o.artifacts) expect(fs.existsSync(f.path)).toBe(false); break;
      case "BareMetalNode": expect(live.calls(live.adminUser).join("\n")).toContain("kairos-agent reset"); break;
      default: break; // secrets and readiness live only in state
    }
  }, 120_000);
});
