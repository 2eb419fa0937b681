/**
 * The `media` target: no connection at all. Per node, a NoCloud seed ISO
 * `<outputDir>/<cluster>/<node>-cidata.iso` (label `cidata`, `user-data` = the node's config,
 * `meta-data`) to put beside a stock Kairos ISO on a USB stick or as virtual media; and, when
 * `isoImage` is given, per role a zero-touch installer ISO `<outputDir>/<cluster>/<cluster>-<role>.iso`
 * with the role's config embedded as `config.yaml` (a Kairos ISO remastered with xorriso, or
 * AuroraBoot `build-iso --cloud-config` from a container image), so a machine booted from it installs
 * itself (docs/kairos-notes.md §8.1 "Zero-touch").
 *
 * The `<cluster>` folder is the target's own (0700, removed on destroy once empty); `outputDir` is the
 * user's and its permissions are never changed.
 *
 * Nothing reports an address back, so joining nodes need the first server's address before anything
 * boots: give `endpoint` (the address the first server will have, e.g. a DHCP reservation) for an
 * explicit cluster with more than one node.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeRole } from "../../../kairos/roles";
import { ClusterSpecError, ENDPOINT_PLACEHOLDER, isHost } from "../../../kairos/roles/plan";
import { NodeMedia } from "../../../providers/media/provider";
import type { RoleIsoSpec } from "../../../providers/media/spec";
import type { ValidationIssue } from "../../../kairos/cloudconfig/model";
import type { NodeTarget, ResolvedImage, TargetContext, TargetCounts, TargetNode, TargetNodeSpec } from "./types";

/** The `media` target: per-node seed ISOs (and per-role installer ISOs) written to a folder; no connection. */
export interface MediaTargetArgs {
  kind: "media";
  /**
   * Absolute folder under which the files go: they are written to `<outputDir>/<cluster name>/`, a
   * folder this target creates owner-only (0700) and removes on destroy once empty. `outputDir`
   * itself is created if missing, but an existing one keeps its permissions, so any folder will do.
   * Changing it (or the cluster name) moves the files.
   * @example "/srv/kairos-media" (cluster "store42": files in /srv/kairos-media/store42/)
   */
  outputDir: string;
  /**
   * Address (IP or DNS name) the first server will have. Required for explicit clusters with more than
   * one node: joining nodes are rendered with it. @default - none (single-node and p2p clusters)
   */
  endpoint?: string;
  /**
   * Source of per-role zero-touch installer ISOs (the role's config embedded as `config.yaml`).
   * Exactly one of `isoPath` (a Kairos live ISO, remastered with xorriso) and `imageRef` (a Kairos
   * container image, built with AuroraBoot `build-iso` through docker/podman).
   * @default - no installer ISOs, only seed ISOs
   */
  isoImage?: {
    /** Absolute path of a Kairos live ISO, e.g. a KairosImage `iso` artifact's path. */
    isoPath?: pulumi.Input<string>;
    /** Local image reference, e.g. `kairos-custom/ubuntu:24.04-core-amd64-generic-v3.6.0`, or `KairosImage.imageRef`. */
    imageRef?: pulumi.Input<string>;
    /** With imageRef. @default "docker" */
    engine?: "docker" | "podman";
    /** With imageRef: engine CLI path. @default - `engine` from PATH */
    engineBinary?: string;
    /** With imageRef: engine API socket. @default - the engine's default socket */
    engineSocket?: string;
    /** With imageRef. @default - kairos/image DEFAULT_AURORABOOT_IMAGE */
    auroraBootImage?: string;
    /** With imageRef. @default "amd64" */
    arch?: "amd64" | "arm64";
  };
  /** Install disk written into the configs: "auto" or a device path. @default "auto" */
  installDevice?: string;
}

/** The role ISO's file name: `<cluster>-<role>` (one ISO per role; init is the first server's own). */
export function roleIsoName(cluster: string, role: NodeRole): string {
  return `${cluster}-${role}`;
}

/** Throws naming `target.endpoint` when a rendered config still waits for the endpoint. Pure. */
export function assertEndpointKnown(nodeName: string, cloudConfig: string): void {
  if (cloudConfig.includes(ENDPOINT_PLACEHOLDER)) {
    throw new ClusterSpecError([{
      path: "target.endpoint",
      value: "undefined",
      expected: `the address the first server will have (an IP or DNS name): node ${nodeName} joins it, and the media target cannot learn it (or set k3s.vip and use a single server)`,
    }], "media target");
  }
}

