/**
 * The default engine: Pulumi's Automation API with an inline program. Needs the Pulumi CLI on PATH
 * and nothing else: the state goes to a local file backend in a private (0700) temporary folder (or
 * in a folder the caller keeps, `root`, for clusters that outlive the process: the CLI's), its
 * secrets are encrypted with a generated passphrase handed to the CLI through its environment (never
 * its arguments), and the stack has a name of its own. The CLI runs in a private project folder
 * whose `node_modules` links to the one this package is installed in, so Pulumi's dynamic-provider
 * host finds `pulumi-kairos/drivers/*` and `@pulumi/pulumi` there, as it would in a program folder.
 */
import { randomBytes } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ClusterEngine, EngineResource, ProgramOutputs } from "./engine";

/** The one-line message when the Pulumi CLI is not on PATH. */
export const PULUMI_CLI_MISSING =
  "pulumi-kairos/testing needs the Pulumi CLI on PATH (it runs the cluster through Pulumi's Automation API) and found none; " +
  "install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi/tap/pulumi`, see https://www.pulumi.com/docs/install/) and check that `pulumi version` runs";

/** The `pulumi` executable on `PATH`, or undefined. */
export function findPulumiCli(envPath: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "pulumi");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws the one-line install message when the Pulumi CLI is not on PATH. */
export function requirePulumiCli(envPath?: string): string {
  const cli = findPulumiCli(envPath);
  if (!cli) throw new Error(PULUMI_CLI_MISSING);
  return cli;
}

/** A 0700 folder in the system temp folder. */
export function privateDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/**
 * The `node_modules` folder that holds both `@pulumi/pulumi` and `pulumi-kairos` as this process
 * resolves them: where a program using this package is installed.
 */
export function programNodeModules(from: string = process.cwd()): string {
  const tries = [from, __dirname];
  for (const base of tries) {
    try {
      const sdk = require.resolve("@pulumi/pulumi/package.json", { paths: [base] });
      const nm = path.dirname(path.dirname(path.dirname(sdk)));
      require.resolve("pulumi-kairos/package.json", { paths: [path.dirname(nm)] });
      return nm;
    } catch {
      // try the next base
    }
  }
  throw new Error(`pulumi-kairos/testing: cannot find a node_modules folder holding both @pulumi/pulumi and pulumi-kairos from ${tries.join(" or ")}; install both in your program folder (npm install pulumi-kairos @pulumi/pulumi)`);
}

const PROJECT = "kairos-ephemeral";

export interface AutomationEngineOptions {
  /** Stack name (unique per cluster). */
  stack: string;
  /** Progress lines of the CLI (default: none). */
  onOutput?: (line: string) => void;
  /**
   * A state folder the caller keeps (created 0700 when missing): backend, project folder and the
   * passphrase (`passphrase`, 0600) live there, so a later process can reopen the stack
   * (`selectExisting()`) and destroy it. `dispose()` leaves it. @default a private temporary
   * folder that `dispose()` removes
   */
  root?: string;
}

/** The passphrase of a caller-kept root: read when an earlier process wrote it, else generated and written (0600). */
export function rootPassphrase(root: string): string {
  const file = path.join(root, "passphrase");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const passphrase = randomBytes(32).toString("base64url");
  fs.writeFileSync(file, passphrase, { mode: 0o600, flag: "wx" });
  fs.chmodSync(file, 0o600);
  return passphrase;
}

