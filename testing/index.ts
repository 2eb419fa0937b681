/**
 * `pulumi-kairos/testing`: ephemeral Kairos clusters for tests. Creates a cluster through Pulumi's
 * Automation API (needs the Pulumi CLI on PATH), returns it once every node is Ready, and destroys
 * it on dispose, on SIGINT/SIGTERM and at process exit. `reap` removes the libvirt objects of
 * ephemeral clusters left behind (expired, or whose state folder is gone; docs/reaper.md).
 */
export { createEphemeralCluster, withKairosCluster, EphemeralCluster, EphemeralClusterError, type EphemeralClusterOptions } from "./ephemeral";
export { PULUMI_CLI_MISSING } from "./automation";
export type { ClusterEngine, EngineResource, ProgramOutputs } from "./engine";
export { reap, type ReapOptions, type ReapReport, type ReapedCluster, type ReapObject, type ReapReason } from "./reap";
export { parseDuration } from "./duration";
