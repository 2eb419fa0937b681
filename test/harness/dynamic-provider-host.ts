/**
 * L3 harness: runs a dynamic provider the way `pulumi up` does, without the Pulumi CLI.
 *
 * 1. Capture. `captureDynamicResource(() => new MyComponent(...))` runs the constructor under
 *    `pulumi.runtime.setMocks` and records, from the mock monitor's `newResource` callback, the
 *    dynamic resource's type token (`pulumi-nodejs:dynamic/<module>:<Type>`), its inputs, and the
 *    `__provider` input: the provider text that Pulumi's closure serialization produced, i.e. exactly
 *    what the engine would store and hand to the provider host.
 * 2. Host. `startDynamicProviderHost()` spawns Pulumi's own host,
 *    `node node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js <engine-address>` (the program
 *    behind the `pulumi-resource-pulumi-nodejs` plugin), with cwd = the repo root (the engine uses the
 *    program directory) and the env the engine sets (`PULUMI_NODEJS_PROJECT`, `PULUMI_PROJECT`,
 *    `PULUMI_CONFIG`). The host prints its gRPC port on stdout; the harness connects with
 *    `@grpc/grpc-js` and Pulumi's generated stubs (`@pulumi/pulumi/proto/provider_grpc_pb`), calls
 *    `Configure` first (as the engine does; the host answers `acceptSecrets: false`), then whatever the
 *    test asks: Check, Diff, Create, Read, Update, Delete. The host loads the provider from the
 *    `__provider` text with `require-from-string`, in a fresh process: what would not load under
 *    `pulumi up` does not load here.
 * 3. Engine semantics. Properties are plain JS objects; secrets are `secret(v)` markers (see
 *    `property-values.ts`). Like the engine (pulumi/pulumi `sdk/go/common/resource/plugin/
 *    provider_plugin.go`), requests drop secret wrappers when the provider did not accept secrets,
 *    responses keep the wrappers the provider returned, and outputs whose same-named input was secret
 *    are re-marked secret. So `isSecret(r.properties.token)` asserts what the engine would store.
 *    Diff follows the engine's wire contract: `olds` are the old *outputs*, `news` the new inputs.
 *
 * 4. L3+. `runProgramWithDynamicProviders(() => program())` runs a whole program under the mock
 *    monitor; each dynamic resource is checked and created for real through one host, in
 *    registration order (its real outputs flow back into the program), other resources stay mocked
 *    and are listed; `destroy()` deletes the created ones in reverse order.
 *
 * Every call has a deadline (default 60 s); `stop()` ends the child (SIGTERM, SIGKILL after 5 s) and
 * is safe to call twice; hosts still running when the test process exits are killed. Use
 * `afterAll(() => host?.stop())`. `host.output()` returns everything the host printed (stdout and
 * stderr, where the engine's plugin log goes), for "no secret in logs" checks.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as grpcTypes from "@grpc/grpc-js";
import type * as structTypes from "google-protobuf/google/protobuf/struct_pb";
import type * as provGrpcTypes from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as provTypes from "@pulumi/pulumi/proto/provider_pb";
import type * as emptyTypes from "google-protobuf/google/protobuf/empty_pb";
import { PropertyMap, annotateSecrets, fromWire, toWire } from "./property-values";

export type { PropertyMap, Secret } from "./property-values";
export { UNKNOWN, isSecret, reveal, secret, allStrings, containsSecrets, fromWire } from "./property-values";

/** The repository root (where package.json and node_modules are). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

// grpc-js and google-protobuf are @pulumi/pulumi's own dependencies: resolve them from there, so the
// stubs and the client share one grpc-js instance (and no extra package is needed).
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [REPO_ROOT] }));
const fromPulumi = <T>(id: string): T => require(require.resolve(id, { paths: [PULUMI_DIR] })) as T;
const grpc = fromPulumi<typeof grpcTypes>("@grpc/grpc-js");
const structproto = fromPulumi<typeof structTypes>("google-protobuf/google/protobuf/struct_pb");
const provrpc = require(path.join(PULUMI_DIR, "proto", "provider_grpc_pb")) as typeof provGrpcTypes;
const provproto = require(path.join(PULUMI_DIR, "proto", "provider_pb")) as typeof provTypes;

/** Pulumi's dynamic provider host script, as the `pulumi-resource-pulumi-nodejs` plugin runs it. */
export const DYNAMIC_PROVIDER_HOST_SCRIPT = path.join(PULUMI_DIR, "cmd", "dynamic-provider", "index.js");