const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));

/**
 * Every problem with the media target's args; with `counts`, also a missing `endpoint` where joining
 * nodes need one (explicit mode: more than one server, or agents without `vip`, see kairos/roles).
 */
export function validateMediaTarget(args: MediaTargetArgs, counts?: TargetCounts & { vip?: string }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof args.outputDir !== "string" || !args.outputDir.startsWith("/")) {
    issues.push({ path: "target.outputDir", value: show(args.outputDir), expected: "an absolute directory path (e.g. /srv/kairos-media)" });
  }
  if (args.endpoint !== undefined && !isHost(args.endpoint)) {
    issues.push({ path: "target.endpoint", value: show(args.endpoint), expected: "an IPv4 or IPv6 address or a DNS name, without scheme or port" });
  }
  const iso = args.isoImage;
  if (iso !== undefined) {
    const known = (v: unknown) => !pulumi.Output.isInstance(v) && !(v instanceof Promise);
    if ((iso.isoPath === undefined) === (iso.imageRef === undefined)) {
      issues.push({ path: "target.isoImage", value: iso.isoPath === undefined ? "neither isoPath nor imageRef" : "both isoPath and imageRef", expected: "exactly one of isoPath (a Kairos ISO file) and imageRef (a Kairos container image)" });
    }
    if (iso.isoPath !== undefined && known(iso.isoPath) && (typeof iso.isoPath !== "string" || !iso.isoPath.startsWith("/"))) {
      issues.push({ path: "target.isoImage.isoPath", value: show(iso.isoPath), expected: "an absolute path of a Kairos ISO file" });
    }
    if (iso.imageRef !== undefined && known(iso.imageRef) && (typeof iso.imageRef !== "string" || iso.imageRef === "")) {
      issues.push({ path: "target.isoImage.imageRef", value: show(iso.imageRef), expected: "a local container image reference of a Kairos OS" });
    }
  }
  if (counts && (counts.mode ?? "explicit") === "explicit" && args.endpoint === undefined && (counts.servers > 1 || (counts.agents > 0 && !counts.vip))) {
    issues.push({
      path: "target.endpoint",
      value: "undefined",
      expected: `the address the first server will have (an IP or DNS name): with ${counts.servers} server(s) and ${counts.agents} agent(s) nodes join it, and media cannot learn it (agents alone can use k3s.vip)`,
    });
  }
  return issues;
}

/** Creates the media target (a TargetFactory). With `counts` (and the VIP) the endpoint rule is checked here. */
export function createMediaTarget(args: MediaTargetArgs, _image: ResolvedImage, ctx: TargetContext, counts?: TargetCounts & { vip?: string }): NodeTarget {
  const issues = validateMediaTarget(args, counts);
  if (issues.length > 0) throw new ClusterSpecError(issues, "media target");
  const rolesWithIso = new Set<NodeRole>();
  return {
    kind: "media",
    bootMode: "iso",
    installDevice: args.installDevice ?? "auto",
    connects: false,
    staticAddress(_name, index, group) {
      return group === "server" && index === 0 ? args.endpoint : undefined;
    },
    createNode(spec: TargetNodeSpec, opts: { dependsOn: pulumi.Resource[] }): TargetNode {
      let roleIso: pulumi.Output<RoleIsoSpec> | undefined;
      if (args.isoImage && !rolesWithIso.has(spec.role)) {
        rolesWithIso.add(spec.role); // the first node of each role carries the role's ISO
        roleIso = pulumi.output({ ...args.isoImage, name: roleIsoName(ctx.cluster, spec.role) }) as pulumi.Output<RoleIsoSpec>;
      }
      const cloudConfig = spec.cloudConfig.apply((text) => {
        assertEndpointKnown(spec.name, text);
        return text;
      });
      const media = new NodeMedia(
        spec.name,
        // The cluster's own folder inside the user's: only it is made 0700 and removed on delete.
        { outputDir: args.outputDir, folder: ctx.cluster, node: spec.name, cloudConfig, roleIso },
        { parent: ctx.parent, dependsOn: opts.dependsOn },
      );
      const address = spec.group === "server" && spec.index === 0 ? args.endpoint : undefined;
      return { name: spec.name, role: spec.role, address: pulumi.output(address), ready: [media] };
    },
  };
}
