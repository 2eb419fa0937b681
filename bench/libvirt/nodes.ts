/**
 * Creating stand-in nodes the way the libvirt providers would under `pulumi up`: per node the disk
 * overlay and the cidata volume concurrently (independent resources), then the domain (it depends on
 * both), then the address wait; all nodes at once (Pulumi's `--parallel` defaults to unbounded).
 * Each step's finish is recorded in milliseconds since the run's first create call.
 */
import { run } from "../../providers/exec";
import { Clock, PermanentError, retryUntil, systemClock } from "../../providers/retry";
import {
  DomainSpec, createCidataVolume, createDomain, createNodeDisk, serialLogPath, serialTail, waitForAddress,
} from "../../providers/libvirt/driver";
import { parseStandInConsole } from "../../test/fixtures/standin-guest/console";
import { Lab, deleteVolumes } from "./lab";

/** Milliseconds since `t0` (a `process.hrtime.bigint()` reading). */
export function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** The stand-in's user-data: hostname and the admin user with the lab's key (README of the fixture). */
export function standInUserData(hostname: string, publicKey: string): string {
  return `#cloud-config\nhostname: ${hostname}\nusers:\n- name: kairos\n  ssh_authorized_keys:\n  - ${publicKey}\n`;
}

export interface BenchNode {
  node: string;
  domain: DomainSpec;
  volumes: string[];
  userDataSha256: string;
}

/** Milestones of one node, ms since the run's start; absent = not awaited. */
export interface NodeTimeline {
  node: string;
  /** Disk overlay and cidata volume both created. */
  volumesMs: number;
  /** `virsh define` + `start` returned. */
  startedMs: number;
  /** The driver's `waitForAddress` found an IPv4 address (DHCP lease first). */
  addressMs?: number;
  address?: string;
  /** The serial console shows `STANDIN ready` (sshd listens). */
  consoleReadyMs?: number;
  /** `ssh kairos@<address> hostname` answered with the node's name, with the lab's key. */
  sshMs?: number;
  /** With `keepWaitFailures`: why a wait after "started" failed (first line of the error). */
  waitError?: string;
}

export interface NodeRunOptions {
  /** Guest memory, MiB. */
  memoryMiB: number;
  /**
   * Upload the cidata volumes one at a time (a bench-side lock) instead of concurrently. A
   * workaround, stated in the bench's notes: the driver's pool-refresh after vol-upload fails
   * ("pool ... has asynchronous jobs running") while another upload into the same pool runs.
   * @default false
   */
  serializeCidataUploads?: boolean;
  /** Stop after the domain started, or wait for the address / console / SSH. */
  until: "started" | "address" | "ssh";
  /** Bound of each wait, ms. */
  waitTimeoutMs: number;
  /**
   * A wait that fails once the domain is started (a guest that never boots) is recorded in
   * `waitError` instead of failing the run, so the figures up to "started" are still reported.
   * @default false
   */
  keepWaitFailures?: boolean;
}

/**
 * Shared by the nodes of one run: once one node fails, the others stop at their next step or sleep
 * (the waits take this clock), so a failed run ends at once instead of after every wait's timeout.
 */
class RunControl {
  failed = false;
  private uploads: Promise<unknown> = Promise.resolve();
  readonly clock: Clock = {
    now: () => systemClock.now(),
    sleep: async (ms) => {
      for (let left = ms; left > 0; left -= 200) {
        this.check();
        await systemClock.sleep(Math.min(200, left));
      }
      this.check();
    },
  };
  check(): void {
    if (this.failed) throw new PermanentError("stopped: another node of this run failed");
  }
  /** Runs `fn` after every upload queued before it. */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.uploads.then(fn, fn);
    this.uploads = next.catch(() => undefined);
    return next;
  }
}

