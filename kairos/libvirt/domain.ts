/**
 * Domain XML for one Kairos node, built with xmlbuilder2 (never string concatenation).
 *
 * Disk layout (docs/kairos-notes.md §8.5): the node disk (virtio, boot order 1), the cidata volume as a
 * read-only SATA cdrom (never booted), and in ISO-install mode the Kairos ISO as a second SATA cdrom
 * (boot order 2): an empty disk falls through to the ISO, and after the installer's reboot the
 * installed disk wins. Per-device `<boot order>` is used because libvirt forbids mixing it with
 * `<os><boot dev>`.
 */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import {
  ValidationIssue, assertNoIssues, checkAbsolutePath, checkInt, checkName, checkOneOf, show,
} from "./issues";
import { OwnerMetadata, appendOwnerMetadata, ownerIssues } from "./metadata";

export const DOMAIN_TYPES = ["kvm", "qemu"] as const;
export type DomainType = (typeof DOMAIN_TYPES)[number];
export const FIRMWARES = ["bios", "uefi"] as const;
export type Firmware = (typeof FIRMWARES)[number];

/** A storage volume by pool and name (`<disk type='volume'>`): works the same on remote hosts. */
export interface VolumeRef {
  pool: string;
  volume: string;
}

/** Debian's `ovmf` package (4 MiB flash layout). */
export const DEFAULT_OVMF = {
  loader: "/usr/share/OVMF/OVMF_CODE_4M.fd",
  nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd",
} as const;

