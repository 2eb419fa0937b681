/** L2: the driver's volume, network and pre-flight paths against the real libvirtd. */
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { convert } from "xmlbuilder2";
import { run } from "../../../providers/exec";
import {
  bridgeNameFor,
} from "../../../kairos/libvirt";
import {
  checkConnection, checkOvmf, checkPool, checkQemuImg, checkReadable, createCidataVolume, createDomain, createNodeDisk, deleteDomain, deleteNetwork,
  deleteVolume, detectDomainType, downloadVolume, updateDhcpHosts, createNetwork, importBaseImage, qemuImgInfo, readDomain, readNetwork, readVolume, sha256File,
} from "../../../providers/libvirt/driver";
import { LOCAL, TestPool, createTestNetwork, createTestPool, ensureLibvirtd, leftovers, runId } from "./env";
import { readIso, tmpEntries } from "./tools";

const MiB = 1024 * 1024;
const id = runId();
let pool: TestPool;
let work: string;
let baseFile: string;

beforeAll(async () => {
  await ensureLibvirtd();
  pool = await createTestPool(LOCAL, `${id}-pool`);
  work = fs.mkdtempSync(path.join(pool.dir, "..", `${id}-files-`));
  baseFile = path.join(work, "base.qcow2");
  await run(["qemu-img", "create", "-q", "-f", "qcow2", baseFile, "64M"]);
});

afterAll(async () => {
  await pool?.remove();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  expect(await leftovers(LOCAL, id)).toEqual([]);
});