/** Creates one node and awaits its milestones; the lab tracks it for teardown from the start. */
async function createOne(lab: Lab, node: string, t0: bigint, opts: NodeRunOptions, created: BenchNode[], ctl: RunControl): Promise<NodeTimeline> {
  const disk = lab.name(node, "disk");
  const cidata = lab.name(node, "cidata");
  const name = lab.name(node);
  const domain: DomainSpec = {
    name, type: lab.domainType, firmware: "bios", vcpus: 1, memoryMiB: opts.memoryMiB,
    disk: { pool: lab.pool.name, volume: disk, format: "qcow2" },
    cidata: { pool: lab.pool.name, volume: cidata },
    network: lab.network.name, serialLogFile: serialLogPath(name),
    owner: { stack: "bench", cluster: lab.id, node },
  };
  const entry: BenchNode = { node, domain, volumes: [disk, cidata], userDataSha256: "" };
  created.push(entry);
  const uploadSeed = () =>
    createCidataVolume(lab.conn, { pool: lab.pool.name, name: cidata, content: { userData: standInUserData(node, lab.publicKey), hostname: node } });
  const [, seed] = await Promise.all([
    createNodeDisk(lab.conn, { pool: lab.pool.name, name: disk, capacityBytes: 64 * 1024 * 1024, base: { pool: lab.pool.name, name: lab.baseVolume } }),
    opts.serializeCidataUploads ? ctl.serialized(uploadSeed) : uploadSeed(),
  ]);
  entry.userDataSha256 = seed.userDataSha256;
  const t: NodeTimeline = { node, volumesMs: msSince(t0), startedMs: 0 };
  ctl.check();
  lab.track(domain);
  await createDomain(lab.conn, domain);
  t.startedMs = msSince(t0);
  ctl.check();
  if (opts.until === "started") return t;
  try {
    await awaitGuest(lab, entry, t, t0, opts, ctl);
  } catch (e) {
    if (!opts.keepWaitFailures || e instanceof PermanentError) throw e;
    t.waitError = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  }
  return t;
}

/** The waits after "started": address (and with `until: "ssh"` the console and SSH), into `t`. */
async function awaitGuest(lab: Lab, entry: BenchNode, t: NodeTimeline, t0: bigint, opts: NodeRunOptions, ctl: RunControl): Promise<void> {
  const { node, domain } = entry;
  const name = domain.name;
  // A guest whose kernel panicked never answers: end its waits at once instead of at the timeout.
  const watch = watchForPanic(lab, domain.serialLogFile, opts.waitTimeoutMs, ctl);
  const clock: Clock = {
    now: () => ctl.clock.now(),
    sleep: async (ms) => {
      await ctl.clock.sleep(ms);
      if (watch.panic) throw new Error(`${name}: ${watch.panic}`);
    },
  };
  try {
    const [addr] = await Promise.all([
      waitForAddress(lab.conn, name, { timeoutMs: opts.waitTimeoutMs, serialLogFile: domain.serialLogFile, clock, intervalMs: 500 }).then((a) => {
        t.addressMs = msSince(t0);
        return a;
      }),
      opts.until === "ssh" ? waitForConsoleReady(lab, entry, opts.waitTimeoutMs, clock).then(() => void (t.consoleReadyMs = msSince(t0))) : undefined,
    ]);
    t.address = addr.address;
    if (opts.until === "ssh") {
      await waitForSsh(lab, node, addr.address, opts.waitTimeoutMs, clock);
      t.sshMs = msSince(t0);
    }
  } finally {
    watch.stop();
  }
}

/** Pure: the reason of a `Kernel panic - not syncing: <reason>` line in console text, if any. */
export function kernelPanic(consoleText: string): string | undefined {
  const m = /Kernel panic - not syncing: ([^\r\n]*)/.exec(consoleText);
  return m ? `guest kernel panic: ${m[1].replace(/\s*\]---\s*$/, "").trim()}` : undefined;
}

/** Reads the console tail every second (bounded by `timeoutMs`) and records a kernel panic. */
function watchForPanic(lab: Lab, log: string, timeoutMs: number, ctl: RunControl): { panic?: string; stop(): void } {
  const state: { panic?: string; stopped: boolean; stop(): void } = { stopped: false, stop: () => void (state.stopped = true) };
  void (async () => {
    for (let i = 0; i < Math.ceil(timeoutMs / 1000) && !state.stopped && !ctl.failed; i++) {
      state.panic = kernelPanic(await serialTail(lab.conn, log, 60).catch(() => ""));
      if (state.panic) return;
      await systemClock.sleep(1000);
    }
  })();
  return state;
}

