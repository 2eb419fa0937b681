/**
 * Ephemeral test clusters: `createEphemeralCluster(options)` runs an inline `KairosCluster` program
 * (by default through Pulumi's Automation API, ./automation.ts) and returns, once every node is
 * Ready, a handle that is `AsyncDisposable`; `withKairosCluster(options, fn)` wraps it. Whatever
 * happens, what was created is destroyed: a failed or timed-out create destroys it (unless
 * `keepOnFailure`), and `destroy()` runs on dispose, on SIGINT/SIGTERM and at process exit
 * (./cleanup.ts).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KairosCluster, type ClusterNodeInfo, type KairosClusterArgs, type ClusterTimeoutsArgs } from "../components/kairos-cluster";
import { DEFAULT_ADMIN_USER } from "../kairos/cluster-config";
import { hostFileTail } from "../providers/libvirt/domains";
import { sshRun } from "../providers/ssh/client";
import { AutomationEngine } from "./automation";
import { cleanup, type Destroyable } from "./cleanup";
import type { ClusterEngine, ProgramOutputs } from "./engine";
import { leaseNetwork, type NetworkLease } from "./network-lease";
import { reap } from "./reap";

// Node 20.0-20.3 lack Symbol.asyncDispose; Node's own is Symbol.for("nodejs.asyncDispose").
if (typeof (Symbol as { asyncDispose?: symbol }).asyncDispose !== "symbol") {
  Object.defineProperty(Symbol, "asyncDispose", { value: Symbol.for("nodejs.asyncDispose"), configurable: false, enumerable: false, writable: false });
}

/** What an ephemeral cluster is made of: the KairosCluster arguments tests need, plus its lifecycle. */
export interface EphemeralClusterOptions extends Pick<KairosClusterArgs, "image" | "target" | "servers" | "agents" | "k3s" | "extraConfig" | "adminUser"> {
  /** Cluster and stack name, a DNS label of at most 40 characters. @default `eph-<random>` */
  name?: string;
  /** KairosCluster's waits, plus the bound of the whole create (`createSeconds`, default their sum plus 10 minutes). */
  timeouts?: ClusterTimeoutsArgs & { createSeconds?: number };
  /**
   * When the create fails or times out, keep what was made and write the serial consoles, the
   * rendered cloud-configs and the stack state to `keepDir`; the error says how to remove it all.
   * @default false (everything made is destroyed)
   */
  keepOnFailure?: boolean;
  /** Where `keepOnFailure` writes. @default a new folder `kairos-ephemeral-<name>-*` in the system temp folder */
  keepDir?: string;
  /**
   * How long the cluster may live, counted from the start of its create. Its libvirt objects carry
   * the expiry; once it has passed, `npx pulumi-kairos reap` (which every createEphemeralCluster on
   * the same host runs first) removes whatever this process did not, e.g. after a `kill -9`.
   * @default timeouts.createSeconds + 2 hours
   */
  ttlSeconds?: number;
  /**
   * The cluster's own network, used when a libvirt `target` gives no `network`: a free `/24` from
   * `cidrPool`, chosen under a lock so parallel test workers on one host never collide.
   */
  network?: {
    /** @default "nat" (nodes reach out through the host) */
    mode?: "nat" | "isolated";
    /** @default "10.213.0.0/16" */
    cidrPool?: string;
    /** @internal Lock and lease folder. @default `<tmpdir>/pulumi-kairos-<uid>` */
    lockDir?: string;
  };
  /** Before creating, remove this host's expired or orphaned ephemeral clusters (`reap`). @default true */
  reapExpired?: boolean;
  /** @internal Folder whose removal marks the cluster orphaned for the reaper. @default the handle's private folder */
  statePath?: string;
  /** Progress lines (the engine's output). @default none */
  log?: (line: string) => void;
  /** @internal What runs the program (the project's tests plug in their L3+ runner). @default the Automation API */
  engine?: ClusterEngine;
}

/** A create that failed; `keptIn` is set when `keepOnFailure` kept what was made. */
export class EphemeralClusterError extends Error {
  constructor(message: string, readonly cause: Error, readonly keptIn?: string, readonly removeCommand?: string) {
    super(message);
    this.name = "EphemeralClusterError";
  }
}

