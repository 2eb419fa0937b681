/**
 * Runs one CLI command. Everything with effects comes in through `io` (streams, environment) and
 * `deps` (engine, cluster creation, reaper, clock), so each command is unit-tested with fakes and
 * `main.ts` only wires the real ones. Progress goes to stderr; stdout carries only the result, so
 * `export KUBECONFIG=$(pulumi-kairos up …)` works.
 */
import * as fs from "fs";
import * as path from "path";
import { UsageError, parseCommand, usage, type Command, type UpCommand } from "./args";
import { formatList, formatReap, formatUp, type ReapReport, type UpResult } from "./format";
import { ClusterStore, storeRoot, type ClusterRecord } from "./store";
import type { EphemeralCluster, EphemeralClusterOptions } from "../testing/ephemeral";
import type { ClusterEngine } from "../testing/engine";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  homedir: string;
  /** Relative image paths resolve from here. */
  cwd: string;
}

/** An engine whose state lives in a folder the caller keeps (AutomationEngine with `root`). */
export interface CliEngine extends ClusterEngine {
  /** Opens the stack an earlier process made in that folder, so `destroy()` removes it; false when there is none. */
  selectExisting(): Promise<boolean>;
}

/** createEphemeralCluster's options, and the part of its handle the CLI uses. */
export type CliClusterOptions = EphemeralClusterOptions;
export type CliCluster = Pick<EphemeralCluster, "name" | "kubeconfig" | "apiEndpoint" | "nodes" | "destroy" | "detach">;

export interface ReapOptions {
  uri?: string;
  dryRun?: boolean;
  olderThanSeconds?: number;
  log?: (line: string) => void;
}

export interface CliDeps {
  /** The engine for the cluster `stack` whose state lives in `root`; `onOutput` gets the engine's output as it comes (chunks of lines). */
  openEngine(o: { stack: string; root: string; onOutput: (text: string) => void }): CliEngine;
  createCluster(o: CliClusterOptions): Promise<CliCluster>;
  reap(o: ReapOptions): Promise<ReapReport>;
  /** Seconds; throws on a value it does not accept. */
  parseDuration(s: string): number;
  now(): Date;
  newName(): string;
  version: string;
}

