/**
 * k3s writes its kubeconfig for local use: `server: https://127.0.0.1:6443` (docs/kairos-notes.md §4.5).
 * Callers outside the node need the endpoint they can reach instead.
 */
import { isIPv6 } from "net"; // a pure check, no I/O

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
