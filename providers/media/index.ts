/** Boot media written to a folder: per-node cidata seed ISOs and per-role zero-touch installer ISOs. */
export { NodeMedia, type NodeMediaArgs } from "./provider";
export type { MediaFile, NodeMediaInputs, NodeMediaOutputs, RoleIsoSpec } from "./spec";
export { checkInputs, cidataPath, roleIsoPath, roleCloudConfig } from "./spec";
export { writeNodeMedia, checkNodeMedia, removeNodeMedia, roleIsoArgv } from "./driver";
