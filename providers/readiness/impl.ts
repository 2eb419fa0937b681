/**
 * What `ClusterReady`'s dynamic provider does (`pulumi-kairos/drivers/readiness`, kind
 * `clusterReady`, reached by package path: ../driver-provider.ts). Create waits until the cluster
 * is usable (./driver.ts) and keeps the kubeconfig as a secret output. The wait happens in create,
 * never in an invoke, so preview and destroy don't block on a dead cluster.
 *
 * Nodes joining or leaving are an update, never a replacement: the kubeconfig (and the Kubernetes
 * provider and workloads built on it) stays. A node that leaves is cordoned, drained and deleted
 * from Kubernetes via a remaining server (../lifecycle/driver.ts `removeNode`) here, before the
 * engine deletes its machine (removed resources go after all updates). Refresh looks at the
 * cluster again: NotReady nodes show in the diff (the next `up` waits for them), the kubeconfig is
 * read again from a server, and a client certificate near its end is warned about. Delete removes
 * nothing: the nodes are their own resources, and a cluster destroyed whole is not drained.
 */
import { K3S_KUBECONFIG_NAME, nameKubeconfig } from "../../kairos/scripts";
import { removeNode } from "../lifecycle/driver";
import { stderrLog } from "../progress";
import { versioned } from "../state-schema";
import { UNKNOWN_VALUE as UNKNOWN, secretValue, unwrapSecret as unwrap } from "../wire";
import * as driver from "./driver";

type Props = Record<string, any>;

/** Inputs whose change means another cluster to wait for: replace. */
const REPLACE_ON = ["mode", "adminUser", "endpoint"];
/**
 * Nodes joining or leaving, wait bounds, diagnostics, names, and a new admin key (the nodes take it
 * only when their NodeConfigs roll, after this resource): update.
 */
const UPDATE_ON = ["nodes", "sshTimeoutSeconds", "readyTimeoutSeconds", "intervalMs", "contextName", "drain", "privateKey"];
const DEFAULT_DRAIN = { timeoutSeconds: 300, force: false };

/** Who and where a node is, and which machine (a replaced VM is a new one): a change means the node is waited for again. */
const whereabouts = (n: Props) => JSON.stringify({ name: n?.name, address: n?.address, port: n?.port ?? 22, machine: n?.libvirt?.domain ?? null });
const nodesOf = (p: Props): driver.ReadinessNode[] => (Array.isArray(p.nodes) ? p.nodes : []);

/** State with its secrets wrapped, so the engine stores them encrypted. */
const withSecrets = (p: Props) => ({
  ...p,
  ...(p.kubeconfig === undefined ? {} : { kubeconfig: secretValue(unwrap(p.kubeconfig)) }),
  ...(p.privateKey === undefined ? {} : { privateKey: secretValue(unwrap(p.privateKey)) }),
});
const plainInputs = (p: Props) => ({ ...p, privateKey: String(unwrap(p.privateKey) ?? "") }) as driver.ClusterReadyInputs;
const without = <T>(xs: T[] | undefined, gone: Set<string>, name: (x: T) => string) => (xs ?? []).filter((x) => !gone.has(name(x)));

/** Warns when the kubeconfig's client certificate ends within CERT_WARN_DAYS. */
function warnIfExpiring(certExpiresAt: string | undefined, now = Date.now()): void {
  if (!certExpiresAt) return;
  const days = Math.floor((Date.parse(certExpiresAt) - now) / 86_400_000);
  if (days < driver.CERT_WARN_DAYS) {
    stderrLog.warn(`the kubeconfig's client certificate ${days < 0 ? "expired" : "expires"} on ${certExpiresAt} (${days} days); `
      + "k3s renews its certificates when it restarts close to their end (docs/kairos-notes.md §13): reboot a server (or restart k3s on it), then pulumi refresh");
  }
}