/** `'…'`-quotes an argument for the remote shell. */
export const shellQuote = (s: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Reads what a domain's serial console logged (a local file, or over the libvirt host's SSH). */
async function readConsole(uri: string, file: string): Promise<string> {
  if (/^qemu(\+unix)?:\/\/\//.test(uri)) return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `(serial log ${file} does not exist)`;
  return hostFileTail({ uri }, file, 1_000_000, "serial log");
}

/** Owns one cluster's engine and private folder; destroys once. */
class Lifecycle implements Destroyable {
  readonly dir: string;
  private destroying: Promise<void> | undefined;
  private unregister: () => void = () => undefined;
  readonly abort = new AbortController();
  upSettled: Promise<unknown> = Promise.resolve();
  readonly destroySync?: () => void;

  constructor(readonly name: string, readonly engine: ClusterEngine) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `kairos-eph-${name}-`));
    fs.chmodSync(this.dir, 0o700);
    if (engine.destroySync) {
      this.destroySync = () => {
        engine.destroySync!();
        this.removePrivate();
      };
    }
    this.unregister = cleanup.register(this);
  }

  private removePrivate(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  destroy(): Promise<void> {
    if (this.detached) return Promise.reject(new Error(`ephemeral cluster ${this.name} was detached; remove it with npx pulumi-kairos down ${this.name} (CLI clusters) or let npx pulumi-kairos reap remove it once it expires`));
    if (!this.destroying) {
      this.destroying = (async () => {
        this.abort.abort();
        await this.upSettled;
        try {
          await this.engine.destroy();
        } catch (e) {
          this.destroying = undefined; // a later call tries again
          throw new Error(`destroying ephemeral cluster ${this.name} failed (${this.engine.description}): ${(e as Error).message}`);
        }
        await this.engine.dispose();
        this.removePrivate();
        this.unregister();
      })();
    }
    return this.destroying;
  }

  /**
   * Kept on failure: no longer destroyed by this process. The private folder stays: it is the
   * cluster's state marker, so the reaper leaves the kept cluster alone until it expires.
   */
  release(): void {
    this.unregister();
  }

  /** Left running on purpose: this process no longer destroys it; its engine keeps or drops the state as it is made to. */
  detached = false;
  async detach(): Promise<void> {
    if (this.destroying) throw new Error(`ephemeral cluster ${this.name} is already destroyed; it cannot be detached`);
    this.detached = true;
    this.unregister();
    await this.engine.dispose();
    this.removePrivate();
  }

  /** Node name -> serial console text, for every libvirt domain the state holds now. */
  async consoles(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const r of await this.engine.resources()) {
      if (!r.type.endsWith(":Domain")) continue;
      const file = r.outputs.serialLogFile;
      if (typeof file !== "string" || !file) continue;
      const node = typeof r.outputs.node === "string" ? r.outputs.node : r.name;
      out[node] = await readConsole(String(r.outputs.uri ?? "qemu:///system"), file).catch((e: Error) => `(cannot read ${file}: ${e.message})`);
    }
    return out;
  }
}

/** A running ephemeral cluster. Dispose it (`await using`, or `destroy()`): everything it made is deleted. */
export class EphemeralCluster implements AsyncDisposable {
  /** Cluster (and stack) name. */
  readonly name: string;
  /** Admin kubeconfig. */
  readonly kubeconfig: string;
  /** The kubeconfig as a file (0600, in a private folder removed on destroy). */
  readonly kubeconfigPath: string;
  /** Every node, Ready. */
  readonly nodes: readonly ClusterNodeInfo[];
  /** `https://<endpoint>:6443`. */
  readonly apiEndpoint: string;
  /** The admin user `ssh()` logs in as. */
  readonly adminUser: string;
  /** When its create started (ISO 8601). */
  readonly createdAt: string;
  /** When the reaper may remove it (ISO 8601): `createdAt` + `ttlSeconds`. */
  readonly expiresAt: string;
  private readonly hostKeys = new Map<string, string>();

  /** @internal */
  constructor(private readonly life: Lifecycle, outs: { kubeconfig: string; nodes: ClusterNodeInfo[]; apiEndpoint: string; adminUser: string; createdAt: string; expiresAt: string }, private readonly privateKey: string) {
    this.name = life.name;
    this.createdAt = outs.createdAt;
    this.expiresAt = outs.expiresAt;
    this.kubeconfig = outs.kubeconfig;
    this.nodes = outs.nodes;
    this.apiEndpoint = outs.apiEndpoint;
    this.adminUser = outs.adminUser;
    this.kubeconfigPath = path.join(life.dir, "kubeconfig");
    fs.writeFileSync(this.kubeconfigPath, this.kubeconfig, { mode: 0o600 });
  }

