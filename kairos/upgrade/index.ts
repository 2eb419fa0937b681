/**
 * Declarative OS upgrades, pure: reading Kairos image tags, the refusals checked at preview, the
 * commands of an upgrade over SSH and the checks after it, and the kairos-operator NodeOpUpgrade.
 */
export type { KairosImageRef } from "./reference";
export { parseKairosImageRef, validateOsImageRef } from "./reference";
export type { UpgradeCheck } from "./policy";
export { checkUpgrade } from "./policy";
export type { BootState, ExpectedRelease } from "./release";
export {
  KAIROS_RELEASE_COMMAND, BOOT_STATE_COMMAND, K3S_VERSION_COMMAND, BOOT_STATES, parseBootState, upgradeCommand,
  parseKairosRelease, expectedRelease, releaseMismatch, parseK3sVersion,
} from "./release";
export type { NodeLabelSelector, NodeOpUpgradeOptions, NodeOpUpgradeSpec } from "./nodeop";
export {
  NODEOPUPGRADE_API_VERSION, NODEOPUPGRADE_KIND, NODEOPUPGRADE_PHASES, NodeOpUpgradeOptionsError, nodeOpUpgradeProblems,
  nodeOpUpgradeSpec, NODEOPUPGRADE_WAIT_FOR, nodeOpUpgradeWaitAnnotations, KAIROS_OPERATOR_CHART,
} from "./nodeop";
