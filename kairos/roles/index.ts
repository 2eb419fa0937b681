/** k3s role planning (docs/kairos-notes.md §4, §6) and the explicit-mode kube-vip manifest. */
export {
  planRoles,
  validateClusterSpec,
  assertValidClusterSpec,
  fillEndpoint,
  nodesAwaitingEndpoint,
  nodeName,
  apiUrl,
  ClusterSpecError,
  ENDPOINT_PLACEHOLDER,
  K3S_API_PORT,
  type ClusterSpec,
  type NodePlan,
  type NodeRole,
} from "./plan";
export { kubeVipManifest, KUBE_VIP_VERSION, KUBE_VIP_MANIFEST_PATH, KUBE_VIP_DEFAULT_INTERFACE, type KubeVipManifestOptions } from "./kube-vip";
export { rolloutPredecessors, type RolloutNode } from "./rollout";