/**
 * The host script a program folder's own @pulumi/pulumi provides: the plugin's launcher resolves
 * `@pulumi/pulumi/cmd/dynamic-provider` from the program folder, so does the harness.
 */
export function hostScriptFor(programDir: string): string {
  const dir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [programDir] }));
  return path.join(dir, "cmd", "dynamic-provider", "index.js");
}

const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 5_000;
const OUTPUT_LIMIT = 1024 * 1024;

export interface HostOptions {
  /** Working directory of the host. Default: the repo root (the engine uses the program directory). */
  cwd?: string;
  /** Project name the engine passes (`PULUMI_NODEJS_PROJECT`). Default "pulumi-kairos". */
  project?: string;
  /** Stack name used in URNs. Default "test". */
  stack?: string;
  /** Provider config, sent in `Configure` and as `PULUMI_CONFIG`. Default {}. */
  config?: Record<string, string>;
  /** Extra environment for the host (merged over this process's). */
  env?: Record<string, string | undefined>;
  /** Deadline of each RPC in ms. Default 60000. */
  callTimeoutMs?: number;
  /** How long to wait for the host to print its port, in ms. Default 30000. */
  startTimeoutMs?: number;
}

export interface CallOptions {
  /** Logical resource name for the URN. Default "res". */
  name?: string;
  /** Deadline of this call in ms. Default: the host's `callTimeoutMs`. */
  timeoutMs?: number;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs: PropertyMap;
  failures: CheckFailure[];
}

export interface DiffResult {
  changes: "none" | "some" | "unknown";
  replaces: string[];
  deleteBeforeReplace: boolean;
  diffs: string[];
}

export interface CreateResult {
  id: string;
  properties: PropertyMap;
}

export interface ReadResult {
  id: string;
  properties: PropertyMap;
  inputs?: PropertyMap;
}

export interface DynamicProviderHost {
  /** The host's gRPC address, `127.0.0.1:<port>`. */
  readonly address: string;
  /** Whether the provider accepted secrets in `Configure` (Pulumi's host answers false). */
  readonly acceptSecrets: boolean;
  check(type: string, olds: PropertyMap, news: PropertyMap, opts?: CallOptions): Promise<CheckResult>;
  /** `olds` are the old outputs (state), `news` the new checked inputs; `oldInputs` default {}. */
  diff(type: string, id: string, olds: PropertyMap, news: PropertyMap, opts?: CallOptions & { oldInputs?: PropertyMap }): Promise<DiffResult>;
  create(type: string, properties: PropertyMap, opts?: CallOptions & { preview?: boolean }): Promise<CreateResult>;
  read(type: string, id: string, state: PropertyMap, opts?: CallOptions & { inputs?: PropertyMap }): Promise<ReadResult>;
  update(type: string, id: string, olds: PropertyMap, news: PropertyMap, opts?: CallOptions & { oldInputs?: PropertyMap; preview?: boolean }): Promise<PropertyMap>;
  delete(type: string, id: string, properties: PropertyMap, opts?: CallOptions & { oldInputs?: PropertyMap }): Promise<void>;
  /** Everything the host printed so far (stdout + stderr), for log assertions. */
  output(): string;
  /** Ends the host process; resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Kills the host process at once (SIGKILL), as a crash or a killed `pulumi up` ends it. */
  kill(): Promise<void>;
}

const liveHosts = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveHosts) child.kill("SIGKILL");
});

type Struct = structTypes.Struct;
type Unary<Req, Res> = (req: Req, md: grpcTypes.Metadata, opts: Partial<grpcTypes.CallOptions>, cb: (err: grpcTypes.ServiceError | null, res: Res) => void) => unknown;

