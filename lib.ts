/**
 * The public entry of the `pulumi-kairos` package: `import * as kairos from "pulumi-kairos"`.
 *
 * An explicit list: what is exported here is the API (semver applies); everything else in the
 * package is internal and may change in any release. Components (Pulumi resources) first, then the
 * pure functions they are built from, for programs that render or check a Kairos config without
 * deploying anything. Each symbol carries its documentation where it is declared.
 */

// ---- Components ----------------------------------------------------------------------------

/** A Kairos k3s cluster in one resource: nodes on libvirt, bare metal over SSH, or boot media. */
export { KairosCluster, KairosClusterArgsError } from "./components/kairos-cluster";
export type {
  KairosClusterArgs, ClusterNodeInfo, ClusterImageArgs, ClusterTargetArgs, ClusterK3sArgs, ClusterP2pArgs, ClusterSecretsOptions,
  ClusterTimeoutsArgs, ClusterRolloutArgs, ClusterUpgradeArgs, NodeOsInfo, LibvirtTargetArgs, LibvirtNetworkArgs, SshTargetArgs, SshTargetHost, MediaTargetArgs,
} from "./components/kairos-cluster";

/** The root of a cluster's secrets (edgevpn token, k3s token, admin SSH key), generated once. */
export { ClusterSecrets, type ClusterSecretsArgs } from "./components/cluster-secrets";

/** A Kairos OS image built from a base distro (kairos-init, AuroraBoot) as ISO, raw or qcow2 artifacts. */
export { KairosImage, pickClusterImage } from "./components/kairos-image";
export type { KairosImageArgs, LocalImageBuilder, KubernetesImageBuilder, OSArtifactLocation } from "./components/kairos-image";
export { clusterImageFor, type ArtifactInfo, type ClusterImageRef } from "./kairos/image/artifact";

/** One bare-metal machine installed over SSH from the Kairos live ISO (KairosCluster's `ssh` target uses it). */
export { BareMetalNode, type BareMetalNodeArgs } from "./providers/baremetal/node";

// ---- Pure functions: cloud-config ----------------------------------------------------------

export { renderCloudConfig } from "./kairos/cloudconfig/render";
export { validateCloudConfig, assertValidCloudConfig, CloudConfigError } from "./kairos/cloudconfig/validate";
export { mergeCloudConfig, ConfigConflictError, type MergeCloudConfigOptions } from "./kairos/cloudconfig/merge";
export type {
  CloudConfig, User, WriteFile, StageStep, StageFile, InstallConfig, PartitionSpec, K3sConfig, P2PConfig, KubeVipConfig, ValidationIssue,
} from "./kairos/cloudconfig/model";

// ---- Pure functions: edgevpn token, roles, per-node configs ------------------------------

export { generateNetworkToken, decodeNetworkToken, encodeNetworkToken, NetworkTokenError } from "./kairos/edgevpn/token";
export type { NetworkToken, OtpSpec, GenerateNetworkTokenOptions } from "./kairos/edgevpn/token";
export { planRoles, fillEndpoint, validateClusterSpec, ClusterSpecError } from "./kairos/roles/plan";
export type { ClusterSpec, NodePlan, NodeRole } from "./kairos/roles/plan";
export { kubeVipManifest, type KubeVipManifestOptions } from "./kairos/roles/kube-vip";
export { buildNodeConfigs, configDigest, DEFAULT_ADMIN_USER } from "./kairos/cluster-config";
export type { BuildNodeConfigsInput, NodeConfig, BootMode } from "./kairos/cluster-config";

// ---- Pure functions: image build command lines ------------------------------------------

/** Dockerfile (kairos-init), AuroraBoot argv, Kairos image tags and the in-cluster OSArtifact, as pure functions. */
export * as image from "./kairos/image";

// ---- Pure functions: OS upgrades -----------------------------------------------------------

/** Kairos image tags, the upgrade refusals checked at preview, and the kairos-operator NodeOpUpgrade spec. */
export { parseKairosImageRef, validateOsImageRef, checkUpgrade, nodeOpUpgradeSpec, type KairosImageRef } from "./kairos/upgrade";
