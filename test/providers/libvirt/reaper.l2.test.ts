/**
 * L2: the reaper against the real libvirtd. Four clusters are defined in a test pool (domains are
 * defined, never started: the reaper reads definitions, not guests):
 *   expired  - expiresAt in the past, with a network made by the Network provider (createdAt stamped)
 *   live     - expiresAt in the future, created two hours ago, with a network
 *   old      - no ephemeral mark, created in 2020; its disk overlays the orphan's base image and its
 *              NIC is on the live cluster's network
 *   orphan   - statePath to a folder the test deletes
 * Every reap here is scoped to this run's stack (`filter`), so other tests' objects on the host are
 * never candidates.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildDomainXml, OwnerMetadata } from "../../../kairos/libvirt";
import { run } from "../../../providers/exec";
import {
  createCidataVolume, createNetwork, createNodeDisk, deleteDomain, deleteNetwork, importBaseImage, readDomain, readNetwork, readVolume, serialLogPath, virshWithXml,
} from "../../../providers/libvirt/driver";
import { network as networkProvider } from "../../../providers/libvirt/impl";
import { findOwnedClusters } from "../../../providers/libvirt/reaper";
import { reap } from "../../../testing/reap";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";

const id = runId();
const stack = id;
const filter = (o: { stack: string }) => o.stack === id;
const now = new Date();
const iso = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();
const HOUR = 3600_000;
let pool: TestPool;
let work: string;
let stateDir: string;

const vol = (name: string) => ({ kind: "volume", name, pool: pool.name });
const exists = {
  domain: async (name: string) => (await readDomain(LOCAL, name)) !== undefined,
  volume: async (name: string) => (await readVolume(LOCAL, pool.name, name)) !== undefined,
  network: async (name: string) => (await readNetwork(LOCAL, name)) !== undefined,
};

/** Every object of the scenario, by cluster. */
const objects = {
  expired: { domains: [`${id}-exp-0`, `${id}-exp-1`], volumes: [`${id}-exp-base`, `${id}-exp-0-disk`, `${id}-exp-0-cidata`, `${id}-exp-1-disk`, `${id}-exp-1-cidata`], network: `${id}-exp-net` },
  live: { domains: [`${id}-live-0`], volumes: [`${id}-live-base`, `${id}-live-0-disk`, `${id}-live-0-cidata`], network: `${id}-live-net` },
  old: { domains: [`${id}-old-0`], volumes: [`${id}-old-0-disk`, `${id}-old-0-cidata`] },
  orphan: { domains: [`${id}-orph-0`], volumes: [`${id}-orph-base`, `${id}-orph-0-disk`, `${id}-orph-0-cidata`] },
};

async function defineNode(cluster: string, node: string, base: string, owner: Partial<OwnerMetadata>, networkName: string): Promise<void> {
  const name = `${id}-${node}`;
  await createNodeDisk(LOCAL, { pool: pool.name, name: `${name}-disk`, capacityBytes: 16 * 1024 * 1024, base: { pool: pool.name, name: base } });
  await createCidataVolume(LOCAL, { pool: pool.name, name: `${name}-cidata`, content: { userData: "#cloud-config\n", hostname: node } });
  const xml = buildDomainXml({
    name, type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 128,
    disk: { pool: pool.name, volume: `${name}-disk`, format: "qcow2" }, cidata: { pool: pool.name, volume: `${name}-cidata` },
    network: networkName, serialLogFile: serialLogPath(name), owner: { stack, cluster, node, ...owner },
  });
  await virshWithXml(LOCAL, "define", xml);
}

const randomCidr = (avoid?: string) => {
  for (;;) {
    const cidr = `10.214.${1 + (randomBytes(1)[0] % 250)}.0/24`;
    if (cidr !== avoid) return cidr;
  }
};