/** Starts Pulumi's dynamic provider host and configures it. Always `stop()` it (afterAll). */
export async function startDynamicProviderHost(options: HostOptions = {}): Promise<DynamicProviderHost> {
  // The program folder's own host when it has @pulumi/pulumi (as the engine runs it), else ours.
  let script = DYNAMIC_PROVIDER_HOST_SCRIPT;
  try {
    if (options.cwd && fs.existsSync(options.cwd)) script = hostScriptFor(options.cwd);
  } catch {
    // no @pulumi/pulumi in that folder: this repository's host
  }
  if (!fs.existsSync(script)) {
    throw new Error(`Pulumi dynamic provider host not found at ${script}; run npm ci (@pulumi/pulumi)`);
  }
  const project = options.project ?? "pulumi-kairos";
  const stack = options.stack ?? "test";
  const config = options.config ?? {};
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

  // The engine passes its own gRPC address; Pulumi's host requires the argument but never dials it.
  const child = spawn(process.execPath, [script, "127.0.0.1:1"], {
    cwd: options.cwd ?? REPO_ROOT,
    env: {
      ...process.env,
      PULUMI_NODEJS_PROJECT: project,
      PULUMI_PROJECT: project,
      PULUMI_CONFIG: JSON.stringify(config),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveHosts.add(child);
  let output = "";
  const append = (c: Buffer) => {
    output += c.toString("utf8");
    if (output.length > OUTPUT_LIMIT) output = output.slice(output.length - OUTPUT_LIMIT);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => { liveHosts.delete(child); resolve(); });
    // A child that never started (bad cwd, no node) emits "error" and no "exit".
    child.once("error", (e) => { spawnError = e; liveHosts.delete(child); resolve(); });
  });

  const stop = async (): Promise<void> => {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    await exited;
    clearTimeout(killer);
  };

  let port: number;
  try {
    port = await waitForPort(child, () => output, startTimeoutMs, script);
  } catch (e) {
    await stop();
    throw e;
  }
  const address = `127.0.0.1:${port}`;
  const client = new provrpc.ResourceProviderClient(address, grpc.credentials.createInsecure());

  const call = <Req, Res>(method: string, req: Req, timeoutMs = callTimeoutMs): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary<Req, Res>>)[method].bind(client);
      fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        // The host wrote its stderr before it answered, so those bytes are already in the pipe; but
        // the answer's callback can run before the pipe's in the same turn of the event loop. Settle
        // after that turn (setImmediate runs once every ready callback has), so output() has them.
        setImmediate(() => {
          if (err) {
            const hostLog = output.trim().split("\n").slice(-20).join("\n");
            reject(new Error(`${method} failed: ${err.details || err.message}${hostLog ? `\nhost output (tail):\n${hostLog}` : ""}`));
          } else resolve(res);
        });
      });
    });

  let acceptSecrets = false;
  try {
    const req = new provproto.ConfigureRequest();
    req.setArgs(structproto.Struct.fromJavaScript(config as Record<string, string>));
    for (const [k, v] of Object.entries(config)) req.getVariablesMap().set(k, v);
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    const res = await call<provTypes.ConfigureRequest, provTypes.ConfigureResponse>("configure", req);
    acceptSecrets = res.getAcceptsecrets();
  } catch (e) {
    client.close();
    await stop();
    throw e;
  }

  const urn = (type: string, name = "res") => `urn:pulumi:${stack}::${project}::${type}::${name}`;
  const wire = (props: PropertyMap): Struct =>
    structproto.Struct.fromJavaScript(toWire(props, acceptSecrets) as Record<string, structTypes.JavaScriptValue>);
  const unwire = (s: Struct | undefined): PropertyMap => (s ? (fromWire(s.toJavaScript()) as PropertyMap) : {});
  /** Every request names its resource the same way: URN, name and type. */
  const addressed = <R extends { setUrn(v: string): unknown; setName(v: string): unknown; setType(v: string): unknown }>(req: R, type: string, name = "res"): R => {
    req.setUrn(urn(type, name));
    req.setName(name);
    req.setType(type);
    return req;
  };
  // Responses keep the provider's secret wrappers; secret inputs re-mark same-named outputs.
  const engineOutputs = (s: Struct | undefined, ins: PropertyMap) => (acceptSecrets ? unwire(s) : annotateSecrets(unwire(s), ins));

  return {
    address,
    acceptSecrets,
    async check(type, olds, news, opts = {}) {
      const req = new provproto.CheckRequest();
      addressed(req, type, opts.name);
      req.setOlds(wire(olds));
      req.setNews(wire(news));
      const res = await call<provTypes.CheckRequest, provTypes.CheckResponse>("check", req, opts.timeoutMs);
      return {
        inputs: engineOutputs(res.getInputs(), news),
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(type, id, olds, news, opts = {}) {
      const req = new provproto.DiffRequest();
      req.setId(id);
      addressed(req, type, opts.name);
      req.setOlds(wire(olds));
      req.setNews(wire(news));
      req.setOldInputs(wire(opts.oldInputs ?? {}));
      const res = await call<provTypes.DiffRequest, provTypes.DiffResponse>("diff", req, opts.timeoutMs);
      const C = provproto.DiffResponse.DiffChanges;
      const changes = res.getChanges() === C.DIFF_NONE ? "none" : res.getChanges() === C.DIFF_SOME ? "some" : "unknown";
      return { changes, replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace(), diffs: res.getDiffsList() };
    },
    async create(type, properties, opts = {}) {
      const req = new provproto.CreateRequest();
      addressed(req, type, opts.name);
      req.setProperties(wire(properties));
      req.setPreview(opts.preview ?? false);
      req.setTimeout((opts.timeoutMs ?? callTimeoutMs) / 1000);
      const res = await call<provTypes.CreateRequest, provTypes.CreateResponse>("create", req, opts.timeoutMs);
      return { id: res.getId(), properties: engineOutputs(res.getProperties(), properties) };
    },
    async read(type, id, state, opts = {}) {
      const req = new provproto.ReadRequest();
      req.setId(id);
      addressed(req, type, opts.name);
      req.setProperties(wire(state));
      if (opts.inputs) req.setInputs(wire(opts.inputs));
      const res = await call<provTypes.ReadRequest, provTypes.ReadResponse>("read", req, opts.timeoutMs);
      const inputs = res.getInputs();
      return {
        id: res.getId(),
        properties: engineOutputs(res.getProperties(), state),
        ...(inputs ? { inputs: engineOutputs(inputs, opts.inputs ?? {}) } : {}),
      };
    },
    async update(type, id, olds, news, opts = {}) {
      const req = new provproto.UpdateRequest();
      req.setId(id);
      addressed(req, type, opts.name);
      req.setOlds(wire(olds));
      req.setNews(wire(news));
      req.setOldInputs(wire(opts.oldInputs ?? {}));
      req.setPreview(opts.preview ?? false);
      req.setTimeout((opts.timeoutMs ?? callTimeoutMs) / 1000);
      const res = await call<provTypes.UpdateRequest, provTypes.UpdateResponse>("update", req, opts.timeoutMs);
      return engineOutputs(res.getProperties(), news);
    },
    async delete(type, id, properties, opts = {}) {
      const req = new provproto.DeleteRequest();
      req.setId(id);
      addressed(req, type, opts.name);
      req.setProperties(wire(properties));
      req.setOldInputs(wire(opts.oldInputs ?? {}));
      req.setTimeout((opts.timeoutMs ?? callTimeoutMs) / 1000);
      await call<provTypes.DeleteRequest, emptyTypes.Empty>("delete", req, opts.timeoutMs);
    },
    output: () => output,
    async stop() {
      client.close();
      await stop();
    },
    async kill() {
      if (!spawnError && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      client.close();
    },
  };
}

/** Waits for the port line Pulumi's host prints first on stdout; fails if the host exits first. */
function waitForPort(child: ChildProcess, output: () => string, timeoutMs: number, script: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => finish(new Error(
      `timed out waiting for the dynamic provider host to print its port after ${timeoutMs} ms: ${script}\n${output()}`)), timeoutMs);
    const onData = (c: Buffer) => {
      stdout += c.toString("utf8");
      const m = /^(\d+)\s*$/m.exec(stdout);
      if (m) finish(undefined, Number(m[1]));
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`dynamic provider host exited (${signal ?? `code ${code}`}) before printing its port: ${script}\n${output()}`));
    const onError = (e: Error) =>
      finish(new Error(`dynamic provider host failed to start (${e.message}): ${process.execPath} ${script}`));
    const finish = (err?: Error, port?: number) => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (err) reject(err);
      else resolve(port!);
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

export interface CapturedResource {
  /** Type token, e.g. `pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets`. */
  type: string;
  name: string;
  /** Inputs as the engine received them (secret inputs as `Secret` markers), including `__provider`. */
  inputs: PropertyMap;
  /** The serialized provider text (`inputs.__provider`). */
  provider: string;
}

export interface CaptureOptions {
  /** Only a resource of this type token (default: the first `pulumi-nodejs:dynamic...` resource). */
  type?: string;
  /** Bound in ms. Default 60000 (closure serialization of a large provider takes seconds). */
  timeoutMs?: number;
  /** Project/stack for the mock monitor. Defaults "pulumi-kairos"/"test". */
  project?: string;
  stack?: string;
}

/**
 * Runs `construct` under `pulumi.runtime.setMocks` and resolves with the first dynamic resource it
 * registers (or the one of `opts.type`). Other resources get mock ids and echo their inputs as state.
 * Replaces any mocks set before; a test that needs its own should set them again afterwards.
 */
export async function captureDynamicResource(construct: () => void, opts: CaptureOptions = {}): Promise<CapturedResource> {
  const all = await captureResources(construct, { ...opts, until: (r) => matches(r, opts.type) });
  return all.find((r) => matches(r, opts.type))!;
}

function matches(r: { type: string }, type?: string): boolean {
  return type ? r.type === type : r.type.startsWith("pulumi-nodejs:dynamic");
}

/**
 * Runs `construct` under mocks and records every registered resource (component and custom), in
 * registration order, until `until` matches one of them (or `settleMs` pass with no new one).
 */
export async function captureResources(
  construct: () => void,
  opts: CaptureOptions & { until?: (r: CapturedResource) => boolean; settleMs?: number } = {},
): Promise<CapturedResource[]> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const settleMs = opts.until ? undefined : opts.settleMs ?? 1000;
  const seen: CapturedResource[] = [];
  let done: (() => void) | undefined;
  let lastAt = Date.now();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = fromWire(args.inputs) as PropertyMap;
        const provider = typeof inputs.__provider === "string" ? inputs.__provider : "";
        const rec = { type: args.type, name: args.name, inputs, provider };
        seen.push(rec);
        lastAt = Date.now();
        if (opts.until?.(rec)) done?.();
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    opts.project ?? "pulumi-kairos",
    opts.stack ?? "test",
    false,
  );
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    const started = Date.now();
    const tick = setInterval(() => {
      if (settleMs !== undefined && Date.now() - lastAt >= settleMs) finish(resolve);
      else if (Date.now() - started >= timeoutMs) {
        finish(() => reject(new Error(
          `timed out after ${timeoutMs} ms waiting for ${opts.type ?? "a dynamic resource"} to be registered; saw: ${seen.map((r) => r.type).join(", ") || "nothing"}`)));
      }
    }, 50);
    const finish = (f: () => void) => { clearInterval(tick); f(); };
    done = () => finish(resolve);
  });
  construct();
  await finished;
  return seen;
}

