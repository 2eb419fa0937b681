/**
 * A KairosCluster of STAND-IN GUESTS (test fixtures that behave like Kairos where day 2 relies on
 * it: cidata read once, config kept in /oem, reboots, a server that lists only nodes that joined it
 * with its address and token) on an isolated network of its own, run again and again over its saved
 * state with the engine's semantics (./dynamic-provider-host.ts). Shared by the L3+ day-2 tests and
 * `npm run bench -- day2`. Every wait is bounded.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { KairosCluster } from "../../components/kairos-cluster";
import { run as exec } from "../../providers/exec";
import { parseStandInConsole, StandInReport } from "../fixtures/standin-guest/console";
import { LOCAL } from "../providers/libvirt/env";
import { FailedRun, ProgramRun, StateEntry, reveal, runProgramWithDynamicProviders } from "./dynamic-provider-host";
import { useStandInLab } from "./standin-lab";

/** What a run of the program may change. */
export interface Knobs {
  memoryMiB?: number;
  extraConfig?: Record<string, unknown>;
  nodeExtraConfig?: Record<string, Record<string, unknown>>;
  agents?: number;
  stack?: string;
  /** `pulumi up --refresh`. */
  refresh?: boolean;
  /** `pulumi up --replace` of these resource names. */
  replace?: string[];
  /** Steps of independent resources at once, as the engine runs them. */
  parallel?: boolean;
  osImage?: string;
  upgrade?: { force?: boolean; recovery?: boolean };
}

export interface Day2ClusterOptions {
  /** Cluster name, also the prefix of every object. */
  id: string;
  pool: string;
  guestDisk: string;
  /** HOME and TMPDIR of the provider host (0700). */
  scratch: string;
  /** Agents of the first run. @default 2 */
  agents?: number;
}

export class Day2Cluster {
  readonly cidr = `10.217.${1 + (randomBytes(1)[0] % 250)}.0/24`;
  /** `10.217.x.` : node i has `${prefix}${10 + i}` (DHCP reservations). */
  readonly prefix = this.cidr.replace(/0\/24$/, "");
  /** server-0, agent-0, agent-1 (of the first run). */
  readonly names: string[];
  last: ProgramRun | undefined;
  /** The state the next run starts from: the last run's, or what a failed run saved. */
  state: readonly StateEntry[] | undefined;
  cluster!: KairosCluster;

  constructor(readonly o: Day2ClusterOptions) {
    this.names = [`${o.id}-server-0`, ...Array.from({ length: o.agents ?? 2 }, (_, i) => `${o.id}-agent-${i}`)];
  }

  /**
   * Runs the program over the saved state, as the next `pulumi up` would. A run that fails keeps
   * what the engine would have saved (FailedRun.state) for the next one.
   */
  async up(k: Knobs = {}): Promise<ProgramRun> {
    const prior = this.state;
    await this.last?.stop();
    this.last = undefined;
    const run = await runProgramWithDynamicProviders(() => {
      this.cluster = new KairosCluster(this.o.id, {
        image: { kind: "disk", path: this.o.guestDisk },
        target: {
          kind: "libvirt", uri: LOCAL.uri, pool: this.o.pool, network: { kind: "create", mode: "isolated", cidr: this.cidr },
          vcpus: 1, memoryMiB: k.memoryMiB ?? 256, diskGiB: 1, domainType: "qemu",
        },
        servers: 1,
        agents: k.agents ?? this.o.agents ?? 2,
        extraConfig: k.extraConfig,
        nodeExtraConfig: k.nodeExtraConfig,
        rollout: { drainTimeoutSeconds: 60 },
        timeouts: { addressSeconds: 180, sshSeconds: 180, readySeconds: 180 },
        ...(k.osImage ? { osImage: k.osImage, upgrade: k.upgrade } : {}),
      });
    }, {
      priorState: prior, parallel: k.parallel ?? false, stack: k.stack ?? "test", refresh: k.refresh, replace: k.replace,
      env: { HOME: this.o.scratch, TMPDIR: this.o.scratch }, callTimeoutMs: 900_000, timeoutMs: 1_500_000, settleMs: 3000,
    }).catch((e: Error) => {
      if (e instanceof FailedRun) this.state = e.state;
      throw e;
    });
    this.last = run;
    this.state = run.state;
    return run;
  }

