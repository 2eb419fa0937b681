/**
 * L2: what an interrupted create leaves is removed by the next create on the same connection, and
 * nothing else is: real libvirtd volumes and domains, notes of real processes (a child that was
 * killed mid-create, this live process, another machine's, another connection's).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildVolumeXml } from "../../../kairos/libvirt";
import { run } from "../../../providers/exec";
import { pendingDir, readDomain, readVolume, sweepPendingCreates, whileCreating } from "../../../providers/libvirt/driver";
import { silentLog } from "../../../providers/progress";
import { LOCAL, TestPool, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";
import { privateTempDir } from "../../harness/dynamic-provider-host";

const id = runId();
let pool: TestPool;
const scratch = privateTempDir("kairos-pending-");
const dir = path.join(scratch.dir, "creating");
const opts = { dir, log: silentLog };

async function makeVolume(name: string): Promise<void> {
  const xml = path.join(scratch.dir, `${name}.xml`);
  fs.writeFileSync(xml, buildVolumeXml({ name, capacityBytes: 1024 * 1024, format: "qcow2" }));
  await run(["virsh", "-q", "-c", LOCAL.uri, "vol-create", pool.name, xml]);
}

/** A note as a process that is gone by now left it: a child notes the volume, then is killed mid-create. */
async function killedMidCreate(name: string): Promise<void> {
  const script = `
    const d = require(${JSON.stringify(path.resolve(__dirname, "../../../dist/providers/libvirt/driver.js"))});
    d.whileCreating({ uri: ${JSON.stringify(LOCAL.uri)} }, { kind: "volume", pool: ${JSON.stringify(pool.name)}, name: ${JSON.stringify(name)} },
      () => new Promise((resolve) => { process.stdout.write("creating\\n"); setTimeout(resolve, 600000); }), { dir: ${JSON.stringify(dir)} });`;
  // The built package (jest's globalSetup keeps dist/ current): the code the provider host runs.
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("the child did not start its create within 60 s")), 60_000);
    child.stdout!.on("data", (b: Buffer) => { if (b.toString().includes("creating")) { clearTimeout(t); resolve(); } });
  });
  await makeVolume(name); // what libvirt had made when the process died
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
}

beforeAll(async () => {
  await ensureLibvirtd();
  pool = await createTestPool(LOCAL, `${id}-pool`);
}, 60_000);

afterAll(async () => {
  await pool?.remove();
  scratch.remove();
  expect(await leftovers(LOCAL, id)).toEqual([]);
}, 60_000);

describe("interrupted creates", () => {
  test("the notes live in the user's state folder unless PULUMI_KAIROS_STATE_DIR says otherwise", () => {
    expect(pendingDir({ PULUMI_KAIROS_STATE_DIR: "/x" })).toBe("/x/creating");
    expect(pendingDir({ XDG_STATE_HOME: "/s" })).toBe("/s/pulumi-kairos/creating");
    expect(pendingDir({})).toBe(path.join(os.homedir(), ".local", "state", "pulumi-kairos", "creating"));
  });

  test("a volume whose create was killed is removed by the next create on the connection; its note goes too", async () => {
    await killedMidCreate(`${id}-orphan`);
    expect(await readVolume(LOCAL, pool.name, `${id}-orphan`)).toBeDefined();
    const notes = fs.readdirSync(dir);
    expect(notes).toHaveLength(1);
    expect(fs.statSync(path.join(dir, notes[0])).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);

    await whileCreating(LOCAL, { kind: "volume", pool: pool.name, name: `${id}-next` }, () => makeVolume(`${id}-next`), opts);
    expect(await readVolume(LOCAL, pool.name, `${id}-orphan`)).toBeUndefined();
    expect(await readVolume(LOCAL, pool.name, `${id}-next`)).toBeDefined(); // the one that finished stays
    expect(fs.readdirSync(dir)).toEqual([]);
    await run(["virsh", "-q", "-c", LOCAL.uri, "vol-delete", "--pool", pool.name, `${id}-next`]);
  }, 120_000);

  test("a killed domain create: the domain is stopped and undefined by the next sweep", async () => {
    const name = `${id}-orphan-vm`;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A note of a process that existed and is gone (a real child, exited), for a domain that runs.
    const child = spawn("true");
    await new Promise((r) => child.on("exit", r));
    fs.writeFileSync(path.join(dir, "vm.json"), JSON.stringify({ object: { kind: "domain", name }, uri: LOCAL.uri, host: os.hostname(), pid: child.pid, at: "then" }), { mode: 0o600 });
    const xml = path.join(scratch.dir, "vm.xml");
    fs.writeFileSync(xml, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    await run(["virsh", "-q", "-c", LOCAL.uri, "define", xml]);
    await run(["virsh", "-q", "-c", LOCAL.uri, "start", name]);
    expect((await readDomain(LOCAL, name))?.state).toBe("running");
    expect(await sweepPendingCreates(LOCAL, opts)).toEqual([`domain '${name}'`]);
    expect(await readDomain(LOCAL, name)).toBeUndefined();
  }, 60_000);

  test("notes of a live process, of another machine or of another connection are left alone", async () => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await makeVolume(`${id}-live`);
    const write = (f: string, note: object) => fs.writeFileSync(path.join(dir, f), JSON.stringify(note), { mode: 0o600 });
    const object = { kind: "volume", pool: pool.name, name: `${id}-live` };
    write("live.json", { object, uri: LOCAL.uri, host: os.hostname(), pid: process.pid, at: "now" });
    write("other-host.json", { object, uri: LOCAL.uri, host: `${os.hostname()}-elsewhere`, pid: 1 << 30, at: "now" });
    write("other-uri.json", { object, uri: "qemu+ssh://root@192.0.2.1/system", host: os.hostname(), pid: 1 << 30, at: "now" });
    expect(await sweepPendingCreates(LOCAL, opts)).toEqual([]);
    expect(await readVolume(LOCAL, pool.name, `${id}-live`)).toBeDefined();
    expect(fs.readdirSync(dir).sort()).toEqual(["live.json", "other-host.json", "other-uri.json"]);
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    await run(["virsh", "-q", "-c", LOCAL.uri, "vol-delete", "--pool", pool.name, `${id}-live`]);
  }, 60_000);

  test("a create that fails leaves no note; an object that exists already is someone else's: never noted", async () => {
    await expect(whileCreating(LOCAL, { kind: "volume", pool: pool.name, name: `${id}-fails` }, async () => { throw new Error("no space"); }, opts)).rejects.toThrow("no space");
    expect(fs.readdirSync(dir)).toEqual([]);
    await makeVolume(`${id}-theirs`);
    let notesDuring: string[] = [];
    await whileCreating(LOCAL, { kind: "volume", pool: pool.name, name: `${id}-theirs` }, async () => { notesDuring = fs.readdirSync(dir); }, opts);
    expect(notesDuring).toEqual([]);
    await run(["virsh", "-q", "-c", LOCAL.uri, "vol-delete", "--pool", pool.name, `${id}-theirs`]);
  }, 60_000);
});