/** A private 0700 scratch directory (for HOME/TMPDIR of a host), removed by the returned function. */
export function privateTempDir(prefix = "kairos-l3-"): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A dynamic resource created for real during `runProgramWithDynamicProviders`. */
export interface CreatedResource {
  type: string;
  name: string;
  id: string;
  /** Checked inputs as sent to create (with `__provider`). */
  inputs: PropertyMap;
  /** Outputs as the engine would store them (secrets as `Secret`). */
  outputs: PropertyMap;
}

/** One resource in the saved state: what the engine keeps between two runs of a program. */
export interface StateEntry extends CreatedResource {
  /** Names of the dynamic resources it depends on (its registration's dependencies), for delete order. */
  deps: string[];
}

/** What the engine did with one resource in a run. */
export interface EngineStep {
  op: "create" | "same" | "update" | "replace" | "delete";
  type: string;
  name: string;
  /** For a replacement: the old one was deleted first (the provider asked, or the resource option). */
  deleteBeforeReplace?: boolean;
}

export interface ProgramRun {
  /** Dynamic resources created in this run (new ones and replacements), in the order they were created. */
  created: CreatedResource[];
  /** With `refresh`: what each read of the prior state found (`gone`: the object no longer exists). */
  refreshed: Array<{ type: string; name: string; changed: boolean; gone: boolean }>;
  /** The state after this run, in dependency order: pass it as `priorState` to run the program again. */
  state: StateEntry[];
  /** What happened to each dynamic resource, in order (deletes last, as the engine does them). */
  steps: EngineStep[];
  /** Every other resource, left to the mocks (type and name), in registration order. */
  mocked: Array<{ type: string; name: string }>;
  host: DynamicProviderHost;
  /**
   * Deletes every resource of the state in reverse dependency order, then stops the host.
   * Idempotent. With `from`, the host is first stopped and a new one started in that folder (as
   * after the program folder moved): deletes then go through the `__provider` text saved in state,
   * as `pulumi destroy` does.
   */
  destroy(opts?: { from?: string }): Promise<void>;
  /** Stops the host and keeps the state (to run the program again with `priorState`). Idempotent. */
  stop(): Promise<void>;
}

