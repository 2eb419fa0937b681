/**
 * Test environment for image builds: the recording stand-in engine first on PATH, or, with
 * KAIROS_E2E=1, the real docker/podman (then the stand-in's recordings are not asserted).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";

export const E2E = process.env.KAIROS_E2E === "1";
const FAKE = path.resolve(__dirname, "../../fixtures/fake-engine/fake-engine.js");

export interface EngineCall {
  engine: string;
  argv: string[];
  stdin?: { sha256: string; length: number };
}

export interface FakeEngineEnv {
  root: string;
  stateDir: string;
  calls(): EngineCall[];
  restore(): void;
}

function requireTool(tool: string, hint: string): void {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
  } catch {
    throw new Error(`${tool} not found; ${hint}`);
  }
}

/** Creates a private temp root and, unless E2E, puts docker/podman stand-ins first on PATH. */
export function setUpEngine(): FakeEngineEnv {
  requireTool("qemu-img", "apt-get install qemu-utils");
  requireTool("xorriso", "apt-get install xorriso");
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-image-test-"));
  fs.chmodSync(root, 0o700);
  const stateDir = path.join(root, "engine-state");
  const oldPath = process.env.PATH;
  const oldDir = process.env.FAKE_ENGINE_DIR;
  if (!E2E) {
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(FAKE, path.join(bin, "docker"));
    fs.symlinkSync(FAKE, path.join(bin, "podman"));
    process.env.PATH = `${bin}:${oldPath}`;
    process.env.FAKE_ENGINE_DIR = stateDir;
  }
  return {
    root,
    stateDir,
    calls: () => {
      const f = path.join(stateDir, "calls.jsonl");
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as EngineCall) : [];
    },
    restore: () => {
      process.env.PATH = oldPath;
      if (oldDir === undefined) delete process.env.FAKE_ENGINE_DIR;
      else process.env.FAKE_ENGINE_DIR = oldDir;
      delete process.env.FAKE_ENGINE_FAIL;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
