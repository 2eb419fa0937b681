/**
 * The `ssh` target: machines already booted into the Kairos live ISO, installed over SSH
 * (`kairos-agent manual-install`, see providers/baremetal). One BareMetalNode per host.
 *
 * Host addresses are known up front, so the endpoint is the first server's address and every
 * node is rendered at once (types.ts, step 2).
 *
 * Which host runs which node: when no host has a `role`, hosts are taken in plan order (servers
 * first, then agents; p2p nodes in order). When roles are given, every host needs one, and the
 * servers are the hosts with role "server" in their order, the agents those with role "agent".
 */
import * as pulumi from "@pulumi/pulumi";
import type { ValidationIssue } from "../../../kairos/cloudconfig/model";
import { ClusterSpecError } from "../../../kairos/roles/plan";
import { BareMetalNode } from "../../../providers/baremetal";
import type { NodeTarget, ResolvedImage, TargetContext, TargetNode, TargetNodeSpec } from "./types";

/** One machine booted into the Kairos live ISO. */
export interface SshTargetHost {
  /** Node name on this machine. @default - the planned node name (e.g. `demo-server-0`) */
  name?: string;
  /** IP address or DNS name of the live system, reachable from where `pulumi up` runs. */
  address: string;
  /** SSH port of the live system. @default 22 */
  port?: number;
  /** Login on the live system. @default "kairos" (the live ISO's user) */
  user?: string;
  /** Password of `user` (secret). One of password/privateKey. The live ISO's is "kairos". */
  password?: pulumi.Input<string>;
  /** Private key of `user` on the live system (secret). */
  privateKey?: pulumi.Input<string>;
  /** Expected live-system host key (`ssh-ed25519 AAAA...`). @default - first seen, recorded with a warning */
  hostKey?: string;
  /**
   * Expected installed-system host key; when given it wins over the recorded one, so after a reinstall
   * outside Pulumi, set it to the machine's new key (an update, not a reinstall).
   * @default - first seen after the install reboot, recorded
   */
  installedHostKey?: string;
  /** Install disk: "auto" or a device path such as /dev/sda. @default "auto" */
  device?: string;
  /** Which group this host serves. Give it on every host or on none. @default - plan order */
  role?: "server" | "agent";
}

/** The `ssh` target: machines booted into the Kairos live ISO, installed over SSH. */
export interface SshTargetArgs {
  kind: "ssh";
  /** The machines, one per node: as many as servers + agents (p2p: nodes). */
  hosts: SshTargetHost[];
  /** What `pulumi destroy` does to the machines: "none" leaves them, "reset" runs `kairos-agent reset`. @default "none" */
  onDestroy?: "none" | "reset";
}

type Group = "server" | "agent" | "node";
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));

/**
 * Every problem with the target's host list for a cluster of `servers` + `agents` nodes (p2p:
 * `servers + agents` nodes too). Field paths are `target.hosts...`.
 */
export function validateSshTarget(args: SshTargetArgs, counts: { servers: number; agents: number; mode?: "explicit" | "p2p" }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const hosts = args.hosts;
  if (!Array.isArray(hosts)) return [{ path: "target.hosts", value: show(hosts), expected: "a list of hosts, one per node" }];
  const total = counts.servers + counts.agents;
  if (hosts.length !== total) {
    issues.push({ path: "target.hosts", value: `${hosts.length} host(s)`, expected: `exactly one host per node: ${total} (servers ${counts.servers} + agents ${counts.agents})` });
  }
  const withRole = hosts.filter((h) => h && h.role !== undefined).length;
  if (withRole > 0) {
    if (counts.mode === "p2p") issues.push({ path: "target.hosts[].role", value: `${withRole} host(s) with a role`, expected: "no role in p2p mode (roles are elected at boot)" });
    hosts.forEach((h, i) => {
      if (h?.role !== "server" && h?.role !== "agent") issues.push({ path: `target.hosts[${i}].role`, value: show(h?.role), expected: '"server" or "agent" (give a role on every host or on none)' });
    });
    const servers = hosts.filter((h) => h?.role === "server").length;
    const agents = hosts.filter((h) => h?.role === "agent").length;
    if (withRole === hosts.length && counts.mode !== "p2p" && (servers !== counts.servers || agents !== counts.agents)) {
      issues.push({ path: "target.hosts[].role", value: `${servers} server(s), ${agents} agent(s)`, expected: `${counts.servers} server(s) and ${counts.agents} agent(s), as the cluster's servers and agents` });
    }
  }
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    if (!h || typeof h.address !== "string" || h.address === "") issues.push({ path: `target.hosts[${i}].address`, value: show(h?.address), expected: "an IP address or DNS name" });
    else {
      const key = `${h.address}:${h.port ?? 22}`;
      if (seen.has(key)) issues.push({ path: `target.hosts[${i}].address`, value: show(key), expected: `a machine not already listed (same as target.hosts[${seen.get(key)}])` });
      seen.set(key, i);
    }
    if (h && h.password === undefined && h.privateKey === undefined) issues.push({ path: `target.hosts[${i}].password`, value: "undefined", expected: 'a password or privateKey for the live system (the live ISO has user "kairos", password "kairos")' });
  });
  if (args.onDestroy !== undefined && args.onDestroy !== "none" && args.onDestroy !== "reset") issues.push({ path: "target.onDestroy", value: show(args.onDestroy), expected: '"none" or "reset"' });
  return issues;
}

