/**
 * k3s writes its kubeconfig for local use: `server: https://127.0.0.1:6443` (docs/kairos-notes.md §4.5).
 * Callers outside the node need the endpoint they can reach instead.
 */
import { isIPv6 } from "net"; // a pure check, no I/O
import * as yaml from "js-yaml";

export const K3S_LOCAL_SERVER = "https://127.0.0.1:6443";

/** Endpoint host: an IPv4/IPv6 address or a DNS name, no scheme, port or path. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `https://<endpoint>:6443`, with IPv6 addresses in brackets. Throws naming a bad endpoint. */
export function k3sServerUrl(endpoint: string): string {
  if (HOSTNAME.test(endpoint)) return `https://${endpoint}:6443`;
  if (isIPv6(endpoint)) return `https://[${endpoint}]:6443`;
  throw new Error(`endpoint: ${JSON.stringify(endpoint)} is not valid; expected an IP address or DNS name without scheme or port (e.g. 192.168.122.10)`);
}

/**
 * Replaces every `https://127.0.0.1:6443` with `https://<endpoint>:6443`. Throws when the text has
 * no such server (not a k3s kubeconfig) without echoing it: it holds the cluster's client key.
 */
export function rewriteKubeconfigServer(kubeconfig: string, endpoint: string): string {
  const url = k3sServerUrl(endpoint);
  if (!kubeconfig.includes(K3S_LOCAL_SERVER)) {
    throw new Error(`kubeconfig: no "server: ${K3S_LOCAL_SERVER}" found (${kubeconfig.length} bytes); expected k3s' /etc/rancher/k3s/k3s.yaml`);
  }
  return kubeconfig.split(K3S_LOCAL_SERVER).join(url);
}

/** k3s names the cluster, the user and the context of its kubeconfig `default`. */
export const K3S_KUBECONFIG_NAME = "default";

/** The kubeconfig context (and cluster and user) name of a cluster: `kairos-<cluster>`. */
export function kubeconfigContextName(cluster: string): string {
  return `kairos-${cluster}`;
}

/**
 * Renames the cluster, user and context called `from` (k3s: `default`) and the current-context to
 * `name`, so the kubeconfig can be merged with others' without collisions. Parsed and dumped as
 * YAML; throws without echoing the text (it holds the cluster's client key).
 */
export function nameKubeconfig(kubeconfig: string, name: string, from = K3S_KUBECONFIG_NAME): string {
  if (!/^[A-Za-z0-9]([-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$/.test(name)) {
    throw new Error(`name: ${JSON.stringify(name)} is not valid; expected a kubeconfig name (letters, digits, '-', '.', '_')`);
  }
  let doc: Record<string, any>;
  try {
    doc = yaml.load(kubeconfig) as Record<string, any>;
  } catch {
    throw new Error(`kubeconfig: not YAML (${kubeconfig.length} bytes); expected k3s' /etc/rancher/k3s/k3s.yaml`);
  }
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.clusters)) throw new Error(`kubeconfig: no clusters (${kubeconfig.length} bytes); expected k3s' /etc/rancher/k3s/k3s.yaml`);
  const rename = (n: unknown) => (n === from ? name : n);
  for (const c of doc.clusters ?? []) c.name = rename(c.name);
  for (const u of doc.users ?? []) u.name = rename(u.name);
  for (const c of doc.contexts ?? []) {
    c.name = rename(c.name);
    if (c.context) {
      c.context.cluster = rename(c.context.cluster);
      c.context.user = rename(c.context.user);
    }
  }
  doc["current-context"] = rename(doc["current-context"]);
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}

/** The base64 PEM of the first user's client certificate, or undefined (not k3s' shape). */
export function kubeconfigClientCertificate(kubeconfig: string): string | undefined {
  try {
    const doc = yaml.load(kubeconfig) as { users?: Array<{ user?: Record<string, string> }> };
    return doc?.users?.[0]?.user?.["client-certificate-data"];
  } catch {
    return undefined;
  }
}