  /** Runs `command` on a node (by name or as listed in `nodes`) as the admin user, with the cluster's key; resolves with stdout, rejects on a non-zero exit. */
  async ssh(node: string | ClusterNodeInfo, command: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const name = typeof node === "string" ? node : node.name;
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`ephemeral cluster ${this.name} has no node ${JSON.stringify(name)}; nodes: ${this.nodes.map((x) => x.name).join(", ")}`);
    const r = await sshRun({
      host: n.address, user: this.adminUser, privateKey: this.privateKey,
      // The first key a node presents is pinned for the rest of the handle's life.
      hostKey: this.hostKeys.get(n.name), onHostKey: (k) => { if (!this.hostKeys.has(n.name)) this.hostKeys.set(n.name, k); },
    }, command, { timeoutMs: opts.timeoutMs ?? 120_000 });
    return r.stdout;
  }

  /** `sudo k3s kubectl <args>` on the first server, over SSH; resolves with stdout. */
  kubectl(...args: string[]): Promise<string> {
    const server = this.nodes.find((n) => n.role !== "agent") ?? this.nodes[0];
    return this.ssh(server, `sudo k3s kubectl ${args.map(shellQuote).join(" ")}`);
  }

  /** Node name -> its serial console so far (libvirt targets; read from the hypervisor host). */
  consoleLogs(): Promise<Record<string, string>> {
    return this.life.consoles();
  }

  /** Destroys everything the cluster made and removes its private files. Idempotent. */
  destroy(): Promise<void> {
    return this.life.destroy();
  }

  /**
   * Leaves the cluster running beyond this handle: dispose, signals and exit no longer destroy it,
   * and the handle's private folder (`kubeconfigPath`) is removed, so keep `kubeconfig` first. What
   * removes it later is the engine's kept state (the CLI's `down`) or the reaper once it expires.
   */
  detach(): Promise<void> {
    return this.life.detach();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.life.detached ? Promise.resolve() : this.destroy();
  }
}

const defaultName = () => `eph-${randomBytes(4).toString("hex")}`;

/**
 * Creates a Kairos cluster for a test and returns it once every node is Ready. Needs the Pulumi CLI
 * (Automation API, local file backend in a private temporary folder). A failed or timed-out create
 * destroys what it made and rejects (with `keepOnFailure`: keeps it and says where and how to remove it).
 */
export async function createEphemeralCluster(options: EphemeralClusterOptions): Promise<EphemeralCluster> {
  const name = options.name ?? defaultName();
  const log = options.log;
  const engine = options.engine ?? new AutomationEngine({ stack: name, onOutput: log ? (s) => s.split("\n").filter(Boolean).forEach((l) => log(l)) : undefined });
  const life = new Lifecycle(name, engine);
  try {
    return await createWith(options, name, engine, life, log);
  } catch (e) {
    if (!(e instanceof EphemeralClusterError)) await life.destroy().catch(() => undefined);
    throw e;
  }
}

