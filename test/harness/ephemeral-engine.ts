/**
 * The ephemeral-cluster engine seam (testing/engine.ts) on the project's L3+ program runner instead
 * of the Automation API: the same inline program runs under the mock monitor, every dynamic
 * resource created for real through Pulumi's dynamic-provider host (./dynamic-provider-host.ts).
 * A failed or interrupted run keeps what the engine would have saved, for destroy() or keep().
 * Everything of `pulumi-kairos/testing` but the Automation API glue runs unchanged over it.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterEngine, EngineResource, ProgramOutputs } from "../../testing/engine";
import { FailedRun, InterruptedRun, ProgramRun, StateEntry, reveal, runProgramWithDynamicProviders } from "./dynamic-provider-host";

const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => { r(v); return v; }));

export interface HarnessEngineOptions {
  /** HOME and TMPDIR of the provider host (a private folder). */
  scratch: string;
  /** Bound of one provider call, ms. @default 600000 */
  callTimeoutMs?: number;
  /** Bound of the whole run, ms. @default 900000 */
  timeoutMs?: number;
}

export class HarnessEngine implements ClusterEngine {
  readonly description = "the L3+ program runner (test/harness/dynamic-provider-host.ts)";
  private run: ProgramRun | undefined;
  private saved: readonly StateEntry[] = [];
  /** Every up this engine ran (for assertions). */
  ups = 0;

  constructor(private readonly o: HarnessEngineOptions) {}

  private get hostOpts() {
    return { env: { HOME: this.o.scratch, TMPDIR: this.o.scratch }, callTimeoutMs: this.o.callTimeoutMs ?? 600_000, settleMs: 3000 };
  }

  /** The state as the engine holds it now. */
  get state(): readonly StateEntry[] {
    return this.run ? this.run.state : this.saved;
  }

  async up(program: () => ProgramOutputs | Promise<ProgramOutputs>, opts: { signal?: AbortSignal } = {}): Promise<ProgramOutputs> {
    this.ups++;
    let outs: ProgramOutputs = {};
    try {
      // priorState [] : a failure keeps what was made (FailedRun.state) instead of deleting it.
      this.run = await runProgramWithDynamicProviders(async () => { outs = await program(); }, {
        ...this.hostOpts, priorState: [], timeoutMs: this.o.timeoutMs ?? 900_000,
        // As the Automation API's signal: SIGINT to the CLI, which cancels gracefully.
        cancelWhen: opts.signal ? async () => opts.signal!.aborted : undefined,
      });
    } catch (e) {
      if (e instanceof FailedRun) {
        this.saved = e.state;
        throw e.cause;
      }
      if (e instanceof InterruptedRun) this.saved = e.state;
      throw e;
    }
    const resolvedOuts = await Promise.all(Object.entries(outs).map(async ([k, v]) => [k, pulumi.Output.isInstance(v) ? await value(v as pulumi.Output<unknown>) : v] as const));
    return Object.fromEntries(resolvedOuts);
  }

  async destroy(): Promise<void> {
    if (this.run) {
      const r = this.run;
      this.run = undefined;
      await r.destroy();
      this.saved = [];
      return;
    }
    if (this.saved.length === 0) return;
    // As `pulumi destroy` over a saved state: a program with no resources.
    const emptied = await runProgramWithDynamicProviders(() => undefined, { ...this.hostOpts, priorState: this.saved, timeoutMs: 600_000 });
    this.saved = emptied.state;
    await emptied.stop();
  }

  async resources(): Promise<EngineResource[]> {
    return this.state.map((e) => ({ type: e.type, name: e.name, outputs: e.outputs as Record<string, unknown> }));
  }

  /** Writes the state (0600; it holds secrets) into `dir`. The harness's own destroy() still removes it (the tests do). */
  async keep(dir: string): Promise<string> {
    if (this.run) {
      this.saved = this.run.state;
      await this.run.stop();
      this.run = undefined;
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const plain = this.saved.map((e) => ({ type: e.type, name: e.name, id: e.id, outputs: Object.fromEntries(Object.entries(e.outputs).filter(([k]) => k !== "__provider").map(([k, v]) => [k, reveal(v)])) }));
    fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(plain, null, 2), { mode: 0o600 });
    return `the L3+ harness's destroy over ${path.join(dir, "state.json")} (test engine; the test calls it), then rm -rf ${dir}`;
  }

  async dispose(): Promise<void> {
    await this.run?.stop();
  }
}
