/**
 * The libvirt benches' own pieces: the pure helpers (median, milestones, the stand-in user-data,
 * the qemu-img/qemu-io argv) and, for real, that the qemu-io write really allocates the data the
 * disk bench claims its base holds (a sparse base would make the 1 GiB vs 10 MiB comparison void).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { median } from "../../bench/libvirt";
import { qemuImgCreateArgv, qemuIoWriteArgv } from "../../bench/libvirt/bases";
import { NodeTimeline, kernelPanic, latest, standInUserData } from "../../bench/libvirt/nodes";
import { run } from "../../providers/exec";
import { qemuImgInfo } from "../../providers/libvirt/driver";
import { parseStandInConsole } from "../fixtures/standin-guest/console";
import { which } from "../providers/libvirt/tools";

describe("bench helpers (pure)", () => {
  test.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1000, 10, 10], 10],
  ])("median of %j is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  test("median of nothing is an error, not NaN", () => {
    expect(() => median([])).toThrow("median: no values");
  });

  test("a run's milestone is its slowest node's; a missing milestone is an error", () => {
    const nodes: NodeTimeline[] = [
      { node: "a", volumesMs: 10, startedMs: 50, addressMs: 900 },
      { node: "b", volumesMs: 30, startedMs: 40, addressMs: 1200 },
    ];
    expect(latest(nodes, "startedMs")).toBe(50);
    expect(latest(nodes, "addressMs")).toBe(1200);
    expect(() => latest(nodes, "sshMs")).toThrow("latest: milestone sshMs missing on some node");
  });

  test("the stand-in user-data has the #cloud-config header, the hostname and the admin user with the key", () => {
    const text = standInUserData("cp1", "ssh-ed25519 AAAAkey bench");
    expect(text.split("\n")[0]).toBe("#cloud-config");
    expect(text).toContain("hostname: cp1\n");
    expect(text).toContain("users:\n- name: kairos\n  ssh_authorized_keys:\n  - ssh-ed25519 AAAAkey bench\n");
    // What the guest would print for it parses back with the fixture's own console reader.
    expect(parseStandInConsole("STANDIN hostname=cp1\nSTANDIN admin=kairos keys=1\nSTANDIN ready\n")).toMatchObject({ hostname: "cp1", admin: "kairos", ready: true });
  });

  test("a kernel panic on the console is found with its reason; a clean boot has none", () => {
    const panic =
      "[    0.088000] Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option. ]---\r\n";
    expect(kernelPanic("SeaBIOS\r\n" + panic)).toBe(
      "guest kernel panic: IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option.",
    );
    expect(kernelPanic("[    1.0] Run /init as init process\nSTANDIN boot 6.1.0-56-amd64\nSTANDIN ready\n")).toBeUndefined();
  });

  test("qemu-img and qemu-io argv", () => {
    expect(qemuImgCreateArgv("/w/b.qcow2", 2147483648)).toEqual(["qemu-img", "create", "-q", "-f", "qcow2", "/w/b.qcow2", "2147483648"]);
    expect(qemuIoWriteArgv("/w/b.qcow2", 10485760)).toEqual(["qemu-io", "-f", "qcow2", "-c", "write -q -P 0xab 0 10485760", "/w/b.qcow2"]);
  });
});

describe("base image data (real qemu-img and qemu-io)", () => {
  let dir: string;
  beforeAll(() => {
    for (const t of ["qemu-img", "qemu-io"]) if (!which(t)) throw new Error(`${t} not found; apt-get install qemu-utils`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-bench-test-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the written range is allocated on disk and holds the pattern; the rest stays a hole", async () => {
    const file = path.join(dir, "b.qcow2");
    await run(qemuImgCreateArgv(file, 64 * 1024 * 1024));
    const empty = await qemuImgInfo(file);
    await run(qemuIoWriteArgv(file, 8 * 1024 * 1024));
    const full = await qemuImgInfo(file);
    expect(full.virtualSize).toBe(64 * 1024 * 1024);
    expect(full.actualSize! - empty.actualSize!).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(full.actualSize!).toBeLessThan(16 * 1024 * 1024);
    // Read back: the pattern is there at the end of the range, and zeroes after it.
    const inside = await run(["qemu-io", "-f", "qcow2", "-c", `read -P 0xab ${8 * 1024 * 1024 - 4096} 4096`, file]);
    expect(inside.stdout + inside.stderr).not.toMatch(/Pattern verification failed/);
    const outside = await run(["qemu-io", "-f", "qcow2", "-c", `read -P 0x00 ${8 * 1024 * 1024} 4096`, file]);
    expect(outside.stdout + outside.stderr).not.toMatch(/Pattern verification failed/);
    const wrong = await run(["qemu-io", "-f", "qcow2", "-c", `read -P 0xcd 0 4096`, file], { allowFailure: true });
    expect(wrong.stdout + wrong.stderr).toMatch(/Pattern verification failed/);
  });
});