async function createWith(options: EphemeralClusterOptions, name: string, engine: ClusterEngine, life: Lifecycle, log: ((line: string) => void) | undefined): Promise<EphemeralCluster> {
  const adminUser = options.adminUser ?? DEFAULT_ADMIN_USER;
  const t = options.timeouts ?? {};
  const createSeconds = t.createSeconds ?? (t.addressSeconds ?? 300) + (t.sshSeconds ?? 900) + (t.readySeconds ?? 900) + 600;
  const ttlSeconds = options.ttlSeconds ?? createSeconds + 7200;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new Error(`ttlSeconds: ${JSON.stringify(options.ttlSeconds)} is not valid; expected a whole number of seconds from 1 up`);
  }
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + ttlSeconds * 1000).toISOString();
  const captured: { cloudConfigs?: Record<string, string> } = {};
  const libvirt = options.target.kind === "libvirt" ? options.target : undefined;
  const uri = libvirt ? (libvirt.uri ?? "qemu:///system") : undefined;
  if (libvirt && typeof uri !== "string") throw new Error("target.uri: an Output is not accepted by createEphemeralCluster; expected a plain libvirt URI string");
  if (libvirt && options.reapExpired !== false) {
    // Leftovers of earlier runs killed too hard to clean up (kill -9, a lost machine).
    try {
      await reap({ uri: uri as string, log });
    } catch (e) {
      log?.(`reaping expired ephemeral clusters on ${uri} failed, going on: ${(e as Error).message}`);
    }
  }
  let lease: NetworkLease | undefined;
  if (libvirt && !libvirt.network) lease = await leaseNetwork({ uri: uri as string, owner: name, cidrPool: options.network?.cidrPool, lockDir: options.network?.lockDir });

  const program = (): ProgramOutputs => {
    const target = libvirt
      ? {
        ...libvirt,
        network: libvirt.network ?? { kind: "create" as const, mode: options.network?.mode ?? "nat", cidr: lease!.cidr },
        ephemeral: { expiresAt, statePath: options.statePath ?? life.dir },
      }
      : options.target;
    const cluster = new KairosCluster(name, {
      clusterName: name, image: options.image, target, servers: options.servers, agents: options.agents, k3s: options.k3s,
      extraConfig: options.extraConfig, adminUser: options.adminUser,
      timeouts: { addressSeconds: t.addressSeconds, sshSeconds: t.sshSeconds, readySeconds: t.readySeconds },
    });
    // For keepOnFailure: known as soon as rendered, even when a later step fails.
    cluster.cloudConfigs.apply((c) => { captured.cloudConfigs = c; });
    return { kubeconfig: cluster.kubeconfig, nodes: cluster.nodes, apiEndpoint: cluster.apiEndpoint, sshPrivateKey: cluster.sshPrivateKey };
  };

  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const up = engine.up(program, { signal: life.abort.signal });
  life.upSettled = up.catch(() => undefined);
  let outs: ProgramOutputs;
  try {
    timer = setTimeout(() => { timedOut = true; life.abort.abort(); }, createSeconds * 1000);
    outs = await up;
  } catch (e) {
    const err = e as Error;
    const what = timedOut ? `did not become Ready within ${createSeconds} s (timeouts.createSeconds)` : life.abort.signal.aborted ? "was interrupted" : "failed";
    const head = `ephemeral cluster ${name} ${what}: ${err.message}`;
    if (options.keepOnFailure && !(life.abort.signal.aborted && !timedOut)) {
      const dir = options.keepDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kairos-ephemeral-${name}-`));
      try {
        const remove = `${await keepForInspection(life, dir, captured.cloudConfigs)} && rm -rf ${shellQuote(life.dir)}`;
        await life.engine.dispose();
        life.release();
        throw new EphemeralClusterError(
          `${head}\nkept for inspection in ${dir} (consoles/, cloud-configs/, state) until ${expiresAt}, when npx pulumi-kairos reap may remove it; remove it all now with:\n  ${remove}`,
          err, dir, remove,
        );
      } catch (k) {
        if (k instanceof EphemeralClusterError) throw k;
        await life.destroy().catch(() => undefined);
        throw new EphemeralClusterError(`${head}\nkeeping it in ${dir} failed (${(k as Error).message}); destroyed what was made instead`, err);
      }
    }
    try {
      await life.destroy();
    } catch (d) {
      throw new EphemeralClusterError(`${head}\nand ${(d as Error).message}`, err);
    }
    throw new EphemeralClusterError(`${head}\n(everything it made was destroyed)`, err);
  } finally {
    clearTimeout(timer);
    // The network exists now (libvirt shows it to the next chooser) or is gone with the failed create.
    lease?.release();
  }
  return new EphemeralCluster(life, {
    kubeconfig: String(outs.kubeconfig ?? ""), nodes: (outs.nodes ?? []) as ClusterNodeInfo[], apiEndpoint: String(outs.apiEndpoint ?? ""), adminUser,
    createdAt: createdAt.toISOString(), expiresAt,
  }, String(outs.sshPrivateKey ?? ""));
}

/** Writes consoles, cloud-configs (0600: they hold tokens) and the state into `dir`; returns how to remove it all. */
async function keepForInspection(life: Lifecycle, dir: string, cloudConfigs: Record<string, string> | undefined): Promise<string> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const consoles = path.join(dir, "consoles");
  fs.mkdirSync(consoles, { recursive: true, mode: 0o700 });
  for (const [node, text] of Object.entries(await life.consoles())) fs.writeFileSync(path.join(consoles, `${node}.log`), text, { mode: 0o600 });
  const configs = path.join(dir, "cloud-configs");
  fs.mkdirSync(configs, { recursive: true, mode: 0o700 });
  for (const [node, text] of Object.entries(cloudConfigs ?? {})) fs.writeFileSync(path.join(configs, `${node}.yaml`), text, { mode: 0o600 });
  return life.engine.keep(dir);
}

/** Creates an ephemeral cluster, runs `fn` with it and destroys it afterwards, whatever `fn` does. */
export async function withKairosCluster<T>(options: EphemeralClusterOptions, fn: (cluster: EphemeralCluster) => Promise<T>): Promise<T> {
  const cluster = await createEphemeralCluster(options);
  try {
    return await fn(cluster);
  } finally {
    await cluster.destroy();
  }
}

