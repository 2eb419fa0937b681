/**
 * The public entry of the `pulumi-kairos` package: `import * as kairos from "pulumi-kairos"`.
 *
 * Components (Pulumi resources) first, then the pure functions they are built from, for users who
 * want to render or check a Kairos config without deploying anything.
 */
export * from "./components/kairos-cluster";
export { ClusterSecrets, type ClusterSecretsArgs } from "./components/cluster-secrets";
export * from "./components/kairos-image";

export * from "./kairos";
export * as image from "./kairos/image";
export { BareMetalNode } from "./providers/baremetal";