export interface ProgramRunOptions extends HostOptions {
  /** The run is over when no resource was registered for this long, in ms. Default 2000. */
  settleMs?: number;
  /** Bound of the whole run in ms. Default 600000. */
  timeoutMs?: number;
  /** Outputs of a mocked (non-dynamic) resource. Default: its inputs. */
  mockState?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
  /** The @pulumi/pulumi the program uses (a program folder's own copy). Default: this repository's. */
  sdk?: typeof pulumi;
  /** The state a previous run left (`ProgramRun.state`): run the program again over it, as `pulumi up` does. */
  priorState?: readonly StateEntry[];
  /**
   * Run the steps of resources that do not depend on each other at the same time, as the engine
   * does (a resource registers only once what it depends on is done). Default false: one at a
   * time, in registration order (gentler on a 2-core machine booting VMs).
   */
  parallel?: boolean;
  /** Read every resource of `priorState` first and run over what was read (`pulumi up --refresh`). */
  refresh?: boolean;
  /** Names of resources to replace even without a change (`pulumi up --replace <urn>`). */
  replace?: readonly string[];
  /**
   * Polled every second while the program runs: when it resolves true the provider host is killed
   * (SIGKILL, as when `pulumi up` is killed) and the run rejects with an `InterruptedRun` holding
   * the state the engine would have saved (what completed; a create in flight is not in it).
   */
  interruptWhen?: () => Promise<boolean>;
  /**
   * Polled every second while the program runs: when it resolves true the run is cancelled as
   * SIGINT cancels `pulumi up` (what the Automation API's `signal` sends): no new step starts, the
   * steps in flight finish and are saved, then the run rejects with an `InterruptedRun` holding
   * that state. The provider host is stopped.
   */
  cancelWhen?: () => Promise<boolean>;
}

