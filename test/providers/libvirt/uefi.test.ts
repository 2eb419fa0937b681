/** L2: a UEFI domain gets an nvram file from the OVMF template, and delete removes it (libvirt pain point #1203). */
import * as fs from "fs";
import { physicalName } from "../../../kairos/names";
import { checkOvmf, createDomain, createNodeDisk, deleteDomain, readDomain, serialLogPath } from "../../../providers/libvirt/driver";
import { LOCAL, TestPool, createTestNetwork, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";

const id = runId();
let pool: TestPool | undefined;
let net: { name: string; remove(): Promise<void> } | undefined;
const name = physicalName(["test", id, "uefi"]);
const nvram = `/var/lib/libvirt/qemu/nvram/${name}_VARS.fd`;

beforeAll(async () => {
  await ensureLibvirtd();
  await checkOvmf(LOCAL, "qemu", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd");
  pool = await createTestPool(LOCAL, `${id}-pool`);
  net = await createTestNetwork(LOCAL, `${id}-net`);
}, 60_000);

afterAll(async () => {
  await deleteDomain(LOCAL, name, { serialLogFile: serialLogPath(name) }).catch(() => undefined);
  await net?.remove();
  await pool?.remove();
  expect(await leftovers(LOCAL, id)).toEqual([]);
  expect(fs.existsSync(nvram)).toBe(false);
});

test("a UEFI domain starts with its own nvram, and delete removes domain, nvram and serial log", async () => {
  await createNodeDisk(LOCAL, { pool: pool!.name, name: `${id}-disk`, capacityBytes: 64 * 1024 * 1024 });
  const info = await createDomain(LOCAL, {
    name, type: "qemu", firmware: "uefi", vcpus: 1, memoryMiB: 256, disk: { pool: pool!.name, volume: `${id}-disk` },
    network: net!.name, serialLogFile: serialLogPath(name), owner: { stack: "test", cluster: id, node: "uefi" },
  });
  expect(info.state).toBe("running");
  expect(fs.existsSync(nvram)).toBe(true);
  await deleteDomain(LOCAL, name, { serialLogFile: serialLogPath(name) });
  expect(await readDomain(LOCAL, name)).toBeUndefined();
  expect(fs.existsSync(nvram)).toBe(false);
  expect(fs.existsSync(serialLogPath(name))).toBe(false);
}, 60_000);