export const clusterReady = versioned("kairos-readiness:ClusterReady", {
  async check(_olds, news) {
    const known = Object.fromEntries(Object.entries(news).filter(([, v]) => v !== UNKNOWN && !JSON.stringify(v ?? null).includes(UNKNOWN)));
    return { inputs: news, failures: driver.validateReadyInputs(known) };
  },

  async diff(_id, olds, news) {
    const differs = (k: string) => JSON.stringify(unwrap(olds[k]) ?? null) !== JSON.stringify(unwrap(news[k]) ?? null);
    const replaces = REPLACE_ON.filter(differs);
    // NotReady nodes seen by a refresh: the next up waits for them again.
    const changes = replaces.length > 0 || UPDATE_ON.some(differs) || (olds.notReady ?? []).length > 0;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const plain = plainInputs(inputs);
    const out = await driver.waitClusterReady(plain);
    const id = `ready-${plain.nodes.map((n) => n.name).join(",").length}-${Date.now().toString(36)}`;
    return { id, outs: withSecrets({ ...inputs, ...out, notReady: [], kubeconfigContext: plain.contextName ?? K3S_KUBECONFIG_NAME }) };
  },

  async update(_id, olds, news) {
    const plain = plainInputs(news);
    const before = nodesOf(olds);
    const gone = new Set(before.map((n) => n.name).filter((name) => !plain.nodes.some((n) => n.name === name)));
    if (gone.size > 0) {
      const access = { adminUser: plain.adminUser, privateKey: plain.privateKey, previousPrivateKey: String(unwrap(olds.privateKey) ?? ""), servers: driver.kubectlCandidates(plain) };
      for (const node of before.filter((n) => gone.has(n.name))) {
        await removeNode(access, node, { drain: plain.drain ?? DEFAULT_DRAIN, log: stderrLog });
      }
    }
    // State from before kubeconfig names (0.2) keeps k3s' names until a refresh, so the Kubernetes
    // provider records its clusterIdentifier first and a renamed context never replaces it.
    const context = olds.kubeconfig !== undefined && olds.kubeconfigContext === undefined ? K3S_KUBECONFIG_NAME : (plain.contextName ?? K3S_KUBECONFIG_NAME);
    const joined = plain.nodes.some((n) => !before.some((o) => whereabouts(o) === whereabouts(n)));
    if (joined || (olds.notReady ?? []).length > 0) {
      const out = await driver.waitClusterReady({ ...plain, contextName: context === K3S_KUBECONFIG_NAME ? undefined : context });
      return { outs: withSecrets({ ...olds, ...news, ...out, notReady: [], kubeconfigContext: context }) };
    }
    const from = olds.kubeconfigContext ?? K3S_KUBECONFIG_NAME;
    const kubeconfig = olds.kubeconfig !== undefined && from !== context ? nameKubeconfig(String(unwrap(olds.kubeconfig)), context, from) : olds.kubeconfig;
    return {
      outs: withSecrets({
        ...olds, ...news, kubeconfig, kubeconfigContext: context,
        readyNodes: without<string>(olds.readyNodes, gone, (x) => x),
        hostKeys: Object.fromEntries(Object.entries(olds.hostKeys ?? {}).filter(([k]) => !gone.has(k))),
      }),
    };
  },

  /** One bounded look at the cluster (./driver.ts `probeCluster`); never waits for it to get better. */
  async read(id, props) {
    const plain = plainInputs(props);
    if (nodesOf(props).length === 0 || !plain.privateKey) return { id, props: withSecrets(props) };
    const context = plain.contextName; // a kubeconfig read again is named as the inputs say
    const probe = await driver.probeCluster({ ...plain, contextName: context }, props.hostKeys);
    if (!probe.reachable) {
      stderrLog.warn(`refresh: no server of the cluster answered (${probe.error}); every node is reported not ready`);
      return { id, props: withSecrets({ ...props, readyNodes: [], notReady: plain.nodes.map((n) => ({ name: n.name, status: "unreachable" })) }) };
    }
    for (const n of probe.notReady) stderrLog.warn(`refresh: node ${n.name} is ${n.status}`);
    warnIfExpiring(probe.certExpiresAt ?? props.certExpiresAt);
    return {
      id,
      props: withSecrets({
        ...props, readyNodes: probe.readyNodes, notReady: probe.notReady,
        ...(probe.kubeconfig ? { kubeconfig: probe.kubeconfig, kubeconfigContext: context ?? K3S_KUBECONFIG_NAME } : {}),
        ...(probe.certExpiresAt ? { certExpiresAt: probe.certExpiresAt } : {}),
      }),
    };
  },

  async delete() {
    // Nothing outside Pulumi's state: the nodes are their own resources.
  },
});