export interface DomainSpec {
  /** Domain name (a physicalName). */
  name: string;
  /** The domain's UUID, to redefine an existing domain (`virsh define` keeps name and UUID). @default - libvirt picks one */
  uuid?: string;
  /** `kvm` needs a usable /dev/kvm; `qemu` is software emulation. */
  type: DomainType;
  /** `bios` = SeaBIOS; `uefi` = OVMF with a per-domain nvram created from the template. */
  firmware: Firmware;
  /** OVMF paths on the hypervisor host, for `uefi`. @default {@link DEFAULT_OVMF} */
  ovmf?: { loader: string; nvramTemplate: string };
  /** Virtual CPUs. */
  vcpus: number;
  /** Memory, in MiB. */
  memoryMiB: number;
  /** The node disk (qcow2 overlay or empty qcow2), attached as virtio `vda`. */
  disk: VolumeRef & { format?: "qcow2" | "raw" };
  /** The cidata volume, attached read-only as SATA cdrom `sda`. */
  cidata?: VolumeRef;
  /** ISO-install mode: the Kairos ISO, SATA cdrom `sdb`, booted only when the disk is not bootable. */
  installIso?: VolumeRef;
  /** libvirt network the NIC is attached to (virtio). */
  network: string;
  /** Fixed MAC address (`52:54:00:xx:xx:xx`). @default - libvirt generates one */
  mac?: string;
  /** Host file that receives everything the guest writes to its serial console. */
  serialLogFile: string;
  /** Owner metadata stamped on the domain. */
  owner: OwnerMetadata;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function domainSpecIssues(spec: DomainSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkName(issues, "name", spec.name);
  if (spec.uuid !== undefined && (typeof spec.uuid !== "string" || !UUID.test(spec.uuid))) {
    issues.push({ path: "uuid", value: show(spec.uuid), expected: "a lower-case UUID like 0d7e2f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f" });
  }
  checkOneOf(issues, "type", spec.type, DOMAIN_TYPES);
  checkOneOf(issues, "firmware", spec.firmware, FIRMWARES);
  checkInt(issues, "vcpus", spec.vcpus, 1, 256);
  checkInt(issues, "memoryMiB", spec.memoryMiB, 64, 4 * 1024 * 1024, "MiB");
  const vol = (path: string, v: VolumeRef | undefined) => {
    if (!v || typeof v !== "object") {
      issues.push({ path, value: show(v), expected: "{ pool, volume }" });
      return;
    }
    checkName(issues, `${path}.pool`, v.pool);
    checkName(issues, `${path}.volume`, v.volume);
  };
  vol("disk", spec.disk);
  if (spec.disk?.format !== undefined) checkOneOf(issues, "disk.format", spec.disk.format, ["qcow2", "raw"]);
  if (spec.cidata !== undefined) vol("cidata", spec.cidata);
  if (spec.installIso !== undefined) vol("installIso", spec.installIso);
  checkName(issues, "network", spec.network);
  if (spec.mac !== undefined && (typeof spec.mac !== "string" || !MAC.test(spec.mac))) {
    issues.push({ path: "mac", value: show(spec.mac), expected: "a lower-case MAC address like 52:54:00:12:34:56" });
  }
  checkAbsolutePath(issues, "serialLogFile", spec.serialLogFile);
  if (spec.firmware === "uefi" && spec.ovmf !== undefined) {
    checkAbsolutePath(issues, "ovmf.loader", spec.ovmf.loader);
    checkAbsolutePath(issues, "ovmf.nvramTemplate", spec.ovmf.nvramTemplate);
  }
  issues.push(...ownerIssues(spec.owner, "owner"));
  return issues;
}

/** The target device of the cidata cdrom. */
export const CIDATA_TARGET = "sda";

function appendCdrom(parent: XMLBuilder, ref: VolumeRef, target: string, bootOrder?: number): XMLBuilder {
  const c = parent.ele("disk", { type: "volume", device: "cdrom" });
  c.ele("driver", { name: "qemu", type: "raw" });
  c.ele("source", { pool: ref.pool, volume: ref.volume });
  c.ele("target", { dev: target, bus: "sata" });
  c.ele("readonly");
  if (bootOrder !== undefined) c.ele("boot", { order: String(bootOrder) });
  return c;
}

/** The cidata cdrom element alone, for `virsh update-device` (a new cidata volume on a defined domain). */
export function cidataCdromXml(ref: VolumeRef): string {
  const doc = create();
  appendCdrom(doc as unknown as XMLBuilder, ref, CIDATA_TARGET);
  return doc.end({ headless: true, prettyPrint: true });
}

/** The guest agent channel name qemu-guest-agent listens on. */
export const GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";

export function buildDomainXml(spec: DomainSpec): string {
  assertNoIssues(domainSpecIssues(spec), `domain spec for ${show(spec.name)}`);
  const d = create().ele("domain", { type: spec.type });
  d.ele("name").txt(spec.name);
  if (spec.uuid) d.ele("uuid").txt(spec.uuid);
  appendOwnerMetadata(d, spec.owner);
  d.ele("memory", { unit: "MiB" }).txt(String(spec.memoryMiB));
  d.ele("vcpu").txt(String(spec.vcpus));

  // q35 gives the AHCI controller the SATA cdroms sit on.
  const os = d.ele("os");
  os.ele("type", { arch: "x86_64", machine: "q35" }).txt("hvm");
  if (spec.firmware === "uefi") {
    const ovmf = spec.ovmf ?? DEFAULT_OVMF;
    os.ele("loader", { readonly: "yes", type: "pflash" }).txt(ovmf.loader);
    // libvirt creates /var/lib/libvirt/qemu/nvram/<name>_VARS.fd from the template; `undefine --nvram` removes it.
    os.ele("nvram", { template: ovmf.nvramTemplate });
  }
  const features = d.ele("features");
  features.ele("acpi");
  features.ele("apic");
  if (spec.type === "kvm") d.ele("cpu", { mode: "host-passthrough" });
  d.ele("on_poweroff").txt("destroy");
  d.ele("on_reboot").txt("restart");
  d.ele("on_crash").txt("destroy");

  const dev = d.ele("devices");
  const disk = dev.ele("disk", { type: "volume", device: "disk" });
  disk.ele("driver", { name: "qemu", type: spec.disk.format ?? "qcow2" });
  disk.ele("source", { pool: spec.disk.pool, volume: spec.disk.volume });
  disk.ele("target", { dev: "vda", bus: "virtio" });
  disk.ele("boot", { order: "1" });

  if (spec.cidata) appendCdrom(dev, spec.cidata, CIDATA_TARGET);
  if (spec.installIso) appendCdrom(dev, spec.installIso, "sdb", 2);

  const nic = dev.ele("interface", { type: "network" });
  if (spec.mac) nic.ele("mac", { address: spec.mac });
  nic.ele("source", { network: spec.network });
  nic.ele("model", { type: "virtio" });

  // A pty serial whose output virtlogd also copies to a file: the provider reads the file back,
  // and `virsh console` still works for humans.
  const serial = dev.ele("serial", { type: "pty" });
  serial.ele("log", { file: spec.serialLogFile, append: "off" });
  serial.ele("target", { port: "0" });
  dev.ele("console", { type: "pty" }).ele("target", { type: "serial", port: "0" });

  dev.ele("channel", { type: "unix" }).ele("target", { type: "virtio", name: GUEST_AGENT_CHANNEL });
  dev.ele("rng", { model: "virtio" }).ele("backend", { model: "random" }).txt("/dev/urandom");
  return d.end({ headless: true, prettyPrint: true });
}
