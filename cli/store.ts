/**
 * Where the CLI's clusters live: one private folder per cluster holding its record (no secrets),
 * its kubeconfig and its engine state. The folder is also the cluster's `statePath`: while it
 * exists the reaper leaves the cluster to its TTL; once it is gone the cluster counts as orphaned.
 */
import * as fs from "fs";
import * as path from "path";

/** What `cluster.json` holds. Nothing secret: the kubeconfig and passphrase sit beside it, 0600. */
export interface ClusterRecord {
  name: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601: from here on the reaper may remove the cluster. */
  expiresAt: string;
  uri: string;
  servers: number;
  agents: number;
  /** Empty until the create finished. */
  apiEndpoint: string;
  nodes: Array<{ name: string; role: string; address: string }>;
}

/** The store's root: `$PULUMI_KAIROS_HOME`, else `$XDG_STATE_HOME/pulumi-kairos`, else `~/.local/state/pulumi-kairos`. */
export function storeRoot(env: Record<string, string | undefined>, homedir: string): string {
  if (env.PULUMI_KAIROS_HOME) return path.resolve(env.PULUMI_KAIROS_HOME);
  if (env.XDG_STATE_HOME) return path.join(path.resolve(env.XDG_STATE_HOME), "pulumi-kairos");
  return path.join(homedir, ".local", "state", "pulumi-kairos");
}

const mkdirPrivate = (dir: string) => {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
};

export class ClusterStore {
  private readonly clusters: string;

  constructor(readonly root: string) {
    this.clusters = path.join(root, "clusters");
  }

  /** The cluster's folder (its `statePath`), whether or not it exists. */
  dir(name: string): string {
    return path.join(this.clusters, name);
  }

  kubeconfigPath(name: string): string {
    return path.join(this.dir(name), "kubeconfig");
  }

  has(name: string): boolean {
    return fs.existsSync(this.dir(name));
  }

  /** Makes the cluster's folder (0700); fails when a cluster of that name is already here. */
  create(name: string): string {
    mkdirPrivate(this.clusters);
    const dir = this.dir(name);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`a cluster named ${name} already exists in ${this.clusters}; pick another --name or remove it with: pulumi-kairos down ${name}`);
      throw e;
    }
    fs.chmodSync(dir, 0o700); // mkdir's mode is masked by the umask
    return dir;
  }

  writeRecord(record: ClusterRecord): void {
    writePrivate(path.join(this.dir(record.name), "cluster.json"), `${JSON.stringify(record, null, 2)}\n`);
  }

  writeKubeconfig(name: string, kubeconfig: string): string {
    const file = this.kubeconfigPath(name);
    writePrivate(file, kubeconfig);
    return file;
  }

  /** The record, or undefined when the folder or its record is missing. */
  tryGet(name: string): ClusterRecord | undefined {
    const file = path.join(this.dir(name), "cluster.json");
    if (!fs.existsSync(file)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as ClusterRecord;
    } catch (e) {
      throw new Error(`cannot read ${file} (${(e as Error).message}); remove the cluster with: pulumi-kairos down ${name}`);
    }
  }

  /** Names of every cluster folder (including one whose create has not written a record yet), sorted. */
  names(): string[] {
    if (!fs.existsSync(this.clusters)) return [];
    return fs.readdirSync(this.clusters, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  }

  /** Every readable record, oldest first. */
  list(): ClusterRecord[] {
    return this.names().map((n) => this.tryGet(n)).filter((r): r is ClusterRecord => r !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  remove(name: string): void {
    fs.rmSync(this.dir(name), { recursive: true, force: true });
  }
}

/** Writes a 0600 file, replacing any earlier one (the mode of an existing file is not changed by writeFile). */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
