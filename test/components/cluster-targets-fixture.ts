/** L1 helpers for the cluster targets: a stand-in KairosCluster parent and the context a target gets. */
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedImage, TargetContext } from "../../components/cluster/targets/types";

export const ADMIN_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nL1-admin-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
export const TOKEN = "K10-L1-target-secret-token";

/** Plays the KairosCluster in the URN tree (same type token). */
export class FakeCluster extends pulumi.ComponentResource {
  constructor(name: string) {
    super("kairos:index:KairosCluster", name, {}, {});
  }
}

export function context(parent: pulumi.Resource, cluster = "demo", nodeNames: string[] = [`${cluster}-server-0`]): TargetContext {
  return {
    stack: "test", cluster, parent, adminUser: "kairos-admin",
    adminPrivateKey: pulumi.secret(ADMIN_KEY), adminPublicKey: pulumi.output("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL1 admin"),
    timeouts: { addressSeconds: 300, sshSeconds: 900, readySeconds: 600 }, nodeNames,
  };
}

export const IMAGE: ResolvedImage = { kind: pulumi.output("iso" as const), path: pulumi.output("/images/kairos.iso") };

export function nodeConfig(name: string, extra = ""): pulumi.Output<string> {
  return pulumi.secret(`#cloud-config\nhostname: ${name}\nk3s:\n  env:\n    K3S_TOKEN: ${TOKEN}\n${extra}`);
}

export const urnOf = (r: pulumi.Resource): Promise<string> => new Promise((resolve) => r.urn.apply(resolve));
