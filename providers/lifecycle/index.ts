/** Day-2 lifecycle: applying changes to running nodes (rolling) and taking nodes out of the cluster. */
export { NodeConfig, type NodeConfigArgs, type NodeAccessArgs, type NodeOsInfo } from "./resources";
export { applyNodeChange, removeNode, kubectlVia, NodeChangeError, type ClusterAccess, type NodeAccess, type NodeChange, type DrainOptions } from "./driver";
