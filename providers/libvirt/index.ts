/**
 * libvirt target: the dynamic resources (what components compose) and the driver (for tools and
 * tests). Providers reach `impl.ts` by package path at run time (../driver-provider.ts).
 */
export { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "./resources";
export type { BaseImageVolumeArgs, CidataVolumeArgs, DomainArgs, EphemeralMarkArgs, LibvirtOwnerArgs, NetworkArgs, NodeDiskArgs } from "./resources";
export { DEFAULT_URI, userDataDigest } from "./impl";
export type { Connection } from "./virsh";
