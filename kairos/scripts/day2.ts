/**
 * The remote commands of day-2 operations on a running node, pure. Kubernetes commands run on a
 * server with k3s' embedded kubectl (`sudo k3s kubectl`, admin kubeconfig /etc/rancher/k3s/k3s.yaml),
 * so they work when the API is not reachable from where Pulumi runs (docs/kairos-notes.md §13).
 * The stand-in guest (test/fixtures/standin-guest/guest/) implements every one of them.
 */
import { shellJoin } from "./quote";

const NODE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function node(name: string): string {
  if (!NODE.test(name)) throw new Error(`node: ${JSON.stringify(name)} is not valid; expected a Kubernetes node name`);
  return name;
}

/** Marks the node unschedulable. */
export function cordonCommand(name: string): string {
  return shellJoin(["sudo", "k3s", "kubectl", "cordon", node(name)]);
}

/** Schedulable again. */
export function uncordonCommand(name: string): string {
  return shellJoin(["sudo", "k3s", "kubectl", "uncordon", node(name)]);
}

/**
 * Evicts the node's pods (daemonsets stay; emptyDir data is lost, as with any drain), bounded by
 * `timeoutSeconds`; `force` also deletes pods no controller would recreate (kubectl drain --force).
 */
export function drainCommand(name: string, opts: { timeoutSeconds: number; force?: boolean }): string {
  if (!Number.isInteger(opts.timeoutSeconds) || opts.timeoutSeconds < 1) throw new Error(`timeoutSeconds: ${opts.timeoutSeconds} is not valid; expected a whole number of seconds >= 1`);
  return shellJoin([
    "sudo", "k3s", "kubectl", "drain", node(name), "--ignore-daemonsets", "--delete-emptydir-data",
    `--timeout=${opts.timeoutSeconds}s`, ...(opts.force ? ["--force"] : []),
  ]);
}

/** Cordon, then drain ({@link drainCommand}): one remote command, so one SSH session. */
export function cordonAndDrainCommand(name: string, opts: { timeoutSeconds: number; force?: boolean }): string {
  return `${cordonCommand(name)} && ${drainCommand(name, opts)}`;
}

/**
 * Removes the Node object. For a server with embedded etcd this also removes its etcd member (k3s'
 * member removal controller acts on the deleted Node, docs/kairos-notes.md §13).
 */
export function deleteNodeCommand(name: string): string {
  return shellJoin(["sudo", "k3s", "kubectl", "delete", "node", node(name)]);
}

/**
 * Where pulumi-kairos writes a node's changed cloud-config: Kairos reads every file under /oem in
 * lexical order at each boot, later wins (docs/kairos-notes.md §3.1, §13); 99 sorts after the
 * datasource's 95_userdata and the installer's 90_custom.yaml.
 */
export const OEM_CONFIG_PATH = "/oem/99_pulumi-kairos.yaml";

/** Writes stdin to {@link OEM_CONFIG_PATH}, readable by root only (the config holds the tokens). */
export const WRITE_OEM_CONFIG_COMMAND = `sudo sh -c 'umask 077 && cat > ${OEM_CONFIG_PATH}.tmp && mv ${OEM_CONFIG_PATH}.tmp ${OEM_CONFIG_PATH}'`;

/** The sha256 of the config in /oem (empty output when absent). */
export const OEM_CONFIG_DIGEST_COMMAND = `sudo sh -c 'test -f ${OEM_CONFIG_PATH} && sha256sum ${OEM_CONFIG_PATH} | cut -d" " -f1 || true'`;

/**
 * provider-kairos' one-time bootstrap sentinel: while it exists, k3s args and env in the config are
 * not applied again (docs/kairos-notes.md §6). Removed when a node's k3s settings change, so the
 * next boot applies them.
 */
export const K3S_BOOTSTRAP_SENTINEL = "/usr/local/.kairos/deployed";
export const RESET_K3S_BOOTSTRAP_COMMAND = `sudo rm -f ${K3S_BOOTSTRAP_SENTINEL}`;

/** The kernel's id of the current boot: it changes with every boot. */
export const BOOT_ID_COMMAND = "cat /proc/sys/kernel/random/boot_id";

/** Reboots the node (the SSH session drops). */
export const REBOOT_COMMAND = "sudo reboot";

/** Powers the node off (a node leaving the cluster: its k3s must not join again before the machine goes). */
export const POWEROFF_COMMAND = "sudo poweroff";

/** How many of `servers` embedded-etcd members must stay up: a majority. */
export function etcdQuorum(servers: number): number {
  return Math.floor(servers / 2) + 1;
}