beforeAll(async () => {
  await ensureLibvirtd();
  pool = await createTestPool(LOCAL, `${id}-pool`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), `${id}-reap-`));
  stateDir = path.join(work, "orphan-state");
  fs.mkdirSync(stateDir);
  const baseFile = path.join(work, "base.qcow2");
  await run(["qemu-img", "create", "-q", "-f", "qcow2", baseFile, "16M"]);
  for (const b of ["exp", "live", "orph"]) await importBaseImage(LOCAL, { pool: pool.name, name: `${id}-${b}-base`, source: { kind: "file", path: baseFile } });

  // expired: its network through the Network provider, as KairosCluster makes it (create stamps createdAt).
  const expiresPast = iso(-HOUR);
  const checked = await networkProvider.check({}, { uri: LOCAL.uri, stack, cluster: "expired", name: objects.expired.network, mode: "isolated", cidr: randomCidr(), expiresAt: expiresPast });
  expect(checked.failures).toEqual([]);
  const created = await networkProvider.create(checked.inputs);
  expect(created.outs.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  for (const n of ["exp-0", "exp-1"]) await defineNode("expired", n, `${id}-exp-base`, { createdAt: iso(-2 * HOUR), expiresAt: expiresPast }, objects.expired.network);

  const liveOwner = { createdAt: iso(-2 * HOUR), expiresAt: iso(HOUR) };
  await createNetwork(LOCAL, { name: objects.live.network, mode: "isolated", cidr: randomCidr(checked.inputs.cidr), owner: { stack, cluster: "live", ...liveOwner } });
  await defineNode("live", "live-0", `${id}-live-base`, liveOwner, objects.live.network);

  // Not ephemeral, very old, and its disk overlays the orphan's base: that base must survive the orphan's reaping.
  await defineNode("old", "old-0", `${id}-orph-base`, { createdAt: "2020-01-01T00:00:00.000Z" }, objects.live.network);
  await defineNode("orphan", "orph-0", `${id}-orph-base`, { createdAt: iso(-HOUR), statePath: stateDir, stateHost: os.hostname() }, objects.live.network);
  fs.rmSync(stateDir, { recursive: true });
}, 300_000);

afterAll(async () => {
  for (const c of Object.values(objects)) for (const d of c.domains) await deleteDomain(LOCAL, d).catch(() => undefined);
  for (const n of [objects.expired.network, objects.live.network]) await deleteNetwork(LOCAL, n).catch(() => undefined);
  await pool?.remove();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  expect(await leftovers(LOCAL, id)).toEqual([]);
}, 120_000);

