/**
 * The libvirt driver: everything the libvirt dynamic providers do, over `virsh -c <uri>` and
 * `qemu-img`. Knows nothing of Pulumi. Providers `require()` this module inside their methods.
 */
export * from "./virsh";
export * from "./uri";
export * from "./preflight";
export * from "./volumes";
export * from "./networks";
export * from "./domains";
export * from "./boot";
export * from "./pending-creates";
export type { DomainSpec, NetworkSpec, OwnerMetadata } from "../../kairos/libvirt";
