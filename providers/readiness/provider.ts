/**
 * `ClusterReady` (`pulumi-nodejs:dynamic/kairos-readiness:ClusterReady`): a dynamic resource whose
 * create waits until the cluster is usable (./driver.ts) and keeps the kubeconfig as a secret output.
 * The wait happens in create, never in an invoke, so preview and destroy don't block on a dead
 * cluster. Delete removes nothing (the nodes are other resources); read returns the state.
 *
 * Serialization: the methods load the driver by an absolute path through providers/load-driver.ts,
 * so the serialized provider stays small.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadDriverModule } from "../load-driver";
import type * as Driver from "./driver";

const DRIVER_MODULE = path.join(__dirname, "driver");

function loadReadinessDriver(): typeof Driver {
  return loadDriverModule<typeof Driver>(DRIVER_MODULE);
}

// Pulumi's wire encodings (@pulumi/pulumi runtime/rpc.ts: specialSigKey, specialSecretSig,
// unknownValue), inlined so the serialized provider does not capture the SDK.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Inputs whose change means another cluster (or other nodes) to wait for: replace. Timeouts only update. */
const REPLACE_ON = ["mode", "adminUser", "privateKey", "nodes", "endpoint"];

const secretValue = (v: unknown) => ({ [SIG_KEY]: SECRET_SIG, value: v });
const unwrap = (v: unknown): unknown => (typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG ? (v as { value: unknown }).value : v);

export const clusterReadyProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const known = Object.fromEntries(Object.entries(news).filter(([, v]) => v !== UNKNOWN && !JSON.stringify(v ?? null).includes(UNKNOWN)));
    return { inputs: news, failures: loadReadinessDriver().validateReadyInputs(known) };
  },

  async diff(_id, olds, news) {
    const replaces = REPLACE_ON.filter((k) => JSON.stringify(unwrap(olds[k]) ?? null) !== JSON.stringify(unwrap(news[k]) ?? null));
    const changes = replaces.length > 0 || ["sshTimeoutSeconds", "readyTimeoutSeconds", "intervalMs"].some((k) => olds[k] !== news[k]);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const driver = loadReadinessDriver();
    const plain = { ...inputs, privateKey: unwrap(inputs.privateKey) } as Driver.ClusterReadyInputs;
    const out = await driver.waitClusterReady(plain);
    const id = `ready-${plain.nodes.map((n) => n.name).join(",").length}-${Date.now().toString(36)}`;
    return { id, outs: { ...inputs, ...out, kubeconfig: secretValue(out.kubeconfig) } };
  },

  async update(_id, _olds, news) {
    // Only wait bounds changed: the cluster was already found ready; keep what was seen.
    return { outs: { ..._olds, ...news } };
  },

  async read(id, props) {
    return { id, props: props?.kubeconfig === undefined ? props : { ...props, kubeconfig: secretValue(unwrap(props.kubeconfig)) } };
  },

  async delete() {
    // Nothing outside Pulumi's state: the nodes are their own resources.
  },
};

/** Inputs of ClusterReady; see ./driver.ts `ClusterReadyInputs` for meanings. */
export interface ClusterReadyArgs {
  mode: pulumi.Input<"explicit" | "p2p">;
  adminUser: pulumi.Input<string>;
  /** Secret. */
  privateKey: pulumi.Input<string>;
  nodes: pulumi.Input<pulumi.Input<{ name: string; address: string; port?: number; consoleLogFile?: string }>[]>;
  endpoint?: pulumi.Input<string>;
  /** In seconds. */
  sshTimeoutSeconds: pulumi.Input<number>;
  /** In seconds. */
  readyTimeoutSeconds: pulumi.Input<number>;
  /** Pause between attempts, in ms. @default 2000 */
  intervalMs?: pulumi.Input<number>;
}

export const CLUSTER_READY_MODULE = "kairos-readiness";

/** Waits in create for SSH, k3s Ready and the kubeconfig. Use through KairosCluster; usable alone. */
export class ClusterReady extends pulumi.dynamic.Resource {
  /** Admin kubeconfig pointed at the endpoint. Secret. */
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly apiEndpoint: pulumi.Output<string>;
  declare readonly hostKeys: pulumi.Output<Record<string, string>>;
  declare readonly readyNodes: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      clusterReadyProvider,
      name,
      { ...args, privateKey: pulumi.secret(args.privateKey), kubeconfig: undefined, apiEndpoint: undefined, hostKeys: undefined, readyNodes: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig", "privateKey"] }),
      CLUSTER_READY_MODULE,
      "ClusterReady",
    );
  }
}