/** A run ended by `interruptWhen`: `state` is what the engine would have saved. */
export class InterruptedRun extends Error {
  constructor(readonly state: StateEntry[], readonly steps: EngineStep[]) {
    super("the run was interrupted (provider host killed)");
  }
}

/**
 * A run over a prior state that failed: `state` is what the engine saves then (the prior state with
 * every step that completed applied; resources not reached keep their old entries), to run again.
 */
export class FailedRun extends Error {
  constructor(readonly cause: Error, readonly state: StateEntry[], readonly steps: EngineStep[]) {
    super(cause.message);
    this.name = "FailedRun";
  }
}

/** What a registration request says beyond its inputs (the mock monitor's `newResource` does not see it). */
interface RequestInfo {
  deps: string[];
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
}

const nameOfUrn = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);
const keyOf = (type: string, name: string) => `${type}::${name}`;

/** `entries` ordered so that every entry comes after the entries it depends on. */
function dependencyOrder<T extends { name: string; deps: string[] }>(entries: readonly T[]): T[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const done = new Set<string>();
  const out: T[] = [];
  const visit = (e: T, path: Set<string>) => {
    if (done.has(e.name) || path.has(e.name)) return;
    path.add(e.name);
    for (const d of e.deps) {
      const dep = byName.get(d);
      if (dep) visit(dep, path);
    }
    done.add(e.name);
    out.push(e);
  };
  for (const e of entries) visit(e, new Set());
  return out;
}

/**
 * L3+: runs a program (`construct`) under the mock monitor where every dynamic resource is checked
 * and created (or, over a `priorState`, diffed and updated or replaced) for real through one Pulumi
 * dynamic-provider host, one at a time in registration order, and the other resources stay mocked.
 *
 * Over a prior state it follows the engine (pulumi/pulumi pkg/resource/deploy/step_generator.go):
 * `ignoreChanges` keeps old input values; check with the old inputs, then diff against the old
 * outputs; no change keeps the old outputs ("same"); a change without replacement is an update; a
 * replacement checks again with no old inputs (so auto-names are fresh) and is create-before-delete
 * unless the provider or the resource option asks for delete-before-replace. Replaced resources and
 * resources the program no longer registers are deleted after the program settles, in reverse
 * dependency order. Rejects with the first check failure or provider error (after deleting what
 * this run created, when there was no prior state). Always call `destroy()` or `stop()` (afterAll).
 */