/** Runs `argv` (without node and script); resolves with the exit code: 0, 1 (the command failed) or 2 (bad arguments). */
export async function runCli(argv: readonly string[], io: CliIo, deps: CliDeps): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv, deps.parseDuration);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`pulumi-kairos: ${e.message} (pulumi-kairos --help)\n`);
    return 2;
  }
  try {
    await run(command, io, deps);
    return 0;
  } catch (e) {
    io.stderr(`pulumi-kairos: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

async function run(c: Command, io: CliIo, deps: CliDeps): Promise<void> {
  const store = new ClusterStore(storeRoot(io.env, io.homedir));
  switch (c.kind) {
    case "help":
      return io.stdout(usage());
    case "version":
      return io.stdout(`${deps.version}\n`);
    case "up":
      return up(c, store, io, deps);
    case "list":
      return io.stdout(formatList(store.list(), deps.now(), c.json));
    case "kubeconfig":
      return io.stdout(`${kubeconfigOf(c.name, store)}\n`);
    case "down":
      return down(c.name, store, io, deps);
    case "reap": {
      const report = await deps.reap({ uri: c.uri, dryRun: c.dryRun, olderThanSeconds: c.olderThanSeconds, log: (l) => io.stderr(`${l}\n`) });
      const objects = report.reaped.reduce((n, r) => n + r.objects.length, 0);
      io.stderr(`${c.dryRun ? "would remove" : "removed"} ${objects} object(s) of ${report.reaped.length} cluster(s); kept ${report.kept.length}\n`);
      if (!c.dryRun) forgetReaped(report, c.uri ?? "qemu:///system", store, io);
      return io.stdout(formatReap(report, c.json));
    }
  }
}

/** The CLI's own clusters (stack and cluster both its name) the reaper removed: their folders go too. */
function forgetReaped(report: ReapReport, uri: string, store: ClusterStore, io: CliIo): void {
  for (const r of report.reaped) {
    if (r.error || r.stack !== r.cluster || !store.has(r.cluster)) continue;
    let record: ClusterRecord | undefined;
    try {
      record = store.tryGet(r.cluster);
    } catch {
      continue; // unreadable: left for `down`, which says so
    }
    if (record?.uri !== uri) continue;
    store.remove(r.cluster);
    io.stderr(`forgot cluster ${r.cluster}: removed ${store.dir(r.cluster)}\n`);
  }
}

const unknownCluster = (name: string, store: ClusterStore) => {
  const names = store.names();
  return new Error(`no cluster named ${name} in ${store.root}; ${names.length ? `clusters: ${names.join(", ")}` : "there are none (create one with pulumi-kairos up)"}`);
};

function kubeconfigOf(name: string, store: ClusterStore): string {
  if (!store.has(name)) throw unknownCluster(name, store);
  const file = store.kubeconfigPath(name);
  if (!fs.existsSync(file)) throw new Error(`cluster ${name} has no kubeconfig: its up did not finish; remove what is left with: pulumi-kairos down ${name}`);
  return file;
}

/** Progress lines on stderr; engine output arrives in chunks of lines. */
const progressTo = (io: CliIo) => (text: string) => text.split("\n").filter((l) => l.trim()).forEach((l) => io.stderr(`${l}\n`));

async function up(c: UpCommand, store: ClusterStore, io: CliIo, deps: CliDeps): Promise<void> {
  const progress = progressTo(io);
  const name = c.name ?? deps.newName();
  const image = c.image.path !== undefined ? { ...c.image, path: path.resolve(io.cwd, c.image.path) } : c.image;
  if (image.path !== undefined && !fs.existsSync(image.path)) throw new Error(`image file ${image.path} does not exist (--image)`);
  const dir = store.create(name);
  const createdAt = deps.now();
  const expiresAt = new Date(createdAt.getTime() + c.ttlSeconds * 1000);
  // Written first, so a create that is cut short still shows in `list` and `down` can remove it.
  const record: ClusterRecord = {
    name, createdAt: createdAt.toISOString(), expiresAt: expiresAt.toISOString(), uri: c.uri, servers: c.servers, agents: c.agents, apiEndpoint: "", nodes: [],
  };
  store.writeRecord(record);
  let engine: CliEngine;
  try {
    engine = deps.openEngine({ stack: name, root: dir, onOutput: progress });
  } catch (e) {
    store.remove(name); // nothing was created yet
    // The engine's message speaks for the library; here the command is the one that needs the CLI.
    if (e instanceof Error && e.message.startsWith("pulumi-kairos/testing needs")) throw new Error(e.message.replace("pulumi-kairos/testing needs", "pulumi-kairos up needs"));
    throw e;
  }
  progress(`creating cluster ${name}: ${c.servers} server(s), ${c.agents} agent(s) on ${c.uri}; state in ${dir}`);
  let cluster: CliCluster;
  try {
    cluster = await deps.createCluster({
      name, image, servers: c.servers, agents: c.agents, engine, log: progress, ttlSeconds: c.ttlSeconds, statePath: dir,
      network: { cidrPool: c.networkPool },
      target: { kind: "libvirt", uri: c.uri, pool: c.pool, vcpus: c.vcpus, memoryMiB: c.memoryMiB, diskGiB: c.diskGiB, domainType: c.domainType },
    });
  } catch (e) {
    // createEphemeralCluster destroyed what it made; keep the folder only if state is left to remove.
    const left = await engine.resources().catch(() => undefined);
    if (left?.length === 0) store.remove(name);
    else progress(`state of ${name} kept in ${dir}; remove what is left with: pulumi-kairos down ${name}`);
    throw e;
  }
  let result: UpResult;
  try {
    const kubeconfigPath = store.writeKubeconfig(name, cluster.kubeconfig);
    const nodes = cluster.nodes.map((n) => ({ name: n.name, role: n.role, address: n.address }));
    store.writeRecord({ ...record, apiEndpoint: cluster.apiEndpoint, nodes });
    result = { name, kubeconfigPath, apiEndpoint: cluster.apiEndpoint, nodes, createdAt: record.createdAt, expiresAt: record.expiresAt };
  } catch (e) {
    progress(`cannot record cluster ${name} in ${dir} (${(e as Error).message}); destroying it`);
    await cluster.destroy();
    store.remove(name);
    throw e;
  }
  // From here the cluster outlives this process: `down` or the reaper removes it.
  await cluster.detach();
  await engine.dispose(); // this command opened it; detach() disposing it too is harmless
  progress(`cluster ${name} is Ready; expires ${record.expiresAt} (remove it earlier with: pulumi-kairos down ${name})`);
  io.stdout(formatUp(result, c.json));
}

async function down(name: string, store: ClusterStore, io: CliIo, deps: CliDeps): Promise<void> {
  const progress = progressTo(io);
  if (!store.has(name)) throw unknownCluster(name, store);
  const engine = deps.openEngine({ stack: name, root: store.dir(name), onOutput: progress });
  progress(`destroying cluster ${name} (${engine.description})`);
  if (await engine.selectExisting()) await engine.destroy();
  else progress(`cluster ${name} has no stack in its state (its up stopped before creating anything)`);
  await engine.dispose();
  store.remove(name);
  progress(`cluster ${name} destroyed; removed ${store.dir(name)}`);
}
