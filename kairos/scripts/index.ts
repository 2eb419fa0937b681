/** Remote commands and their output parsers, pure: what the SSH driver sends and reads back. */
export { shellQuote, shellJoin } from "./quote";
export type { KubeconfigMode } from "./commands";
export {
  K3S_NODES_COMMAND, K3S_KUBECONFIG_PATH, P2P_API_URL, kubeconfigCommand, INSTALL_DEVICE_PATTERN,
  MAKE_PRIVATE_DIR_COMMAND, INSTALL_CONFIG_FILE, manualInstallCommand, removePrivateDirCommand, RESET_COMMAND,
} from "./commands";
export type { NodeStatus, Readiness } from "./nodes";
export { kubeletReady, parseNodes, nodesReadiness, describeReadiness } from "./nodes";
export { K3S_LOCAL_SERVER, k3sServerUrl, rewriteKubeconfigServer, nameKubeconfig, kubeconfigClientCertificate, kubeconfigContextName, K3S_KUBECONFIG_NAME } from "./kubeconfig";
export {
  cordonCommand, uncordonCommand, drainCommand, cordonAndDrainCommand, deleteNodeCommand, OEM_CONFIG_PATH, WRITE_OEM_CONFIG_COMMAND, OEM_CONFIG_DIGEST_COMMAND,
  K3S_BOOTSTRAP_SENTINEL, RESET_K3S_BOOTSTRAP_COMMAND, REBOOT_COMMAND, BOOT_ID_COMMAND, POWEROFF_COMMAND, etcdQuorum,
} from "./day2";
