/**
 * libvirt target: the dynamic resources (what components compose) and the driver (for tools and
 * tests). Providers load `impl.ts` by absolute path at run time (see load.ts).
 */
export { BaseImageVolume, CidataVolume, Domain, Network, NodeDisk } from "./resources";
export type { BaseImageVolumeArgs, CidataVolumeArgs, DomainArgs, LibvirtOwnerArgs, NetworkArgs, NodeDiskArgs } from "./resources";
export { DEFAULT_URI, userDataDigest } from "./impl";
export type { Connection } from "./virsh";
