/** Cluster readiness: the ClusterReady dynamic resource and its Pulumi-free driver. */
export { ClusterReady, CLUSTER_READY_MODULE, type ClusterReadyArgs } from "./provider";
export { waitClusterReady, validateReadyInputs, consoleTail, type ClusterReadyInputs, type ClusterReadyOutputs, type ReadinessNode } from "./driver";
