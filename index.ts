/**
 * The default stack: a Kairos cluster on local libvirt (1 server + 2 agents by default) from the
 * pinned official Kairos release ISO. Every knob is project config with a default (Pulumi.yaml);
 * override with `pulumi config set <key> <value>`. See README "The default stack".
 */
import * as pulumi from "@pulumi/pulumi";
import * as kairos from "pulumi-kairos"; // this package by name, as a user program imports it (self-link)

const config = new pulumi.Config();
const imagePath = config.get("imagePath") ?? "";
const vip = config.get("vip") ?? "";

const image: kairos.ClusterImageArgs = imagePath
  ? { kind: /\.iso$/i.test(imagePath) ? "iso" : "disk", path: imagePath }
  : { kind: "iso", url: config.require("imageUrl"), checksumUrl: config.require("imageChecksumUrl") };

const cluster = new kairos.KairosCluster("kairos", {
  servers: config.requireNumber("servers"),
  agents: config.requireNumber("agents"),
  image,
  target: {
    kind: "libvirt",
    uri: config.require("libvirtUri"),
    pool: config.require("pool"),
    network: { kind: "create", mode: "nat", cidr: config.require("networkCidr") },
    vcpus: config.requireNumber("vcpus"),
    memoryMiB: config.requireNumber("memoryMiB"),
    diskGiB: config.requireNumber("diskGiB"),
    firmware: config.require("firmware") as "bios" | "uefi",
  },
  k3s: vip ? { vip } : {},
  p2p: config.requireBoolean("p2p") ? { enabled: true } : undefined,
});

export const nodes = cluster.nodes;
export const apiEndpoint = cluster.apiEndpoint;
export const kubeconfig = cluster.kubeconfig;
export const k3sToken = cluster.k3sToken;
export const networkToken = cluster.networkToken;
export const sshPrivateKey = cluster.sshPrivateKey;
export const sshPublicKey = cluster.sshPublicKey;
export const cloudConfigs = cluster.cloudConfigs;
