/**
 * What `ClusterReady`'s dynamic provider does (`pulumi-kairos/drivers/readiness`, kind
 * `clusterReady`, reached by package path: ../driver-provider.ts). Create waits until the cluster
 * is usable (./driver.ts) and keeps the kubeconfig as a secret output. The wait happens in create,
 * never in an invoke, so preview and destroy don't block on a dead cluster. Delete removes nothing
 * (the nodes are other resources); read returns the state.
 */
import { versioned } from "../state-schema";
import { UNKNOWN_VALUE as UNKNOWN, secretValue, unwrapSecret as unwrap } from "../wire";
import * as driver from "./driver";

/**
 * Inputs whose change means another cluster (or other nodes) to wait for: replace. Of `nodes`, only
 * who and where (name, address, port); diagnostics (console log, libvirt domain) and timeouts update.
 */
const REPLACE_ON = ["mode", "adminUser", "privateKey", "nodes", "endpoint"];
const UPDATE_ON = ["nodes", "sshTimeoutSeconds", "readyTimeoutSeconds", "intervalMs"];
const identity = (k: string, v: unknown): unknown =>
  k === "nodes" && Array.isArray(v) ? v.map((n: Record<string, unknown>) => ({ name: n?.name, address: n?.address, port: n?.port ?? 22 })) : v;

/** State with its secrets wrapped, so the engine stores them encrypted. */
const withSecrets = (p: Record<string, unknown>) => ({
  ...p,
  ...(p.kubeconfig === undefined ? {} : { kubeconfig: secretValue(p.kubeconfig) }),
  ...(p.privateKey === undefined ? {} : { privateKey: secretValue(p.privateKey) }),
});

export const clusterReady = versioned("kairos-readiness:ClusterReady", {
  async check(_olds, news) {
    const known = Object.fromEntries(Object.entries(news).filter(([, v]) => v !== UNKNOWN && !JSON.stringify(v ?? null).includes(UNKNOWN)));
    return { inputs: news, failures: driver.validateReadyInputs(known) };
  },

  async diff(_id, olds, news) {
    const differs = (k: string, view: (k: string, v: unknown) => unknown) => JSON.stringify(view(k, unwrap(olds[k])) ?? null) !== JSON.stringify(view(k, unwrap(news[k])) ?? null);
    const replaces = REPLACE_ON.filter((k) => differs(k, identity));
    const changes = replaces.length > 0 || UPDATE_ON.some((k) => differs(k, (_k, v) => v));
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const plain = { ...inputs, privateKey: unwrap(inputs.privateKey) } as driver.ClusterReadyInputs;
    const out = await driver.waitClusterReady(plain);
    const id = `ready-${plain.nodes.map((n) => n.name).join(",").length}-${Date.now().toString(36)}`;
    return { id, outs: withSecrets({ ...inputs, ...out }) };
  },

  async update(_id, olds, news) {
    // Only wait bounds or diagnostics changed (or the state is stale): the cluster was already found ready; keep what was seen.
    return { outs: withSecrets({ ...olds, ...news }) };
  },

  async read(id, props) {
    return { id, props: withSecrets(props) };
  },

  async delete() {
    // Nothing outside Pulumi's state: the nodes are their own resources.
  },
});