describe("reaper (L2, real libvirtd)", () => {
  test("findOwnedClusters groups this run's domains and networks by cluster, with their volumes, the base they overlay and the earliest stamps", async () => {
    const found = await findOwnedClusters(LOCAL, { filter });
    expect(found.map((c) => c.cluster)).toEqual(["expired", "live", "old", "orphan"]);
    const expired = found[0];
    expect(expired.domains.map((d) => d.name).sort()).toEqual(objects.expired.domains);
    expect(expired.networks.map((n) => n.name)).toEqual([objects.expired.network]);
    expect(expired.domains[0].volumes.map((v) => v.name).sort()).toEqual([`${id}-exp-0-cidata`, `${id}-exp-0-disk`]);
    expect(expired.domains[0].backing.map((v) => v.name)).toEqual([`${id}-exp-base`]);
    // The network's createdAt (stamped now) is later than the domains' (two hours ago): the earliest wins.
    expect(expired.createdAt).toBe(iso(-2 * HOUR));
    expect(expired.expiresAt).toBe(iso(-HOUR));
    expect(found[3]).toMatchObject({ statePath: stateDir, expiresAt: undefined });
    expect(found[2]).toMatchObject({ createdAt: "2020-01-01T00:00:00.000Z", expiresAt: undefined, statePath: undefined });
  });

  test("a dry run lists the expired and orphaned clusters' objects and removes nothing", async () => {
    const report = await reap({ dryRun: true, now, filter });
    expect(report.dryRun).toBe(true);
    expect(report.kept).toEqual([{ stack, cluster: "live" }, { stack, cluster: "old" }]);
    expect(report.reaped.map((r) => [r.cluster, r.reason])).toEqual([["expired", "expired"], ["orphan", "orphaned"]]);
    const [expired, orphan] = report.reaped;
    expect(expired.objects.slice(0, 2).map((o) => o.kind)).toEqual(["domain", "domain"]); // domains first
    expect(expired.objects.at(-1)).toEqual({ kind: "network", name: objects.expired.network }); // networks last
    expect([...expired.objects].sort(byName)).toEqual([
      ...objects.expired.domains.map((name) => ({ kind: "domain", name })), ...objects.expired.volumes.map(vol), { kind: "network", name: objects.expired.network },
    ].sort(byName));
    // The orphan's base is also under the "old" cluster's disk: not listed.
    expect([...orphan.objects].sort(byName)).toEqual([{ kind: "domain", name: `${id}-orph-0` }, vol(`${id}-orph-0-cidata`), vol(`${id}-orph-0-disk`)].sort(byName));
    for (const o of [...expired.objects, ...orphan.objects]) expect(await exists[o.kind](o.name)).toBe(true);
  });

  test("reap removes exactly the expired and orphaned clusters' objects, keeps a base another cluster uses, and leaves the live and unmarked clusters", async () => {
    const lines: string[] = [];
    const report = await reap({ now, filter, log: (l) => lines.push(l) });
    expect(report.reaped.map((r) => [r.cluster, r.reason, r.error])).toEqual([["expired", "expired", undefined], ["orphan", "orphaned", undefined]]);
    for (const r of report.reaped) for (const o of r.objects) expect(await exists[o.kind](o.name)).toBe(false);
    expect(report.reaped.flatMap((r) => r.objects)).toHaveLength(objects.expired.domains.length + objects.expired.volumes.length + 1 + 3);
    expect(lines).toContain(`keeping volume ${pool.name}/${id}-orph-base: a domain outside ${stack}/orphan uses it`);
    for (const c of [objects.live, objects.old]) {
      for (const d of c.domains) expect(await exists.domain(d)).toBe(true);
      for (const v of c.volumes) expect(await exists.volume(v)).toBe(true);
    }
    expect(await exists.volume(`${id}-orph-base`)).toBe(true);
    expect(await exists.network(objects.live.network)).toBe(true);
    expect((await findOwnedClusters(LOCAL, { filter })).map((c) => c.cluster)).toEqual(["live", "old"]);
  });

  test("olderThan reaps the live ephemeral cluster only once its createdAt is older, keeping the network another cluster's domain is on; the unmarked cluster is never chosen", async () => {
    const younger = await reap({ olderThanSeconds: 3 * 3600, now, filter });
    expect(younger.reaped).toEqual([]);
    expect(younger.kept.map((k) => k.cluster)).toEqual(["live", "old"]);
    const lines: string[] = [];
    const older = await reap({ olderThanSeconds: 3600, now, filter, log: (l) => lines.push(l) });
    expect(older.reaped.map((r) => [r.cluster, r.reason])).toEqual([["live", "older-than"]]);
    expect(older.kept.map((k) => k.cluster)).toEqual(["old"]);
    expect([...older.reaped[0].objects].sort(byName)).toEqual([...objects.live.domains.map((name) => ({ kind: "domain", name })), ...objects.live.volumes.map(vol)].sort(byName));
    for (const d of objects.live.domains) expect(await exists.domain(d)).toBe(false);
    expect(lines).toContain(`keeping network ${objects.live.network}: a domain outside ${stack}/live is attached to it`);
    expect(await exists.network(objects.live.network)).toBe(true);
    for (const v of [...objects.old.volumes, `${id}-orph-base`]) expect(await exists.volume(v)).toBe(true);
    expect(await exists.domain(`${id}-old-0`)).toBe(true);
  });
});

function byName(a: { kind: string; name: string }, b: { kind: string; name: string }): number {
  return `${a.kind} ${a.name}`.localeCompare(`${b.kind} ${b.name}`);
}