describe("base image volumes", () => {
  test("a local qcow2 is uploaded with its format and digest", async () => {
    const r = await importBaseImage(LOCAL, { pool: pool.name, name: `${id}-base`, source: { kind: "file", path: baseFile } });
    expect(r.format).toBe("qcow2");
    expect(r.sha256).toBe(await sha256File(baseFile));
    expect(r.volume.format).toBe("qcow2");
    expect(r.volume.capacityBytes).toBe(64 * MiB);
    expect(r.volume.path).toBe(path.join(pool.dir, `${id}-base`));
    expect(await sha256File(r.volume.path)).toBe(r.sha256); // the pool holds exactly the uploaded bytes
  });

  test("importing onto an existing name is refused", async () => {
    await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-base`, source: { kind: "file", path: baseFile } })).rejects.toThrow(
      `volume '${id}-base' already exists in pool '${pool.name}' on qemu:///system; delete it or choose another name`,
    );
  });

  test("an unreadable path fails naming source.path and leaves nothing", async () => {
    await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-nope`, source: { kind: "file", path: "/nonexistent/img.qcow2" } })).rejects.toThrow(
      /^source.path: '\/nonexistent\/img.qcow2' is not readable by this process \(uid \d+\): ENOENT/,
    );
    expect(await readVolume(LOCAL, pool.name, `${id}-nope`)).toBeUndefined();
  });

  test("a qcow2 overlay as base image is refused before any volume is made", async () => {
    const overlay = path.join(work, "overlay.qcow2");
    await run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", baseFile, overlay]);
    await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-ovl`, source: { kind: "file", path: overlay } })).rejects.toThrow(/is a qcow2 overlay/);
    expect(await readVolume(LOCAL, pool.name, `${id}-ovl`)).toBeUndefined();
  });

  test("a corrupt image (qcow2 magic, garbage header) fails in qemu-img and creates no volume", async () => {
    const bad = path.join(work, "corrupt.qcow2");
    fs.writeFileSync(bad, Buffer.concat([Buffer.from("QFI\xfb", "latin1"), Buffer.alloc(4096, 0xff)]));
    await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-corrupt`, source: { kind: "file", path: bad } })).rejects.toThrow(/qemu-img info -U --output=json/);
    expect(await readVolume(LOCAL, pool.name, `${id}-corrupt`)).toBeUndefined();
  });

  test("a URL source is streamed from 127.0.0.1 and verified by sha256 or by a checksum file; a wrong digest uploads nothing", async () => {
    const server = http.createServer((req, res) => {
      if (req.url === "/base.qcow2") fs.createReadStream(baseFile).pipe(res);
      else if (req.url === "/slow.qcow2") {
        // Dribbled out over about 2 s, so the download reports its progress on the way.
        const data = fs.readFileSync(baseFile);
        res.setHeader("content-length", String(data.length));
        const chunks = 10;
        let i = 0;
        const step = () => {
          const part = data.subarray(Math.floor((i * data.length) / chunks), Math.floor(((i + 1) * data.length) / chunks));
          i++;
          if (i < chunks) res.write(part, () => setTimeout(step, 200));
          else res.end(part);
        };
        step();
      }
      // As Kairos releases publish it: the path the release job hashed, not the asset name.
      else if (req.url === "/base.qcow2.sha256") sha256File(baseFile).then((d) => res.end(`${d}  artifacts/base.qcow2\n`));
      else if (req.url === "/other.sha256") res.end(`${"1".repeat(64)}  artifacts/other.iso\n`);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base.qcow2`;
      const sha = await sha256File(baseFile);
      const before = tmpEntries("kairos-image-");
      const progress: string[] = [];
      const slow = url.replace("base.qcow2", "slow.qcow2");
      const ok = await importBaseImage(LOCAL, {
        pool: pool.name, name: `${id}-url`, source: { kind: "url", url: slow, sha256: sha },
        progressEveryMs: 400, log: { info: (l) => progress.push(l), warn: (l) => progress.push(l) },
      });
      // Bytes, total and rate while it downloads, never a secret.
      const downloading = progress.filter((l) => l.startsWith(`downloading ${slow}: `));
      expect(downloading.length).toBeGreaterThanOrEqual(2);
      for (const l of downloading) expect(l).toMatch(/: [\d.]+ (B|KiB|MiB) of [\d.]+ (KiB|MiB) \(\d+%\), [\d.]+ (B|KiB|MiB)\/s$/);
      expect(ok.format).toBe("qcow2");
      expect(ok.sha256).toBe(sha);
      const wrong = "0".repeat(64);
      await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-bad`, source: { kind: "url", url, sha256: wrong } })).rejects.toThrow(
        `download of ${url}: sha256 ${sha} does not match the expected ${wrong}; refusing to use it`,
      );
      await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-404`, source: { kind: "url", url: url + "x", sha256: sha } })).rejects.toThrow(/HTTP 404/);
      expect(await readVolume(LOCAL, pool.name, `${id}-bad`)).toBeUndefined();
      expect(tmpEntries("kairos-image-")).toEqual(before);
      await deleteVolume(LOCAL, pool.name, `${id}-url`);
      const viaSums = await importBaseImage(LOCAL, { pool: pool.name, name: `${id}-sums`, source: { kind: "url", url, checksumUrl: `${url}.sha256` } });
      expect(viaSums.sha256).toBe(sha);
      await deleteVolume(LOCAL, pool.name, `${id}-sums`);
      const base = url.replace(/\/base\.qcow2$/, "");
      await expect(importBaseImage(LOCAL, { pool: pool.name, name: `${id}-othersums`, source: { kind: "url", url, checksumUrl: `${base}/other.sha256` } })).rejects.toThrow(
        "checksum file names other.iso but not base.qcow2; refusing to verify base.qcow2 against another file's digest",
      );
      expect(await readVolume(LOCAL, pool.name, `${id}-othersums`)).toBeUndefined();
    } finally {
      server.close();
    }
  });
});

