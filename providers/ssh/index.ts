/** SSH driver: connections, commands, uploads, host keys and the node waits. Knows nothing of Pulumi. */
export type { SshTarget, ConnectOptions, ExecOptions, ExecResult } from "./client";
export {
  sshExec, sshRun, sshUpload, checkTarget, describeTarget, HostKeyMismatchError, OldHostKeyError, SshAuthError, SshDisconnectedError,
  SshCommandError, SshConnectTimeoutError,
} from "./client";
export type { HostKey } from "./hostkey";
export { parseHostKey, formatHostKey, fingerprint, hostKeyFromBlob, sameHostKey } from "./hostkey";
export type { WaitOptions, SshWaitOptions, KubeconfigOptions } from "./waits";
export { waitForSsh, waitForSshDown, waitForK3sReady, fetchKubeconfig, restartPollBounds } from "./waits";
