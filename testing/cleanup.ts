/**
 * Process-level cleanup of ephemeral clusters: every live cluster is registered here; SIGINT,
 * SIGTERM and the end of the process destroy each one once. A second signal while that runs is
 * ignored with a message (stopping a destroy half-way would leave half-deleted state), and the
 * handlers are removed as soon as no cluster is left, so a program without clusters keeps Node's
 * default signal behaviour.
 */

/** What the registry needs of a cluster. */
export interface Destroyable {
  /** For messages. */
  readonly name: string;
  /** Destroys the cluster; idempotent (a second call returns the first call's promise). */
  destroy(): Promise<void>;
  /** Best-effort synchronous destroy, for the `exit` event. */
  destroySync?(): void;
}

/** The part of `process` the registry uses (a stand-in in unit tests). */
export interface ProcessLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  listenerCount(event: string): number;
  kill(pid: number, signal: string): unknown;
  readonly pid: number;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type Signal = (typeof SIGNALS)[number];

export class CleanupRegistry {
  private readonly live = new Set<Destroyable>();
  private installed = false;
  private destroying: Promise<void> | undefined;
  private readonly onSigint = () => void this.handleSignal("SIGINT");
  private readonly onSigterm = () => void this.handleSignal("SIGTERM");
  private readonly onBeforeExit = () => void this.destroyAll("the event loop emptied");
  private readonly onExit = () => this.handleExit();

  constructor(private readonly proc: ProcessLike = process, private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  /** Clusters registered and not yet destroyed. */
  get size(): number {
    return this.live.size;
  }

  /** Whether the process handlers are installed (only while a cluster is registered). */
  get active(): boolean {
    return this.installed;
  }

  /** Registers a cluster; the returned function unregisters it (after its destroy, or when it is kept). */
  register(c: Destroyable): () => void {
    this.live.add(c);
    this.install();
    return () => {
      this.live.delete(c);
      if (this.live.size === 0 && !this.destroying) this.uninstall();
    };
  }

  /**
   * What SIGINT/SIGTERM do: destroy every registered cluster (once), then, when nothing else
   * listens for that signal, re-raise it so the process ends as it would have. A signal that
   * arrives while destroying is ignored with a message.
   */
  async handleSignal(signal: Signal): Promise<void> {
    if (this.destroying) {
      this.log(`pulumi-kairos/testing: ${signal} ignored: still destroying ephemeral clusters; stopping now would leave half-deleted state. Wait for it to finish.`);
      return this.destroying;
    }
    await this.destroyAll(`${signal} received`);
    this.uninstall();
    // Ours were the only handlers: end the process as the signal would have without them.
    if (this.proc.listenerCount(signal) === 0) this.proc.kill(this.proc.pid, signal);
  }

  /** The `exit` event: nothing asynchronous runs any more; synchronous destroy where the engine can. */
  handleExit(): void {
    for (const c of [...this.live]) {
      if (c.destroySync) {
        try {
          c.destroySync();
          this.live.delete(c);
        } catch (e) {
          this.log(`pulumi-kairos/testing: destroying ephemeral cluster ${c.name} at exit failed: ${(e as Error).message}`);
        }
      }
    }
    if (this.live.size > 0) {
      this.log(`pulumi-kairos/testing: the process exits with ephemeral clusters not destroyed: ${[...this.live].map((c) => c.name).join(", ")}; ` +
        "dispose them (await using, or destroy()) before the process ends");
    }
  }

  /** Destroys every registered cluster, each once; concurrent calls share one pass. */
  destroyAll(why: string): Promise<void> {
    if (this.destroying) return this.destroying;
    if (this.live.size === 0) return Promise.resolve();
    const clusters = [...this.live];
    this.log(`pulumi-kairos/testing: ${why}: destroying ephemeral cluster(s) ${clusters.map((c) => c.name).join(", ")}; please wait`);
    this.destroying = (async () => {
      const results = await Promise.allSettled(clusters.map((c) => c.destroy()));
      results.forEach((r, i) => {
        if (r.status === "rejected") this.log(`pulumi-kairos/testing: destroying ${clusters[i].name} failed: ${(r.reason as Error)?.message ?? r.reason}`);
        this.live.delete(clusters[i]);
      });
    })().finally(() => {
      this.destroying = undefined;
      if (this.live.size === 0) this.uninstall();
    });
    return this.destroying;
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    this.proc.on("SIGINT", this.onSigint);
    this.proc.on("SIGTERM", this.onSigterm);
    this.proc.on("beforeExit", this.onBeforeExit);
    this.proc.on("exit", this.onExit);
  }

  private uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    this.proc.off("SIGINT", this.onSigint);
    this.proc.off("SIGTERM", this.onSigterm);
    this.proc.off("beforeExit", this.onBeforeExit);
    this.proc.off("exit", this.onExit);
  }
}

/** The process-wide registry every ephemeral cluster registers with. */
export const cleanup = new CleanupRegistry();