describe("node disks", () => {
  test("a node disk is a small qcow2 overlay backed by the base, at least the requested size", async () => {
    const v = await createNodeDisk(LOCAL, { pool: pool.name, name: `${id}-disk1`, capacityBytes: 1024 * MiB, base: { pool: pool.name, name: `${id}-base` } });
    expect(v.capacityBytes).toBe(1024 * MiB);
    const info = await qemuImgInfo(v.path);
    expect(info.format).toBe("qcow2");
    expect(info.backingFilename).toBe(path.join(pool.dir, `${id}-base`));
    expect(info.actualSize!).toBeLessThan(2 * MiB);
  });

  test("a requested size below the base's grows to the base's", async () => {
    const v = await createNodeDisk(LOCAL, { pool: pool.name, name: `${id}-disk2`, capacityBytes: MiB, base: { pool: pool.name, name: `${id}-base` } });
    expect(v.capacityBytes).toBe(64 * MiB);
  });

  test("without a base it is an empty qcow2 (ISO-install mode)", async () => {
    const v = await createNodeDisk(LOCAL, { pool: pool.name, name: `${id}-empty`, capacityBytes: 256 * MiB });
    const info = await qemuImgInfo(v.path);
    expect(info.backingFilename).toBeUndefined();
    expect(info.virtualSize).toBe(256 * MiB);
  });

  test("a missing base is named", async () => {
    await expect(createNodeDisk(LOCAL, { pool: pool.name, name: `${id}-d3`, capacityBytes: MiB, base: { pool: pool.name, name: "nosuch" } })).rejects.toThrow(
      `base: volume 'nosuch' not found in pool '${pool.name}' on qemu:///system`,
    );
  });

  test("delete is idempotent and read reports the volume gone", async () => {
    await deleteVolume(LOCAL, pool.name, `${id}-disk2`);
    expect(await readVolume(LOCAL, pool.name, `${id}-disk2`)).toBeUndefined();
    await expect(deleteVolume(LOCAL, pool.name, `${id}-disk2`)).resolves.toBeUndefined();
  });
});

describe("cidata volumes", () => {
  test("the uploaded volume downloads back as an ISO labelled cidata with the user-data", async () => {
    const before = tmpEntries("kairos-cidata");
    const userData = "#cloud-config\nhostname: n1\n";
    const r = await createCidataVolume(LOCAL, { pool: pool.name, name: `${id}-cidata`, content: { userData, instanceId: "n1" } });
    expect(r.userDataSha256).toMatch(/^[0-9a-f]{64}$/);
    // The seed holds secrets: libvirt creates the volume file readable by its owner only.
    expect(fs.statSync(r.volume.path).mode & 0o077).toBe(0);
    expect(tmpEntries("kairos-cidata")).toEqual(before);
    const back = path.join(work, "back.iso");
    await downloadVolume(LOCAL, pool.name, `${id}-cidata`, back);
    const iso = await readIso(back, ["user-data", "meta-data"]);
    expect(iso.volumeId).toBe("cidata");
    expect(iso.files["user-data"]).toBe(userData);
    expect(iso.files["meta-data"]).toBe("instance-id: n1\n");
  });

  test("eight cidata volumes uploaded into one pool at once all land (pulumi up creates them concurrently)", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `${id}-par${i}`);
    try {
      const made = await Promise.all(names.map((name, i) =>
        createCidataVolume(LOCAL, { pool: pool.name, name, content: { userData: `#cloud-config\nhostname: p${i}\n`, instanceId: `p${i}` } })));
      expect(new Set(made.map((m) => m.userDataSha256)).size).toBe(8);
      for (const name of names) expect(await readVolume(LOCAL, pool.name, name)).toBeDefined();
    } finally {
      for (const name of names) await deleteVolume(LOCAL, pool.name, name);
    }
  });
});

