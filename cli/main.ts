#!/usr/bin/env node
/** `pulumi-kairos`: the process around runCli (argv, streams, exit code). */
import * as os from "os";
import { runCli } from "./commands";
import { productionDeps } from "./deps";

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  homedir: os.homedir(),
  cwd: process.cwd(),
}, productionDeps()).then(
  (code) => exit(code),
  (e: Error) => {
    process.stderr.write(`pulumi-kairos: ${e?.stack ?? String(e)}\n`);
    exit(1);
  },
);

/** Exits once stdout is flushed: a detached cluster's leftovers (SDK handles) must not keep the process alive. */
function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}
