/**
 * The one seam between an ephemeral cluster and whatever runs its Pulumi program. The default is
 * Pulumi's Automation API (./automation.ts: the Pulumi CLI, a local file backend); the project's
 * own tests plug in their L3+ program runner instead. Everything else in `pulumi-kairos/testing`
 * (readiness, handle, cleanup, keep-on-failure) is the same whichever engine runs the program.
 */

/** What the program returns: plain values or Pulumi Outputs; the engine resolves them (secrets revealed). */
export type ProgramOutputs = Record<string, unknown>;

/** One resource as the engine's state holds it (outputs as stored; secret values may be opaque). */
export interface EngineResource {
  /** Type token, e.g. `pulumi-nodejs:dynamic/kairos-libvirt:Domain`. */
  type: string;
  /** Logical name. */
  name: string;
  outputs: Record<string, unknown>;
}

export interface ClusterEngine {
  /** For messages: what runs the program and where its state is. */
  readonly description: string;
  /**
   * Runs the program once (create). Resolves with its outputs, plain (secrets revealed). Rejects
   * when any step fails or when `signal` aborts (the run is then asked to stop as `Ctrl-C` would);
   * whatever was created stays in the engine's state for `destroy()` or `keep()`.
   */
  up(program: () => ProgramOutputs | Promise<ProgramOutputs>, opts?: { signal?: AbortSignal }): Promise<ProgramOutputs>;
  /** Deletes everything the state holds (after a successful, failed or interrupted up). Idempotent. */
  destroy(): Promise<void>;
  /** The resources the state holds now (empty before up and after destroy). */
  resources(): Promise<EngineResource[]>;
  /**
   * Writes the state into `dir` (0700) so it outlives this process; returns the shell command(s)
   * that remove what it holds later. After keep, `dispose()` must not delete that state.
   */
  keep(dir: string): Promise<string>;
  /** Removes the engine's private files (backend, passphrase). Call after destroy or keep. Idempotent. */
  dispose(): Promise<void>;
  /**
   * Best effort, synchronous destroy, for the process `exit` event (where nothing asynchronous
   * runs). Engines that cannot do it leave it out; what is left is then reported.
   */
  destroySync?(): void;
}
