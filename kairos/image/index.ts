/** Pure image domain: spec validation, Dockerfile, AuroraBoot argv, tags, content key, OSArtifact. */
export * from "./spec";
export { installCommand } from "./packages";
export { imageTag, imageRef, artifactBaseName, variantOf, type Variant } from "./tags";
export { renderDockerfile, kairosInitFlags } from "./dockerfile";
export * from "./auroraboot";
export { contentKey, sha256Hex, type ContentKeyInput } from "./content-key";
export * from "./osartifact";
export { clusterImageFor, type ClusterImageRef, type ArtifactInfo } from "./artifact";
