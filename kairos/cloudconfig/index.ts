/** Cloud-config: the typed model, its renderer, the user-fragment merge and the validator. */
export * from "./model";
export { renderCloudConfig, CLOUD_CONFIG_HEADER, TOP_LEVEL_KEY_ORDER } from "./render";
export { mergeCloudConfig, ConfigConflictError, type MergeCloudConfigOptions } from "./merge";
export {
  validateCloudConfig,
  assertValidCloudConfig,
  CloudConfigError,
  formatIssue,
  MAX_CLOUD_CONFIG_BYTES,
} from "./validate";
