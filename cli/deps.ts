/** The real effects behind the CLI: the Automation API engine, createEphemeralCluster, the reaper, the clock. */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AutomationEngine } from "../testing/automation";
import type { CliDeps } from "./commands";
import { parseDuration } from "../testing/duration";
import { reap } from "../testing/reap";

/** This package's version, from the package.json above this file (cli/ in the sources, dist/cli/ when built). */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pulumi-kairos") return pkg.version ?? "unknown";
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}

export function productionDeps(): CliDeps {
  return {
    openEngine: ({ stack, root, onOutput }) => new AutomationEngine({ stack, root, onOutput }),
    createCluster: async (options) => {
      // Loaded here, not at the top: it pulls in Pulumi and the components, which --help and list do not need.
      const { createEphemeralCluster } = await import("../testing/ephemeral");
      return createEphemeralCluster(options);
    },
    reap,
    parseDuration,
    now: () => new Date(),
    newName: () => `eph-${randomBytes(4).toString("hex")}`,
    version: packageVersion(),
  };
}