export async function runProgramWithDynamicProviders(
  construct: () => void | Promise<void>,
  opts: ProgramRunOptions = {},
): Promise<ProgramRun> {
  const settleMs = opts.settleMs ?? 2000;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const sdk = opts.sdk ?? pulumi;
  let host = await startDynamicProviderHost(opts);
  const prior = new Map((opts.priorState ?? []).map((e) => [keyOf(e.type, e.name), e]));
  const refreshed: ProgramRun["refreshed"] = [];
  if (opts.refresh) {
    for (const e of dependencyOrder([...prior.values()])) {
      const r = await host.read(e.type, e.id, e.outputs, { name: e.name, inputs: e.inputs });
      const gone = r.id === "";
      refreshed.push({ type: e.type, name: e.name, gone, changed: gone || JSON.stringify(r.properties) !== JSON.stringify(e.outputs) });
      if (gone) prior.delete(keyOf(e.type, e.name));
      else prior.set(keyOf(e.type, e.name), { ...e, outputs: r.properties });
    }
  }
  const forced = new Set(opts.replace ?? []);
  const created: CreatedResource[] = [];
  const current = new Map<string, StateEntry>();
  const steps: EngineStep[] = [];
  const toDelete: StateEntry[] = [];
  const mocked: Array<{ type: string; name: string }> = [];
  const requests = new Map<string, RequestInfo>();
  const errors: Error[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  let pending = 0;
  let lastAt = Date.now();
  let finished = false;
  let cancelled = false;

  const stateNow = (): StateEntry[] => dependencyOrder([...current.values()]);
  const deleteAll = async (entries: readonly StateEntry[], step: boolean): Promise<string[]> => {
    const failures: string[] = [];
    for (const r of dependencyOrder(entries).reverse()) {
      try {
        await host.delete(r.type, r.id, r.outputs, { name: r.name, oldInputs: r.inputs });
        if (step) steps.push({ op: "delete", type: r.type, name: r.name });
      } catch (e) {
        failures.push(`${r.type}::${r.name}: ${(e as Error).message}`);
      }
    }
    return failures;
  };

  const destroy = async (d: { from?: string } = {}) => {
    if (finished) return;
    finished = true;
    if (d.from) {
      await host.stop();
      host = await startDynamicProviderHost({ ...opts, cwd: d.from });
      run.host = host;
    }
    const failures = await deleteAll([...current.values()], false);
    current.clear();
    await host.stop();
    if (failures.length > 0) throw new Error(`destroy left resources behind:\n${failures.join("\n")}`);
  };
  const stop = async () => {
    finished = true;
    await host.stop();
  };

  const checkOrFail = async (type: string, name: string, olds: PropertyMap, news: PropertyMap) => {
    const checked = await host.check(type, olds, news, { name });
    if (checked.failures.length > 0) {
      throw new Error(`check of ${type}::${name} failed:\n${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("\n")}`);
    }
    return checked.inputs;
  };
  const createNew = async (type: string, name: string, inputs: PropertyMap, deps: string[]) => {
    const r = await host.create(type, inputs, { name });
    const entry: StateEntry = { type, name, id: r.id, inputs, outputs: r.properties, deps };
    created.push(entry);
    current.set(keyOf(type, name), entry);
    return entry;
  };

  const registerForReal = async (args: pulumi.runtime.MockResourceArgs) => {
    const key = keyOf(args.type, args.name);
    const req = requests.get(key) ?? { deps: [], ignoreChanges: [], deleteBeforeReplace: false, replaceOnChanges: [] };
    const news = fromWire(args.inputs) as PropertyMap;
    const old = prior.get(key);
    let entry: StateEntry;
    if (!old) {
      entry = await createNew(args.type, args.name, await checkOrFail(args.type, args.name, {}, news), req.deps);
      steps.push({ op: "create", type: args.type, name: args.name });
    } else {
      for (const k of req.ignoreChanges) if (k in old.inputs) news[k] = old.inputs[k];
      const checked = await checkOrFail(args.type, args.name, old.inputs, news);
      const d = await host.diff(args.type, old.id, old.outputs, checked, { name: args.name, oldInputs: old.inputs });
      const replaceKeys = [
        ...d.replaces, ...req.replaceOnChanges.filter((k) => JSON.stringify(old.inputs[k]) !== JSON.stringify(checked[k])), ...(forced.has(args.name) ? ["--replace"] : []),
      ];
      if (d.changes === "none" && replaceKeys.length === 0) {
        entry = { ...old, inputs: checked, deps: req.deps };
        current.set(key, entry);
        steps.push({ op: "same", type: args.type, name: args.name });
      } else if (replaceKeys.length === 0) {
        const outs = await host.update(args.type, old.id, old.outputs, checked, { name: args.name, oldInputs: old.inputs });
        entry = { ...old, inputs: checked, outputs: outs, deps: req.deps };
        current.set(key, entry);
        steps.push({ op: "update", type: args.type, name: args.name });
      } else {
        // A replacement is checked again without old inputs: auto-names are chosen afresh.
        const fresh = await checkOrFail(args.type, args.name, {}, news);
        const dbr = d.deleteBeforeReplace || req.deleteBeforeReplace;
        if (dbr) await host.delete(old.type, old.id, old.outputs, { name: old.name, oldInputs: old.inputs });
        else toDelete.push(old);
        entry = await createNew(args.type, args.name, fresh, req.deps);
        steps.push({ op: "replace", type: args.type, name: args.name, ...(dbr ? { deleteBeforeReplace: true } : {}) });
      }
    }
    return { id: entry.id, state: toWire(entry.outputs, true) as Record<string, unknown> };
  };

  await sdk.runtime.setMocks(
    {
      async newResource(args: pulumi.runtime.MockResourceArgs) {
        lastAt = Date.now();
        if (!args.type.startsWith("pulumi-nodejs:dynamic")) {
          mocked.push({ type: args.type, name: args.name });
          return { id: `${args.name}-id`, state: opts.mockState ? opts.mockState(args) : args.inputs };
        }
        pending++;
        // As the engine: after a step failed, no new step starts (steps in flight finish).
        const register = async () => {
          if (errors.length > 0) throw new Error(`not started: an earlier step failed`);
          if (cancelled) throw new Error(`not started: the run was cancelled`);
          return registerForReal(args);
        };
        const result = opts.parallel ? register() : queue.then(register);
        if (!opts.parallel) queue = result.catch(() => undefined);
        try {
          return await result;
        } catch (e) {
          // Failing the registration would surface as unhandled rejections inside the SDK; record
          // the error, let the program finish as if the resource existed, and reject the run.
          if (!/^not started: /.test((e as Error).message)) errors.push(e as Error);
          return { id: `failed-${args.name}`, state: args.inputs };
        } finally {
          pending--;
          lastAt = Date.now();
        }
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    opts.project ?? "pulumi-kairos",
    opts.stack ?? "test",
    false,
  );
  // The registration request carries what the mocks' newResource is not given: dependencies,
  // ignoreChanges, deleteBeforeReplace, replaceOnChanges.
  const monitor = sdk.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    requests.set(keyOf(req.getType(), req.getName()), {
      deps: req.getDependenciesList().map(nameOfUrn),
      ignoreChanges: req.getIgnorechangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
    });
    return original(req, cb);
  };

  const started = Date.now();
  let interrupted = false;
  let polledAt = 0;
  try {
    await construct();
    for (;;) {
      if (opts.cancelWhen && !cancelled && Date.now() - polledAt >= 1000) {
        polledAt = Date.now();
        cancelled = await opts.cancelWhen();
      }
      if (cancelled && pending === 0) {
        interrupted = true;
        await host.stop();
        throw new InterruptedRun(stateNow(), steps);
      }
      if (opts.interruptWhen && !interrupted && Date.now() - polledAt >= 1000) {
        polledAt = Date.now();
        if (await opts.interruptWhen()) {
          interrupted = true;
          await host.kill();
          // Registrations in flight fail now; let them land in this run's mocks, not the next run's.
          await new Promise((r) => setTimeout(r, settleMs));
          throw new InterruptedRun(stateNow(), steps);
        }
      }
      if (errors.length > 0) throw errors[0];
      if (pending === 0 && Date.now() - lastAt >= settleMs) break;
      if (Date.now() - started >= timeoutMs) {
        throw new Error(`program did not settle within ${timeoutMs} ms (${pending} dynamic resources in flight; created: ${created.map((r) => r.name).join(", ") || "none"})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // As the engine: replaced resources and those no longer in the program go last, in reverse dependency order.
    const removed = [...prior.values()].filter((e) => !current.has(keyOf(e.type, e.name)) || toDelete.includes(e));
    const failures = await deleteAll([...removed], true);
    if (failures.length > 0) throw new Error(`deletes after the update failed:\n${failures.join("\n")}`);
  } catch (e) {
    // A first run cleans up after itself; over a prior state, what exists is kept for the test to
    // see; an interrupted run leaves what it left, as a killed `pulumi up` does.
    if (interrupted) finished = true;
    else if (!opts.priorState) await destroy().catch(() => undefined);
    else {
      await stop();
      const saved = new Map(prior);
      for (const entry of current.values()) saved.set(keyOf(entry.type, entry.name), entry);
      throw new FailedRun(e as Error, dependencyOrder([...saved.values()]), steps);
    }
    throw e;
  }
  const run: ProgramRun = { created, refreshed, get state() { return stateNow(); }, steps, mocked, host, destroy, stop };
  return run;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getDeletebeforereplace(): boolean;
  getReplaceonchangesList(): string[];
}
