/**
 * L0: the CLI's commands through runCli with a fake engine, a fake createEphemeralCluster and a
 * temporary store: what goes to stdout and stderr, exit codes, the cluster folders and their modes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli, type CliClusterOptions, type CliDeps, type CliEngine } from "../../cli/commands";
import type { ReapReport } from "../../cli/format";
import { parseDuration } from "../../testing/duration";
import { storeRoot } from "../../cli/store";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: SECRET\n";
const mode = (p: string) => fs.statSync(p).mode & 0o777;

class FakeEngine implements CliEngine {
  readonly description: string;
  calls: string[] = [];
  left: unknown[] = [];
  hasStack = true;
  constructor(readonly stack: string, readonly root: string) {
    this.description = `fake engine, state in ${root}`;
  }
  async up(): Promise<Record<string, unknown>> {
    throw new Error("not used: createCluster is faked");
  }
  async selectExisting() {
    this.calls.push("selectExisting");
    return this.hasStack;
  }
  async destroy() {
    this.calls.push("destroy");
  }
  async resources() {
    return this.left as never[];
  }
  async keep(): Promise<string> {
    throw new Error("not used");
  }
  async dispose() {
    this.calls.push("dispose");
  }
}

let home: string;
let work: string;
let image: string;
let out: string;
let err: string;
let engines: FakeEngine[];
let created: CliClusterOptions[];
let detached: string[];
let destroyed: string[];
let failCreate: Error | undefined;
let reapCalls: unknown[];

const io = () => ({
  stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t),
  env: { PULUMI_KAIROS_HOME: path.join(home, "kairos-home") }, homedir: home, cwd: work,
});
const clusterDir = (name: string) => path.join(home, "kairos-home", "clusters", name);

const report: ReapReport = {
  dryRun: true,
  reaped: [{ stack: "eph-old", cluster: "eph-old", reason: "expired", objects: [{ kind: "domain", name: "eph-old-server-0" }, { kind: "network", name: "eph-old" }] }],
  kept: [{ stack: "c1", cluster: "c1" }],
};

const deps = (over: Partial<CliDeps> = {}): CliDeps => ({
  openEngine: ({ stack, root, onOutput }) => {
    onOutput("engine: opened\nengine: second line\n");
    const e = new FakeEngine(stack, root);
    engines.push(e);
    return e;
  },
  createCluster: async (o) => {
    created.push(o);
    // What the engine would leave in the cluster's folder.
    fs.mkdirSync(path.join(o.statePath!, "backend"), { recursive: true });
    o.log?.("creating nodes");
    if (failCreate) throw failCreate;
    return {
      name: o.name!, kubeconfig: KUBECONFIG, apiEndpoint: "https://10.213.4.10:6443",
      nodes: [{ name: `${o.name}-server-0`, role: "server", address: "10.213.4.10", macAddress: "52:54:00:00:00:01" } as never],
      destroy: async () => void destroyed.push(o.name!),
      detach: async () => void detached.push(o.name!),
    };
  },
  reap: async (o) => {
    reapCalls.push({ ...o, log: typeof o.log });
    o.log?.("sweeping qemu:///system");
    return report;
  },
  parseDuration,
  now: () => new Date("2026-12-02T11:00:00.000Z"),
  newName: () => "eph-0a1b2c3d",
  version: "9.9.9",
  ...over,
});

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-cli-home-"));
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-cli-work-"));
  image = path.join(work, "kairos.qcow2");
  fs.writeFileSync(image, "qcow2");
  out = "";
  err = "";
  engines = [];
  created = [];
  detached = [];
  destroyed = [];
  failCreate = undefined;
  reapCalls = [];
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe("up", () => {
  test("prints only the kubeconfig path on stdout, progress on stderr, and leaves the cluster detached in a private folder", async () => {
    expect(await runCli(["up", "--image", "kairos.qcow2", "--name", "c1", "--agents", "1", "--ttl", "30m"], io(), deps())).toBe(0);
    const dir = clusterDir("c1");
    expect(out).toBe(`${path.join(dir, "kubeconfig")}\n`);
    expect(err).toMatch(/^creating cluster c1: 1 server\(s\), 1 agent\(s\) on qemu:\/\/\/system; state in /m);
    expect(err).toMatch(/^engine: opened\nengine: second line\n/);
    expect(err).toMatch(/^creating nodes$/m);
    expect(err).toMatch(/^cluster c1 is Ready; expires 2026-12-02T11:30:00.000Z/m);
    expect(mode(path.join(home, "kairos-home", "clusters"))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, "kubeconfig"))).toBe(0o600);
    expect(mode(path.join(dir, "cluster.json"))).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, "kubeconfig"), "utf8")).toBe(KUBECONFIG);
    const record = fs.readFileSync(path.join(dir, "cluster.json"), "utf8");
    expect(record).not.toContain("SECRET");
    expect(JSON.parse(record)).toEqual({
      name: "c1", createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T11:30:00.000Z", uri: "qemu:///system", servers: 1, agents: 1,
      apiEndpoint: "https://10.213.4.10:6443", nodes: [{ name: "c1-server-0", role: "server", address: "10.213.4.10" }],
    });
    expect(detached).toEqual(["c1"]);
    expect(destroyed).toEqual([]);
    expect(engines).toHaveLength(1);
    expect(engines[0]).toMatchObject({ stack: "c1", root: dir, calls: ["dispose"] });
  });

  test("hands createEphemeralCluster the engine, the folder as statePath, the TTL, the network pool and the libvirt target", async () => {
    await runCli(["up", "--image", "kairos.qcow2", "--name", "c1", "--servers", "3", "--uri", "qemu+ssh://root@h/system", "--pool", "fast",
      "--network-pool", "10.9.0.0/16", "--vcpus", "4", "--memory", "8192", "--disk", "60", "--domain-type", "kvm"], io(), deps());
    expect(created).toHaveLength(1);
    const { log, engine, ...o } = created[0];
    expect(engine).toBe(engines[0]);
    expect(typeof log).toBe("function");
    expect(o).toEqual({
      name: "c1", image: { kind: "disk", path: image }, servers: 3, agents: 0, ttlSeconds: 7200, statePath: clusterDir("c1"), network: { cidrPool: "10.9.0.0/16" },
      target: { kind: "libvirt", uri: "qemu+ssh://root@h/system", pool: "fast", vcpus: 4, memoryMiB: 8192, diskGiB: 60, domainType: "kvm" },
    });
  });

  test("--json prints one object; without --name the cluster gets a generated one", async () => {
    expect(await runCli(["up", "--image", image, "--json"], io(), deps())).toBe(0);
    expect(JSON.parse(out)).toEqual({
      name: "eph-0a1b2c3d", kubeconfigPath: path.join(clusterDir("eph-0a1b2c3d"), "kubeconfig"), apiEndpoint: "https://10.213.4.10:6443",
      nodes: [{ name: "eph-0a1b2c3d-server-0", role: "server", address: "10.213.4.10" }], createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T13:00:00.000Z",
    });
  });

  test("a failed create whose state is empty leaves no folder; exit 1 with the error on stderr and nothing on stdout", async () => {
    failCreate = new Error("ephemeral cluster c1 failed: no lease\n(everything it made was destroyed)");
    expect(await runCli(["up", "--image", image, "--name", "c1"], io(), deps())).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(/^pulumi-kairos: ephemeral cluster c1 failed: no lease$/m);
    expect(fs.existsSync(clusterDir("c1"))).toBe(false);
    expect(detached).toEqual([]);
  });

  test("a failed create with state left keeps the folder and says how to remove it", async () => {
    failCreate = new Error("ephemeral cluster c1 failed: no lease\nand destroying ephemeral cluster c1 failed: pool gone");
    const d = deps();
    const open = d.openEngine;
    d.openEngine = (o) => Object.assign(open(o), { left: [{ type: "x:Domain", name: "c1-server-0", outputs: {} }] });
    expect(await runCli(["up", "--image", image, "--name", "c1"], io(), d)).toBe(1);
    expect(fs.existsSync(clusterDir("c1"))).toBe(true);
    expect(err).toContain(`state of c1 kept in ${clusterDir("c1")}; remove what is left with: pulumi-kairos down c1`);
  });

  test("an engine that cannot start (no Pulumi CLI) leaves no folder", async () => {
    const d = deps({ openEngine: () => { throw new Error("pulumi-kairos/testing needs the Pulumi CLI on PATH"); } });
    expect(await runCli(["up", "--image", image, "--name", "c1"], io(), d)).toBe(1);
    expect(err).toBe("pulumi-kairos: pulumi-kairos up needs the Pulumi CLI on PATH\n");
    expect(fs.existsSync(clusterDir("c1"))).toBe(false);
  });

  test("a name in use and a missing image file fail before anything is created", async () => {
    await runCli(["up", "--image", image, "--name", "c1"], io(), deps());
    err = "";
    out = "";
    expect(await runCli(["up", "--image", image, "--name", "c1"], io(), deps())).toBe(1);
    expect(err).toMatch(/^pulumi-kairos: a cluster named c1 already exists in .*; pick another --name or remove it with: pulumi-kairos down c1\n$/);
    expect(await runCli(["up", "--image", "missing.qcow2", "--name", "c2"], io(), deps())).toBe(1);
    expect(err).toContain(`image file ${path.join(work, "missing.qcow2")} does not exist (--image)`);
    expect(fs.existsSync(clusterDir("c2"))).toBe(false);
    expect(created).toHaveLength(1);
  });
});

describe("list, kubeconfig, down", () => {
  test("list shows each cluster (header only when none), and --json the records", async () => {
    expect(await runCli(["list"], io(), deps())).toBe(0);
    expect(out).toBe("NAME  SERVERS  AGENTS  API  CREATED  EXPIRES\n");
    await runCli(["up", "--image", image, "--name", "c1"], io(), deps());
    out = "";
    await runCli(["list"], io(), deps({ now: () => new Date("2026-12-02T14:00:00Z") }));
    expect(out.split("\n")[1]).toBe("c1    1        0       https://10.213.4.10:6443  2026-12-02T11:00:00Z  expired");
    out = "";
    await runCli(["list", "--json"], io(), deps());
    expect(JSON.parse(out).map((r: { name: string }) => r.name)).toEqual(["c1"]);
  });

  test("an unreadable record fails list with the file named and the way out", async () => {
    fs.mkdirSync(clusterDir("c1"), { recursive: true });
    fs.writeFileSync(path.join(clusterDir("c1"), "cluster.json"), "{");
    expect(await runCli(["list"], io(), deps())).toBe(1);
    expect(err).toMatch(new RegExp(`^pulumi-kairos: cannot read ${path.join(clusterDir("c1"), "cluster.json")} \\(.*\\); remove the cluster with: pulumi-kairos down c1\n$`));
  });

  test("kubeconfig prints the path; an unknown name exits 1 naming the clusters there are", async () => {
    await runCli(["up", "--image", image, "--name", "c1"], io(), deps());
    await runCli(["up", "--image", image, "--name", "c2"], io(), deps());
    out = "";
    err = "";
    expect(await runCli(["kubeconfig", "c2"], io(), deps())).toBe(0);
    expect(out).toBe(`${path.join(clusterDir("c2"), "kubeconfig")}\n`);
    out = "";
    expect(await runCli(["kubeconfig", "c3"], io(), deps())).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(/^pulumi-kairos: no cluster named c3 in .*; clusters: c1, c2\n$/);
  });

  test("kubeconfig of an unknown name with no clusters at all says how to make one", async () => {
    expect(await runCli(["kubeconfig", "c1"], io(), deps())).toBe(1);
    expect(err).toMatch(/there are none \(create one with pulumi-kairos up\)\n$/);
  });

  test("down reopens the stack from the cluster's folder, destroys it and removes the folder; progress on stderr", async () => {
    await runCli(["up", "--image", image, "--name", "c1"], io(), deps());
    out = "";
    err = "";
    expect(await runCli(["down", "c1"], io(), deps())).toBe(0);
    expect(out).toBe("");
    expect(engines[1]).toMatchObject({ stack: "c1", root: clusterDir("c1"), calls: ["selectExisting", "destroy", "dispose"] });
    expect(fs.existsSync(clusterDir("c1"))).toBe(false);
    expect(err).toMatch(/^destroying cluster c1 \(fake engine/m);
    expect(err).toMatch(/^cluster c1 destroyed; removed /m);
  });

  test("down of a folder without a stack (an up cut short) removes the folder; down of an unknown name exits 1", async () => {
    fs.mkdirSync(clusterDir("c1"), { recursive: true });
    const d = deps();
    const open = d.openEngine;
    d.openEngine = (o) => Object.assign(open(o), { hasStack: false });
    expect(await runCli(["down", "c1"], io(), d)).toBe(0);
    expect(engines[0].calls).toEqual(["selectExisting", "dispose"]);
    expect(fs.existsSync(clusterDir("c1"))).toBe(false);
    err = "";
    expect(await runCli(["down", "c1"], io(), deps())).toBe(1);
    expect(err).toMatch(/^pulumi-kairos: no cluster named c1 /);
  });
});

describe("reap", () => {
  test("passes the options to the reaper, prints one line per object on stdout and a summary on stderr", async () => {
    expect(await runCli(["reap", "--uri", "qemu:///session", "--dry-run", "--older-than", "3h"], io(), deps())).toBe(0);
    expect(reapCalls).toEqual([{ uri: "qemu:///session", dryRun: true, olderThanSeconds: 10_800, log: "function" }]);
    expect(out).toBe("expired eph-old/eph-old domain eph-old-server-0\nexpired eph-old/eph-old network eph-old\n");
    expect(err).toBe("sweeping qemu:///system\nwould remove 2 object(s) of 1 cluster(s); kept 1\n");
  });

  test("a CLI cluster the reaper removed is forgotten (its folder goes); --dry-run, another URI or another owner keep theirs", async () => {
    for (const name of ["eph-old", "c1"]) expect(await runCli(["up", "--image", image, "--name", name], io(), deps())).toBe(0);
    expect(await runCli(["reap", "--dry-run"], io(), deps())).toBe(0);
    expect(await runCli(["reap", "--uri", "qemu+ssh://root@other/system"], io(), deps())).toBe(0);
    expect(fs.existsSync(clusterDir("eph-old"))).toBe(true);
    err = "";
    expect(await runCli(["reap"], io(), deps())).toBe(0);
    expect(fs.existsSync(clusterDir("eph-old"))).toBe(false);
    expect(fs.existsSync(clusterDir("c1"))).toBe(true); // kept by the reaper
    expect(err).toContain(`forgot cluster eph-old: removed ${clusterDir("eph-old")}\n`);
    out = "";
    expect(await runCli(["list"], io(), deps())).toBe(0);
    expect(out.split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(["NAME", "c1"]);
  });

  test("--json prints the report; a failing reaper exits 1", async () => {
    await runCli(["reap", "--json"], io(), deps());
    expect(JSON.parse(out)).toEqual(report);
    expect(reapCalls).toEqual([{ uri: undefined, dryRun: false, olderThanSeconds: undefined, log: "function" }]);
    err = "";
    expect(await runCli(["reap"], io(), deps({ reap: async () => { throw new Error("virsh not found on PATH"); } }))).toBe(1);
    expect(err).toBe("pulumi-kairos: virsh not found on PATH\n");
  });
});

test("bad arguments: one line on stderr ending with the pointer to --help, exit 2, nothing run", async () => {
  expect(await runCli(["up", "--image", image, "--servers", "0"], io(), deps())).toBe(2);
  expect(err).toBe('pulumi-kairos: --servers "0" is not accepted; expected a whole number from 1 to 99 (pulumi-kairos --help)\n');
  expect(out).toBe("");
  expect(created).toEqual([]);
});

test("--help and --version print on stdout", async () => {
  expect(await runCli(["--help"], io(), deps())).toBe(0);
  expect(out).toMatch(/^Usage: pulumi-kairos <command> \[options\]/);
  out = "";
  expect(await runCli(["--version"], io(), deps())).toBe(0);
  expect(out).toBe("9.9.9\n");
});

test("the store is $PULUMI_KAIROS_HOME, else $XDG_STATE_HOME/pulumi-kairos, else ~/.local/state/pulumi-kairos", () => {
  expect(storeRoot({ PULUMI_KAIROS_HOME: "/a", XDG_STATE_HOME: "/b" }, "/home/u")).toBe("/a");
  expect(storeRoot({ XDG_STATE_HOME: "/b" }, "/home/u")).toBe("/b/pulumi-kairos");
  expect(storeRoot({}, "/home/u")).toBe("/home/u/.local/state/pulumi-kairos");
  expect(storeRoot({ PULUMI_KAIROS_HOME: "" }, "/home/u")).toBe("/home/u/.local/state/pulumi-kairos");
});