  /** State entries of one kind (`Domain`, `NodeConfig`, ...), of a run or of the saved state. */
  of(kind: string, r: { state: readonly StateEntry[] } = { state: this.state ?? [] }): StateEntry[] {
    return r.state.filter((e) => e.type.endsWith(`:${kind}`));
  }

  /** What the node's serial console shows (boots, config file, join). */
  consoleOf(node: string): StandInReport {
    const dom = this.of("Domain").find((e) => e.name === node)!;
    return parseStandInConsole(fs.readFileSync(String(dom.outputs.serialLogFile), "utf8"));
  }

  /** Runs a command on a node as the admin user, with the cluster's key. */
  async ssh(address: string, command: string): Promise<string> {
    const key = path.join(this.o.scratch, "id");
    fs.writeFileSync(key, reveal<string>(this.of("ClusterSecrets")[0].outputs.sshPrivateKey), { mode: 0o600 });
    const r = await exec(["ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
      "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", `kairos-admin@${address}`, command], { timeoutMs: 60_000 });
    return r.stdout;
  }

  /** The server's record of Kubernetes calls (cordon, drain, uncordon, delete), "<verb> <node>". */
  async serverCalls(): Promise<string[]> {
    return (await this.ssh(`${this.prefix}10`, "cat /var/lib/rancher/k3s/standin/calls.log")).split("\n")
      .map((l) => l.split(" ").slice(1).join(" ")).filter((l) => /^(cordon|drain|uncordon|delete) /.test(l)).map((l) => l.split(" ").slice(0, 2).join(" "));
  }

  /** Polls (at least once, then bounded) until the server lists `node` with `status` (or not at all, for "missing"). */
  async untilListed(node: string, status: string, timeoutMs = 90_000): Promise<void> {
    const started = Date.now();
    let listed = "";
    do {
      listed = await this.ssh(`${this.prefix}10`, "sudo k3s kubectl get nodes --no-headers").catch(() => "");
      const row = listed.split("\n").find((l) => l.split(/\s+/)[0] === node);
      if (status === "missing" ? !row : row?.split(/\s+/)[1] === status) return;
      await new Promise((r) => setTimeout(r, 2000));
    } while (Date.now() - started < timeoutMs);
    throw new Error(`${node} not ${status} within ${timeoutMs} ms; last listing:\n${listed}`);
  }

  /** The node's current boot id (changes with every boot). */
  async bootId(address: string): Promise<string> {
    return (await this.ssh(address, "cat /proc/sys/kernel/random/boot_id")).trim();
  }

  /** Deletes everything the state holds (after a failed run too: a program with no resources over it). */
  async destroy(): Promise<void> {
    if (this.last) return this.last.destroy();
    if (!this.state?.length) return;
    const emptied = await runProgramWithDynamicProviders(() => undefined, {
      priorState: this.state, env: { HOME: this.o.scratch, TMPDIR: this.o.scratch }, callTimeoutMs: 900_000, timeoutMs: 600_000, settleMs: 1000,
    });
    this.state = emptied.state;
    await emptied.stop();
  }
}

/**
 * Jest hooks for a suite on one Day2Cluster: its lab (a pool, the stand-in guest, a private scratch
 * folder) made before the suite, and everything removed after it. Returns the cluster's accessor.
 */
export function useDay2Cluster(scratchPrefix: string): () => Day2Cluster {
  let cluster: Day2Cluster | undefined;
  const lab = useStandInLab(scratchPrefix, { beforeRemove: async () => { await cluster?.destroy(); } });
  beforeAll(() => {
    cluster = new Day2Cluster({ id: lab.id, pool: lab.pool, guestDisk: lab.guestDisk, scratch: lab.scratch });
  });
  return () => {
    if (!cluster) throw new Error("the Day2Cluster lab is not set up (beforeAll failed)");
    return cluster;
  };
}
