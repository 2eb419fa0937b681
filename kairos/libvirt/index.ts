/** Pure libvirt XML builders (domain, network, volume, pool) and their input checks. */
export type { DomainSpec, DomainType, Firmware, VolumeRef } from "./domain";
export { DOMAIN_TYPES, FIRMWARES, DEFAULT_OVMF, GUEST_AGENT_CHANNEL, CIDATA_TARGET, buildDomainXml, domainSpecIssues, cidataCdromXml } from "./domain";
export type { NetworkSpec, NetworkMode, Subnet } from "./network";
export { NETWORK_MODES, buildNetworkXml, networkSpecIssues, bridgeNameFor, parseSubnet, parseIpv4, formatIpv4, dhcpHostXml } from "./network";
export { nodeMac, nodeAddress, nodeCapacity, FIRST_NODE_OFFSET, type DhcpHost } from "./addressing";
export type { VolumeSpec, VolumeFormat, DirPoolSpec } from "./volume";
export { VOLUME_FORMATS, buildVolumeXml, buildDirPoolXml, volumeSpecIssues } from "./volume";
export type { OwnerMetadata } from "./metadata";
export { METADATA_PREFIX, parseOwnerMetadata, isIsoUtc } from "./metadata";
export type { ValidationIssue } from "./issues";
export { LibvirtSpecError } from "./issues";