describe("absence is what libvirt says, nothing else", () => {
  const broken = { uri: "qemu+ssh://root@127.0.0.1:1/system?no_verify=1" }; // nothing listens on port 1

  test("a domain, network or volume that does not exist reads as undefined, by name or UUID", async () => {
    expect(await readDomain(LOCAL, `${id}-no-such-domain`)).toBeUndefined();
    expect(await readDomain(LOCAL, "00000000-0000-4000-8000-000000000001")).toBeUndefined();
    expect(await readNetwork(LOCAL, `${id}-no-such-net`)).toBeUndefined();
    expect(await readVolume(LOCAL, pool.name, `${id}-no-such-vol`)).toBeUndefined();
    await expect(deleteDomain(LOCAL, "00000000-0000-4000-8000-000000000001")).resolves.toBeUndefined();
  });

  test("a connection that fails is an error naming the URI, never 'not found' (refresh would drop live objects)", async () => {
    for (const attempt of [() => readDomain(broken, "x"), () => readNetwork(broken, "x"), () => readVolume(broken, "p", "x"), () => deleteDomain(broken, "x")]) {
      await expect(attempt()).rejects.toThrow(/virsh -q -c 'qemu\+ssh:\/\/root@127\.0\.0\.1:1\/system\?no_verify=1'[\s\S]*failed to connect to the hypervisor/);
    }
  }, 60_000);
});

describe("networks", () => {
  test("an isolated network is created active with its derived bridge and no autostart, and deleted idempotently", async () => {
    const net = await createTestNetwork(LOCAL, `${id}-net`);
    const n = await readNetwork(LOCAL, net.name);
    expect(n).toEqual({ name: net.name, uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), active: true, bridge: bridgeNameFor(net.name), autostart: false, persistent: true });
    expect(await readNetwork(LOCAL, n!.uuid)).toEqual(n); // by UUID too
    const xml = (await run(["virsh", "-c", LOCAL.uri, "net-dumpxml", net.name])).stdout;
    expect(xml).not.toContain("<forward");
    await net.remove();
    expect(await readNetwork(LOCAL, net.name)).toBeUndefined();
    await expect(deleteNetwork(LOCAL, net.name)).resolves.toBeUndefined();
  });

  test("DHCP reservations are created with the network and changed in place, running and persistent", async () => {
    const name = `${id}-resv`;
    const cidr = `10.213.${1 + (Number(process.hrtime.bigint() % 250n))}.0/24`;
    const prefix = cidr.replace(/0\/24$/, "");
    const host = (n: number) => ({ mac: `52:54:00:aa:bb:${n.toString(16).padStart(2, "0")}`, ip: `${prefix}${10 + n}`, name: `node-${n}` });
    await createNetwork(LOCAL, { name, mode: "isolated", cidr, hosts: [host(0), host(1)], owner: { stack: "test", cluster: id } });
    try {
      const hostsIn = async (flags: string[]) => [...(await run(["virsh", "-c", LOCAL.uri, "net-dumpxml", name, ...flags])).stdout.matchAll(/<host mac='([^']+)' name='([^']+)' ip='([^']+)'\/>/g)].map((m) => m[2]);
      expect(await hostsIn([])).toEqual(["node-0", "node-1"]);
      await updateDhcpHosts(LOCAL, name, { add: [host(2)], remove: [host(0)] });
      expect(await hostsIn([])).toEqual(["node-1", "node-2"]); // running
      expect(await hostsIn(["--inactive"])).toEqual(["node-1", "node-2"]); // persistent
    } finally {
      await deleteNetwork(LOCAL, name);
    }
  });
});

describe("domains that fail part-way", () => {
  test("a domain whose network does not exist is defined, fails to start, and is removed again", async () => {
    const name = `${id}-broken`;
    await expect(
      createDomain(LOCAL, {
        name, type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 64,
        disk: { pool: pool.name, volume: `${id}-empty` }, network: `${id}-nonet`,
        serialLogFile: `/var/log/libvirt/qemu/${name}-serial.log`, owner: { stack: "test", cluster: id, node: "broken" },
      }),
    ).rejects.toThrow(/failed with exit code 1: virsh -q -c qemu:\/\/\/system start/);
    expect(await readDomain(LOCAL, name)).toBeUndefined();
  });
});