/**
 * Polls the serial console until `STANDIN ready`; a guest that reports an error, or the digest of
 * user-data other than its own, fails the bench (a wrong boot is not a measurement).
 */
async function waitForConsoleReady(lab: Lab, n: BenchNode, timeoutMs: number, clock: Clock): Promise<void> {
  const log = n.domain.serialLogFile;
  const report = await retryUntil(
    async () => {
      const r = parseStandInConsole(await serialTail(lab.conn, log, 400));
      return r.ready || r.errors.length > 0 ? r : undefined;
    },
    { what: `STANDIN ready on the serial console of ${n.domain.name}`, timeoutMs, intervalMs: 250, clock, diagnostics: () => serialTail(lab.conn, log) },
  );
  if (report.errors.length > 0 || report.userDataSha256 !== n.userDataSha256) {
    throw new Error(
      `${n.domain.name}: the stand-in reported errors ${JSON.stringify(report.errors)}, user-data sha256 ${report.userDataSha256} ` +
        `(expected ${n.userDataSha256}); its serial console:\n${await serialTail(lab.conn, log, 60)}`,
    );
  }
}

/** Retries `ssh kairos@address hostname` (5 s connect timeout, every second) until it answers with the node's name. */
async function waitForSsh(lab: Lab, node: string, address: string, timeoutMs: number, clock: Clock): Promise<void> {
  const argv = [
    "ssh", "-i", lab.privateKeyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", `kairos@${address}`, "hostname",
  ];
  let last = "";
  await retryUntil(
    async () => {
      const r = await run(argv, { timeoutMs: 15_000, allowFailure: true });
      last = `exit ${r.exitCode}: ${r.stderr.trim()}`;
      return r.exitCode === 0 && r.stdout.trim() === node ? true : undefined;
    },
    { what: `SSH as kairos@${address} (${node})`, timeoutMs, intervalMs: 1000, clock, diagnostics: () => `last ssh result: ${last}` },
  );
}

export interface NodesRun {
  nodes: NodeTimeline[];
  created: BenchNode[];
}

/**
 * Creates `names` concurrently from one start instant. On the first failure the other nodes stop
 * at their next step; every node settles before that first error is thrown, so teardown never
 * races a create still in flight.
 */
export async function createNodes(lab: Lab, names: readonly string[], opts: NodeRunOptions): Promise<NodesRun> {
  const created: BenchNode[] = [];
  const ctl = new RunControl();
  let first: unknown;
  const t0 = process.hrtime.bigint();
  const settled = await Promise.allSettled(
    names.map((n) =>
      createOne(lab, n, t0, opts, created, ctl).catch((e) => {
        if (!ctl.failed) first = e;
        ctl.failed = true;
        throw e;
      }),
    ),
  );
  if (ctl.failed) {
    await removeNodes(lab, created).catch(() => undefined);
    throw first;
  }
  return { nodes: settled.map((s) => (s as PromiseFulfilledResult<NodeTimeline>).value), created };
}

/** Removes the nodes' domains (with serial logs) and volumes. */
export async function removeNodes(lab: Lab, nodes: readonly BenchNode[]): Promise<void> {
  for (const n of nodes) await lab.removeDomain(n.domain);
  await deleteVolumes(lab, nodes.flatMap((n) => n.volumes));
}

/** The latest value of a milestone over all nodes (the run is done when its slowest node is). */
export function latest(nodes: readonly NodeTimeline[], key: "volumesMs" | "startedMs" | "addressMs" | "consoleReadyMs" | "sshMs"): number {
  const values = nodes.map((n) => n[key]);
  if (values.some((v) => v === undefined)) throw new Error(`latest: milestone ${key} missing on some node`);
  return Math.max(...(values as number[]));
}
