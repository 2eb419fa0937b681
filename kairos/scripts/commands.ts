/**
 * The remote commands the project runs on Kairos nodes over SSH, as pure functions. The exact
 * strings are a contract: the stand-in guest (test/fixtures/standin-guest/guest/) and the live-host
 * stand-in (test/fixtures/live-host/) implement them, so keep them in step.
 */
import { shellJoin, shellQuote } from "./quote";

/**
 * Readiness probe: lists nodes without headers (`NAME STATUS ROLES AGE VERSION`), parsed by
 * `parseNodes`. Runs on a server node; k3s' embedded kubectl reads /etc/rancher/k3s/k3s.yaml, which
 * is root-only, hence sudo (the Kairos admin user has passwordless sudo, docs/kairos-notes.md §3.4).
 */
export const K3S_NODES_COMMAND = "sudo k3s kubectl get nodes --no-headers";

/** Where k3s writes the admin kubeconfig on servers (docs/kairos-notes.md §4.5), server `https://127.0.0.1:6443`. */
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";

/**
 * The edgevpn API of the p2p daemon. ⚠ provider-kairos v2.16.2 (bc8f769) changed the CLI default
 * `--api` to a unix socket the daemon does not listen on; pass TCP with its scheme (docs/kairos-notes.md §4.5,
 * provider-kairos internal/cli/get_kubeconfig.go).
 */
export const P2P_API_URL = "http://127.0.0.1:8080";

/** How the kubeconfig is obtained: from k3s' file on a server, or from the p2p ledger. */
export type KubeconfigMode = "explicit" | "p2p";

/** The command that prints the cluster's kubeconfig on a node. */
export function kubeconfigCommand(mode: KubeconfigMode): string {
  switch (mode) {
    case "explicit":
      return `sudo cat ${K3S_KUBECONFIG_PATH}`;
    case "p2p":
      // kairos(ctl) get-kubeconfig already replaces 127.0.0.1 with the master's address.
      return `sudo kairos get-kubeconfig --api ${P2P_API_URL}`;
    default:
      throw new Error(`kubeconfig mode: ${JSON.stringify(mode)} is not supported; use "explicit" or "p2p"`);
  }
}

/** Accepted install devices: `auto` (Kairos picks the largest disk) or a device path. */
export const INSTALL_DEVICE_PATTERN = /^(auto|\/dev\/.+)$/;

/**
 * Makes a fresh private directory for the uploaded config and prints its path: umask 077 makes it
 * 0700 (mktemp -d already does, the umask also covers the file). Under /tmp because the live ISO's
 * home is in RAM anyway and /tmp is writable for every live user.
 */
export const MAKE_PRIVATE_DIR_COMMAND = "umask 077 && mktemp -d /tmp/kairos-install.XXXXXXXX";

/** Name of the uploaded cloud-config inside the private directory. */
export const INSTALL_CONFIG_FILE = "cloud-config.yaml";

/**
 * Installs Kairos from a live system onto `device` with the config at `configPath`, then reboots
 * (kairos-agent internal/agent/install.go: `manual-install <file|url> [--device --reboot]`,
 * docs/kairos-notes.md §8.1; kairos-docs "Manual installation": `sudo kairos-agent manual-install --device "auto" $CONFIG`).
 */
export function manualInstallCommand(device: string, configPath: string): string {
  if (!INSTALL_DEVICE_PATTERN.test(device)) {
    throw new Error(`device: ${JSON.stringify(device)} is not valid; expected "auto" or a path under /dev/ (e.g. /dev/sda)`);
  }
  if (!configPath.startsWith("/")) {
    throw new Error(`configPath: ${JSON.stringify(configPath)} is not valid; expected an absolute path`);
  }
  return shellJoin(["sudo", "kairos-agent", "manual-install", "--device", device, "--reboot", configPath]);
}

/** Removes the private upload directory (after a failed install; a reboot clears /tmp anyway). */
export function removePrivateDirCommand(dir: string): string {
  if (!/^\/tmp\/kairos-install\.[A-Za-z0-9]+$/.test(dir)) {
    throw new Error(`dir: ${JSON.stringify(dir)} is not a directory made by MAKE_PRIVATE_DIR_COMMAND`);
  }
  return `rm -rf ${shellQuote(dir)}`;
}

/**
 * Wipes the node back to its factory state and reboots, unattended: the command AuroraBoot's raw
 * images run on first boot (AuroraBoot pkg/ops/rawDiskGeneration.go `01_reset.yaml`, docs/kairos-notes.md §8.4).
 */
export const RESET_COMMAND = "sudo kairos-agent reset --unattended --reboot";