describe("ISO-install mode", () => {
  test("libvirt accepts the domain with an empty disk first and the ISO second in boot order", async () => {
    const name = `${id}-isomode`;
    const net = await createTestNetwork(LOCAL, `${id}-isonet`);
    try {
      await createDomain(LOCAL, {
        name, type: "qemu", firmware: "bios", vcpus: 1, memoryMiB: 64,
        disk: { pool: pool.name, volume: `${id}-empty` }, cidata: { pool: pool.name, volume: `${id}-cidata` },
        installIso: { pool: pool.name, volume: `${id}-cidata` }, network: net.name,
        serialLogFile: `/var/log/libvirt/qemu/${name}-serial.log`, owner: { stack: "test", cluster: id, node: "iso" },
      });
      const live = (await run(["virsh", "-c", LOCAL.uri, "dumpxml", name])).stdout;
      const disks = (convert(live, { format: "object" }) as any).domain.devices.disk as any[];
      const boots = disks.map((d) => [d.target["@dev"], d.boot?.["@order"]]);
      expect(boots).toEqual([["vda", "1"], ["sda", undefined], ["sdb", "2"]]);
    } finally {
      await deleteDomain(LOCAL, name, { serialLogFile: `/var/log/libvirt/qemu/${name}-serial.log` });
      await net.remove();
    }
    expect(await readDomain(LOCAL, name)).toBeUndefined();
  });
});

describe("pre-flight", () => {
  test("an unreachable libvirtd is reported with how to fix it", async () => {
    await expect(checkConnection({ uri: "qemu+ssh://root@127.0.0.1:1/system?no_verify=1" })).rejects.toThrow(
      /^libvirtd unreachable at qemu\+ssh:\/\/root@127.0.0.1:1\/system\?no_verify=1: .*; check that the host is reachable over ssh/,
    );
    await expect(checkConnection(LOCAL)).resolves.toBeUndefined();
  });

  test("a local libvirtd that does not answer is reported with how to start it", async () => {
    await expect(checkConnection({ uri: "qemu:///system?socket=/nonexistent/libvirt-sock" })).rejects.toThrow(
      /^libvirtd unreachable at qemu:\/\/\/system\?socket=\/nonexistent\/libvirt-sock: .*; start it with `systemctl start libvirtd virtlogd` \(or, without systemd, `libvirtd -d && virtlogd -d`\)$/,
    );
  });

  test("missing virsh and qemu-img are reported with the packages to install", async () => {
    await expect(checkConnection({ uri: LOCAL.uri, virsh: "/nonexistent/virsh" })).rejects.toThrow("virsh not found on PATH; apt-get install libvirt-clients qemu-utils");
    const path0 = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(checkQemuImg()).rejects.toThrow(/^qemu-img not found on PATH; apt-get install qemu-utils/);
    } finally {
      process.env.PATH = path0;
    }
  });

  test("a missing pool names the pool and how to create it", async () => {
    await expect(checkPool(LOCAL, `${id}-nopool`)).rejects.toThrow(`storage pool '${id}-nopool' not found on qemu:///system; create it, e.g. virsh -c qemu:///system pool-define-as ${id}-nopool dir`);
    await expect(checkPool(LOCAL, pool.name)).resolves.toBeUndefined();
  });

  test("an unreadable image path is refused naming the field", () => {
    expect(() => checkReadable("image.path", "/root/does-not-exist")).toThrow(/^image.path: '\/root\/does-not-exist' is not readable/);
  });

  test("the domain type is qemu without a usable /dev/kvm", async () => {
    const t = await detectDomainType(LOCAL);
    let kvm = false;
    try {
      fs.closeSync(fs.openSync("/dev/kvm", "r+"));
      kvm = true;
    } catch {
      /* no kvm */
    }
    if (!kvm) expect(t).toBe("qemu");
    else expect(["kvm", "qemu"]).toContain(t);
  });

  test("OVMF: the Debian paths pass; a missing loader says to install ovmf", async () => {
    await expect(checkOvmf(LOCAL, "qemu", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd")).resolves.toBeUndefined();
    await expect(checkOvmf(LOCAL, "qemu", "/nope/CODE.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd")).rejects.toThrow(/^firmware 'uefi' needs OVMF, but \/nope\/CODE.fd not found on qemu:\/\/\/system; apt-get install ovmf/);
  });
});
