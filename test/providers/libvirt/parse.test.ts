/** L0: the driver's pure parts: argv builders, URI parsing, virsh output parsers, error classification. */
import { CommandError } from "../../../providers/exec";
import {
  isLocalUri, isNotFound, kvmStartError, parseDomifaddr, parseInfo, parseLibvirtUri, parseTable, parseVolumeXml, serialLogPath, sshArgvFor, virshArgv,
} from "../../../providers/libvirt/driver";

describe("virsh argv", () => {
  test("every command is quiet and bound to the connection's URI", () => {
    expect(virshArgv({ uri: "qemu:///system" }, ["vol-upload", "--pool", "p", "v", "/f"])).toEqual(["virsh", "-q", "-c", "qemu:///system", "vol-upload", "--pool", "p", "v", "/f"]);
    expect(virshArgv({ uri: "qemu:///system", virsh: "/opt/virsh" }, ["uri"])[0]).toBe("/opt/virsh");
  });
});

describe("libvirt URIs", () => {
  test("qemu+ssh URIs give user, host, port, key and no_verify", () => {
    expect(parseLibvirtUri("qemu+ssh://root@10.0.0.5:2222/system?keyfile=/k/id&no_verify=1")).toEqual({
      uri: "qemu+ssh://root@10.0.0.5:2222/system?keyfile=/k/id&no_verify=1", driver: "qemu", transport: "ssh", host: "10.0.0.5", user: "root", port: 2222, keyfile: "/k/id", noVerify: true,
    });
    expect(isLocalUri("qemu:///system")).toBe(true);
    expect(isLocalUri("qemu+ssh://root@127.0.0.1/system")).toBe(false);
  });

  test("ssh argv reaches the URI's host with its port and key, quoting the remote words", () => {
    expect(sshArgvFor("qemu+ssh://root@h:2222/system?keyfile=/k&no_verify=1", ["tail", "-n", "40", "--", "/var/log/x y.log"])).toEqual([
      "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222", "-i", "/k", "-o", "IdentitiesOnly=yes",
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@h", "--",
      "'tail'", "'-n'", "'40'", "'--'", "'/var/log/x y.log'",
    ]);
    expect(() => sshArgvFor("qemu:///system", ["true"])).toThrow(`uri: "qemu:///system" does not use ssh; no remote shell to reach`);
  });

  test("bad URIs are refused naming the field", () => {
    expect(() => parseLibvirtUri("not a uri")).toThrow(`uri: "not a uri" is not valid; expected a libvirt URI like qemu:///system or qemu+ssh://user@host/system`);
    expect(() => parseLibvirtUri("qemu+tls://h/system")).toThrow(/expected transport none, unix or ssh/);
  });
});

describe("virsh output parsers", () => {
  test("domifaddr: first IPv4 without prefix", () => {
    const out = " vnet3      52:54:00:1a:2b:3c    ipv6         fe80::1/64\n vnet3      52:54:00:1a:2b:3c    ipv4         10.213.4.17/24\n";
    expect(parseDomifaddr(out)).toBe("10.213.4.17");
    expect(parseDomifaddr(" lo 00:00:00:00:00:00 ipv4 127.0.0.1/8\n")).toBeUndefined();
    expect(parseDomifaddr("")).toBeUndefined();
  });

  test("info and table output", () => {
    expect(parseInfo("Name:           n1\nActive:         yes\nBridge:         vk1\n")).toEqual({ Name: "n1", Active: "yes", Bridge: "vk1" });
    expect(parseTable(" vnet0   network   n1   virtio   52:54:00:aa:bb:cc\n\n")).toEqual([["vnet0", "network", "n1", "virtio", "52:54:00:aa:bb:cc"]]);
  });

  test("vol-dumpxml of an overlay", () => {
    const xml = `<volume type='file'><name>d</name><capacity unit='bytes'>1073741824</capacity><allocation unit='bytes'>200704</allocation>
      <target><path>/p/d</path><format type='qcow2'/></target><backingStore><path>/p/base</path><format type='raw'/></backingStore></volume>`;
    expect(parseVolumeXml("p", xml)).toEqual({ pool: "p", name: "d", path: "/p/d", capacityBytes: 1073741824, allocationBytes: 200704, format: "qcow2", backingPath: "/p/base" });
  });

  test("not-found errors are told apart from other failures", () => {
    const err = (stderr: string) => new CommandError("x", "virsh", 1, "", stderr, false, false);
    // virsh prints this alone for a missing domain, a refused connection and a denied permission
    // alike: only libvirt's listing tells (virshOrMissing, tested on real libvirt in volumes.test.ts).
    expect(isNotFound(err("error: failed to get domain 'x'\n"))).toBe(false);
    expect(isNotFound(err("error: failed to get vol 'x'\nerror: Storage volume not found: no storage vol with matching path 'x'"))).toBe(true);
    expect(isNotFound(err("error: Storage volume not found: no storage vol with matching path 'x'"))).toBe(true);
    expect(isNotFound(err("error: Network not found: no network with matching name 'x'"))).toBe(true);
    expect(isNotFound(err("error: failed to connect to the hypervisor"))).toBe(false);
    expect(isNotFound(new Error("failed to get domain 'x'"))).toBe(false);
  });

  test("serial logs live beside libvirt's own qemu logs", () => {
    expect(serialLogPath("n1-abc")).toBe("/var/log/libvirt/qemu/n1-abc-serial.log");
  });
});

describe("kvmStartError", () => {
  test("finds the KVM line in a failed start under kvm, and nothing in other start failures", () => {
    const nested = "failed with exit code 1: virsh -q -c qemu:///system start d\nerror: Failed to start domain 'd'\nerror: internal error: process exited while connecting to monitor: 2026-12-02T12:14:41.400023Z qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.";
    expect(kvmStartError(nested)).toBe("failed to set MSR 0x10a to 0x69");
    expect(kvmStartError("qemu: kvm_arch_put_registers: Assertion `ret == 0' failed.")).toBe("kvm_arch_put_registers: Assertion `ret == 0' failed.");
    expect(kvmStartError("error: Failed to start domain 'd'\nerror: Cannot access storage file '/nope.qcow2': No such file or directory")).toBeUndefined();
    expect(kvmStartError("error: Network not found: no network with matching name 'x'")).toBeUndefined();
  });
});
