/**
 * Base volumes holding a chosen amount of real data, for the node-disk benchmark: a qcow2 of fixed
 * virtual size with the first `dataBytes` written with a byte pattern by `qemu-io` (allocated
 * clusters, not a sparse hole), imported through the driver's own `importBaseImage` (vol-upload).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../../providers/exec";
import { VolumeInfo, importBaseImage } from "../../providers/libvirt/driver";
import { which } from "../../test/providers/libvirt/tools";
import { Lab } from "./lab";

const QEMU_UTILS_HINT = "apt-get install qemu-utils";

/** Pure: the `qemu-img create` argv for a qcow2 of `virtualBytes`. */
export function qemuImgCreateArgv(file: string, virtualBytes: number): string[] {
  return ["qemu-img", "create", "-q", "-f", "qcow2", file, String(virtualBytes)];
}

/** Pure: the `qemu-io` argv writing byte `pattern` over [0, dataBytes). */
export function qemuIoWriteArgv(file: string, dataBytes: number, pattern = 0xab): string[] {
  return ["qemu-io", "-f", "qcow2", "-c", `write -q -P 0x${pattern.toString(16)} 0 ${dataBytes}`, file];
}

/**
 * Builds the image in a private temp dir (0700, removed afterwards), imports it as volume `name`,
 * and checks that the pool really holds at least `dataBytes` for it.
 */
export async function createDataBase(lab: Lab, name: string, virtualBytes: number, dataBytes: number): Promise<VolumeInfo> {
  if (dataBytes > virtualBytes) throw new Error(`createDataBase: dataBytes ${dataBytes} exceeds virtualBytes ${virtualBytes}`);
  for (const tool of ["qemu-img", "qemu-io"]) if (!which(tool)) throw new Error(`${tool} not found; ${QEMU_UTILS_HINT}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${lab.id}-base-`));
  try {
    const file = path.join(dir, `${name}.qcow2`);
    await run(qemuImgCreateArgv(file, virtualBytes), { timeoutMs: 60_000, installHint: QEMU_UTILS_HINT });
    await run(qemuIoWriteArgv(file, dataBytes), { timeoutMs: 300_000, installHint: QEMU_UTILS_HINT });
    const { volume } = await importBaseImage(lab.conn, { pool: lab.pool.name, name, source: { kind: "file", path: file } });
    if (volume.allocationBytes < dataBytes) {
      throw new Error(`base volume ${name} holds ${volume.allocationBytes} bytes, expected at least ${dataBytes}; the data did not reach the pool`);
    }
    return volume;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
