/**
 * L2 over the remote path: the driver through `qemu+ssh://root@127.0.0.1:<port>/system` with an
 * sshd this test starts on 127.0.0.1 (own host key, generated client key, own config). Pool, volume
 * upload (vol-upload through the ssh tunnel), network, domain define/start/read/delete, the address
 * wait, and the serial console read back over the same ssh.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { physicalName } from "../../../kairos/names";
import {
  Connection, checkConnection, createCidataVolume, createDomain, createNetwork, createNodeDisk, deleteDomain, deleteNetwork, deletePool,
  deleteVolume, ensureDirPool, importBaseImage, readDomain, readVolume, serialLogPath, serialTail, waitForAddress,
} from "../../../providers/libvirt/driver";
import { buildStandInGuest } from "../../fixtures/standin-guest/build";
import { parseStandInConsole } from "../../fixtures/standin-guest/console";
import { LOCAL, REPO_ROOT, ensureLibvirtd, leftovers, runId } from "./env";
import { TestSshd, startTestSshd } from "./sshd";

const id = runId();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-remote-test-"));
const knownHosts = path.join(os.homedir(), ".ssh", "known_hosts");
const knownHostsBefore = fs.existsSync(knownHosts) ? fs.readFileSync(knownHosts) : undefined;
let sshd: TestSshd | undefined;
let remote: Connection;
const poolName = `${id}-rpool`;
const poolDir = path.join(REPO_ROOT, "test", ".work", "libvirt", poolName);
const netName = `${id}-rnet`;
const vm = physicalName(["remote", id, "n1"]);
const vols = { base: `${id}-rbase`, disk: `${id}-rdisk`, cidata: `${id}-rcidata` };

beforeAll(async () => {
  await ensureLibvirtd();
  sshd = await startTestSshd(path.join(dir, "sshd"));
  remote = { uri: `qemu+ssh://root@127.0.0.1:${sshd.port}/system?keyfile=${sshd.clientKey}&no_verify=1` };
}, 60_000);

afterAll(async () => {
  if (remote) {
    await deleteDomain(remote, vm, { serialLogFile: serialLogPath(vm) }).catch(() => undefined);
    for (const v of Object.values(vols)) await deleteVolume(LOCAL, poolName, v).catch(() => undefined);
    await deleteNetwork(LOCAL, netName).catch(() => undefined);
    await deletePool(LOCAL, poolName).catch(() => undefined);
  }
  await sshd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(poolDir, { recursive: true, force: true });
  // no_verify still makes ssh record the test host key: put root's known_hosts back as it was.
  if (knownHostsBefore === undefined) fs.rmSync(knownHosts, { force: true });
  else fs.writeFileSync(knownHosts, knownHostsBefore);
  expect(await leftovers(LOCAL, id)).toEqual([]);
  expect(fs.existsSync(serialLogPath(vm))).toBe(false);
}, 120_000);

test("the driver works end to end over qemu+ssh to an sshd on 127.0.0.1", async () => {
  await checkConnection(remote);
  fs.mkdirSync(poolDir, { recursive: true, mode: 0o711 });
  await ensureDirPool(remote, poolName, poolDir);

  const guest = await buildStandInGuest();
  const base = await importBaseImage(remote, { pool: poolName, name: vols.base, source: { kind: "file", path: guest.diskImage } });
  expect(base.volume.path).toBe(path.join(poolDir, vols.base));
  expect(base.volume.format).toBe("raw");
  await createNodeDisk(remote, { pool: poolName, name: vols.disk, capacityBytes: 64 * 1024 * 1024, base: { pool: poolName, name: vols.base } });
  const userData = "#cloud-config\nhostname: remote1\nusers:\n- name: kairos\n";
  const cidata = await createCidataVolume(remote, { pool: poolName, name: vols.cidata, content: { userData } });
  await createNetwork(remote, { name: netName, mode: "isolated", cidr: "10.215.3.0/24", owner: { stack: "remote", cluster: id } });

  const info = await createDomain(remote, {
    name: vm, type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 256,
    disk: { pool: poolName, volume: vols.disk }, cidata: { pool: poolName, volume: vols.cidata },
    network: netName, serialLogFile: serialLogPath(vm), owner: { stack: "remote", cluster: id, node: "n1" },
  });
  expect(info.state).toBe("running");
  expect((await readDomain(remote, vm))?.uuid).toBe(info.uuid);

  const addr = await waitForAddress(remote, vm, { timeoutMs: 120_000, serialLogFile: serialLogPath(vm) });
  expect(addr.address).toMatch(/^10\.215\.3\.\d+$/);
  // Read over ssh (`tail` on the hypervisor host), not from the local file.
  const tail = await serialTail(remote, serialLogPath(vm), 400);
  expect(parseStandInConsole(tail).userDataSha256).toBe(cidata.userDataSha256);

  await deleteDomain(remote, vm, { serialLogFile: serialLogPath(vm) });
  expect(await readDomain(remote, vm)).toBeUndefined();
  expect(fs.existsSync(serialLogPath(vm))).toBe(false); // removed over ssh
  for (const v of Object.values(vols)) await deleteVolume(remote, poolName, v);
  expect(await readVolume(remote, poolName, vols.base)).toBeUndefined();
  await deleteNetwork(remote, netName);
  await deletePool(remote, poolName);
}, 240_000);