/** Makes `dir` if missing and makes it private (mkdir's mode is masked by the umask; an existing folder keeps its own). */
function mkdirPrivate(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** The Automation API engine. Construction checks for the CLI first and fails with one line when it is missing. */
export class AutomationEngine implements ClusterEngine {
  readonly description: string;
  private readonly root: string;
  private readonly backend: string;
  private readonly workDir: string;
  private readonly passphrase: string;
  /** Whether the caller keeps `root` (dispose leaves it). */
  private readonly rootKept: boolean;
  private readonly cli: string;
  private stack: import("@pulumi/pulumi/automation").Stack | undefined;
  private running: Promise<unknown> | undefined;
  private kept = false;
  private destroyed = false;

  constructor(private readonly o: AutomationEngineOptions) {
    this.cli = requirePulumiCli();
    const nodeModules = programNodeModules();
    this.rootKept = o.root !== undefined;
    this.root = o.root !== undefined ? path.resolve(o.root) : privateDir(`kairos-eph-${o.stack}-`);
    this.backend = path.join(this.root, "backend");
    this.workDir = path.join(this.root, "project");
    for (const dir of [this.root, this.backend, this.workDir]) mkdirPrivate(dir);
    // A kept root is reopened by later processes, possibly from another install: link the current one.
    const link = path.join(this.workDir, "node_modules");
    fs.rmSync(link, { force: true });
    fs.symlinkSync(nodeModules, link, "dir");
    this.passphrase = this.rootKept ? rootPassphrase(this.root) : randomBytes(32).toString("base64url");
    this.description = `Pulumi Automation API, stack ${o.stack}, file backend ${this.backend}`;
  }

  private env(): Record<string, string> {
    return {
      PULUMI_BACKEND_URL: `file://${this.backend}`,
      PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
  }

  private async stackFor(program: () => Promise<ProgramOutputs>, how: "createOrSelect" | "select" = "createOrSelect") {
    const auto = await import("@pulumi/pulumi/automation");
    // The CLI on PATH; the SDK checks that it is recent enough for this Automation API.
    const pulumiCommand = await auto.PulumiCommand.get();
    const args = { projectName: PROJECT, stackName: this.o.stack, program };
    const opts = {
      workDir: this.workDir, pulumiCommand, envVars: this.env(), secretsProvider: "passphrase",
      projectSettings: { name: PROJECT, runtime: "nodejs" as const, backend: { url: `file://${this.backend}` } },
    };
    this.stack = how === "select" ? await auto.LocalWorkspace.selectStack(args, opts) : await auto.LocalWorkspace.createOrSelectStack(args, opts);
    return this.stack;
  }

  /**
   * Opens the stack an earlier process created in this root (with an empty program: only
   * `destroy()` and `resources()` follow), so it can be destroyed. False when the backend has none.
   */
  async selectExisting(): Promise<boolean> {
    const auto = await import("@pulumi/pulumi/automation");
    try {
      await this.stackFor(async () => ({}), "select");
      return true;
    } catch (e) {
      if (e instanceof auto.StackNotFoundError) return false;
      throw e;
    }
  }

  async up(program: () => ProgramOutputs | Promise<ProgramOutputs>, opts: { signal?: AbortSignal } = {}): Promise<ProgramOutputs> {
    const stack = await this.stackFor(async () => program());
    const run = stack.up({ onOutput: this.o.onOutput, signal: opts.signal, color: "never" });
    this.running = run.catch(() => undefined);
    const result = await run;
    return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
  }

  async destroy(): Promise<void> {
    if (this.destroyed || this.kept) return;
    await this.running;
    if (this.stack) await this.stack.destroy({ onOutput: this.o.onOutput, color: "never" });
    this.destroyed = true;
  }

  destroySync(): void {
    if (this.destroyed || this.kept || !this.stack) return;
    const r = spawnSync(this.cli, ["destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", this.o.stack], {
      cwd: this.workDir, env: { ...process.env, ...this.env() }, stdio: ["ignore", "ignore", "pipe"], timeout: 30 * 60_000,
    });
    if (r.status !== 0) throw new Error(`pulumi destroy exited with ${r.status ?? r.signal}: ${String(r.stderr ?? "").trim().split("\n").slice(-5).join("\n")}`);
    this.destroyed = true;
  }

  async resources(): Promise<EngineResource[]> {
    if (!this.stack) return [];
    const d = await this.stack.exportStack();
    const resources = ((d.deployment as { resources?: Array<{ type: string; urn: string; outputs?: Record<string, unknown> }> })?.resources ?? []);
    return resources.map((r) => ({ type: r.type, name: r.urn.slice(r.urn.lastIndexOf("::") + 2), outputs: r.outputs ?? {} }));
  }

  async keep(dir: string): Promise<string> {
    await this.running;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    if (this.stack) fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(await this.stack.exportStack(), null, 2), { mode: 0o600 });
    // The backend and project folder move into `dir`: `pulumi destroy` there removes everything.
    const backend = path.join(dir, "backend");
    const project = path.join(dir, "project");
    fs.cpSync(this.backend, backend, { recursive: true });
    fs.mkdirSync(project, { mode: 0o700 });
    for (const f of fs.readdirSync(this.workDir)) {
      const src = path.join(this.workDir, f);
      if (f === "node_modules") fs.symlinkSync(fs.readlinkSync(src), path.join(project, f), "dir");
      else fs.copyFileSync(src, path.join(project, f));
    }
    // Pulumi.yaml names the backend: point it at the kept copy.
    const yaml = path.join(project, "Pulumi.yaml");
    if (fs.existsSync(yaml)) fs.writeFileSync(yaml, fs.readFileSync(yaml, "utf8").split(this.backend).join(backend));
    fs.writeFileSync(path.join(dir, "passphrase"), this.passphrase, { mode: 0o600 });
    this.kept = true;
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    return `cd ${q(project)} && PULUMI_BACKEND_URL=${q(`file://${backend}`)} PULUMI_CONFIG_PASSPHRASE_FILE=${q(path.join(dir, "passphrase"))} pulumi destroy --yes --skip-preview --stack ${q(this.o.stack)} && rm -rf ${q(dir)}`;
  }

  async dispose(): Promise<void> {
    if (!this.rootKept) fs.rmSync(this.root, { recursive: true, force: true });
  }
}
