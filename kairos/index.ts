/**
 * The pure Kairos domain, as users may import it: cloud-config model/renderer/validator, the edgevpn
 * token, k3s role planning, per-node config composition, image naming and build command lines.
 * No Pulumi, no I/O (DESIGN.md, layer kairos/).
 */
export * from "./cloudconfig";
export * from "./edgevpn";
export * from "./roles";
export { buildNodeConfigs, configDigest, DEFAULT_ADMIN_USER, NODE_OWNED_PATHS } from "./cluster-config";
export type { BuildNodeConfigsInput, NodeConfig, BootMode } from "./cluster-config";
export { physicalName } from "./names";
