/** Bare-metal nodes installed over SSH from the Kairos live ISO. */
export type { BareMetalNodeArgs } from "./node";
export { BareMetalNode } from "./node";
export type { BareMetalHost, BareMetalTimeouts, BareMetalNodeInputs, BareMetalNodeOutputs } from "./spec";
export { checkInputs, diffInputs, configDigest, DEFAULT_TIMEOUTS } from "./spec";
export { installNode, probeNode, resetNode, adminTarget } from "./driver";