/**
 * Picks the host of a planned node (see the module comment). Pure. Throws ClusterSpecError naming
 * `target.hosts` when there is none.
 */
export function hostForNode(hosts: readonly SshTargetHost[], group: Group, index: number, serverCount: number): { host: SshTargetHost; position: number } {
  const byRole = hosts.some((h) => h.role !== undefined);
  let position: number;
  if (byRole && group !== "node") {
    const pool = hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.role === group);
    position = pool[index]?.i ?? -1;
  } else {
    position = group === "agent" ? serverCount + index : index;
  }
  const host = position >= 0 ? hosts[position] : undefined;
  if (!host) {
    const want = byRole ? `a host with role "${group}" for ${group} ${index}` : `a host at position ${position} for ${group} ${index}`;
    throw new ClusterSpecError([{ path: "target.hosts", value: `${hosts.length} host(s)`, expected: `${want}: one host per node` }], "ssh target");
  }
  return { host, position };
}

/**
 * Creates the ssh target (a TargetFactory). With `counts` (recommended) the host list is validated
 * against the plan here and agents are placed after the servers; without it, hosts without roles
 * are handed out in the order nodes are asked for (plan order, types.ts) and only a missing host
 * is an error.
 */
export function createSshTarget(args: SshTargetArgs, _image: ResolvedImage, ctx: TargetContext, counts?: { servers: number; agents: number; mode?: "explicit" | "p2p" }): NodeTarget {
  if (counts) {
    const issues = validateSshTarget(args, counts);
    if (issues.length > 0) throw new ClusterSpecError(issues, "ssh target");
  }
  const order = new Map<string, number>(); // node name -> position, when counts are unknown
  const pick = (name: string, group: Group, index: number) => {
    if (counts || args.hosts.some((h) => h.role !== undefined)) {
      return hostForNode(args.hosts, group, index, counts?.mode === "p2p" ? 0 : counts?.servers ?? 0).host;
    }
    if (!order.has(name)) order.set(name, order.size);
    return hostForNode(args.hosts, "node", order.get(name)!, 0).host;
  };
  return {
    kind: "ssh",
    bootMode: "baremetal",
    // The device is per host (BareMetalNode runs manual-install --device); the config says "auto".
    installDevice: "auto",
    connects: true,
    staticAddress(name, index, group) {
      return pick(name, group, index).address;
    },
    createNode(spec: TargetNodeSpec, opts: { dependsOn: pulumi.Resource[] }): TargetNode {
      const host = pick(spec.name, spec.group, spec.index);
      const node = new BareMetalNode(
        spec.name,
        {
          host: {
            name: host.name ?? spec.name,
            address: host.address,
            port: host.port,
            user: host.user,
            password: host.password === undefined ? undefined : pulumi.secret(host.password),
            privateKey: host.privateKey === undefined ? undefined : pulumi.secret(host.privateKey),
            hostKey: host.hostKey,
            installedHostKey: host.installedHostKey,
            device: host.device,
          },
          cloudConfig: spec.cloudConfig,
          adminUser: ctx.adminUser,
          adminPrivateKey: ctx.adminPrivateKey,
          timeouts: { connectMs: ctx.timeouts.addressSeconds * 1000, rebootMs: ctx.timeouts.sshSeconds * 1000 },
          onDestroy: args.onDestroy ?? "none",
        },
        // A changed config reaches the node through /oem (KairosCluster's NodeConfig), unless
        // configChange is "reinstall": then the machine is installed again.
        { parent: ctx.parent, dependsOn: opts.dependsOn, ...(spec.configChange === "reinstall" ? {} : { ignoreChanges: ["cloudConfig"] }) },
      );
      // The installed system keeps the live system's address (providers/baremetal/driver.ts), known
      // up front; taken from the node so whoever reads it also waits for the install.
      const address = node.address.apply((a) => a || host.address);
      return { name: spec.name, role: spec.role, address, sshPort: pulumi.output(host.port ?? 22), ready: [node] };
    },
  };
}
