/**
 * What the lifecycle dynamic providers do (`pulumi-kairos/drivers/lifecycle`, reached by package
 * path: ../driver-provider.ts).
 *
 * `nodeConfig`, one per node: the node's config and hardware settings as applied. Create records
 * them (a new node boots with its config from cidata). A later change is an update, never a
 * replacement: the node is drained, takes the change (./driver.ts `applyNodeChange`) and is
 * uncordoned. The component chains the nodes' resources (servers first, then agents), so the
 * engine's dependency order rolls the change one node at a time and stops at the first failure.
 */
import { versioned } from "../state-schema";
import { UNKNOWN_VALUE, secretValue, unwrapSecret } from "../wire";
import { stderrLog } from "../progress";
import * as driver from "./driver";

type Props = Record<string, any>;

/**
 * `reboot`: write to /oem and reboot (every config change reaches Kairos at boot); `staged`: write
 * only, applied at the next reboot; `reinstall`: the node is rebuilt from a fresh disk by its
 * target (a new VM boots the new config from cidata): only recorded here.
 */
export const CONFIG_APPLY_MODES = ["reboot", "staged", "reinstall"] as const;

const SECRETS = ["cloudConfig", "privateKey"];
const withSecrets = (p: Props): Props => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, SECRETS.includes(k) && v !== undefined ? secretValue(v) : v]));
const known = (v: unknown) => v !== UNKNOWN_VALUE && !JSON.stringify(v ?? null).includes(UNKNOWN_VALUE);
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v));

function checkNodeConfig(news: Props): Array<{ property: string; reason: string }> {
  const out: Array<{ property: string; reason: string }> = [];
  const bad = (property: string, value: unknown, expected: string) => out.push({ property, reason: `${property}: ${show(value)} is not valid; expected ${expected}` });
  if (known(news.node) && (typeof news.node !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(news.node))) bad("node", news.node, "a Kubernetes node name");
  if (known(news.mode) && !CONFIG_APPLY_MODES.includes(news.mode)) bad("mode", news.mode, `one of ${CONFIG_APPLY_MODES.map((m) => `"${m}"`).join(", ")}`);
  if (known(news.configDigest) && !/^[0-9a-f]{64}$/.test(String(news.configDigest))) bad("configDigest", news.configDigest, "the sha256 (hex) of cloudConfig");
  const d = news.drain;
  if (known(d) && (!d || !Number.isInteger(d.timeoutSeconds) || d.timeoutSeconds < 1 || typeof d.force !== "boolean")) {
    bad("drain", d, "{ timeoutSeconds: a whole number >= 1, force: true | false }");
  }
  if (known(news.readySeconds) && !(Number.isInteger(news.readySeconds) && news.readySeconds >= 1)) bad("readySeconds", news.readySeconds, "a whole number of seconds >= 1");
  return out;
}

/**
 * What a running node cannot take in place, so it must come with a rebuilt machine: a new k3s join
 * token (its datastore is bound to the old one; k3s has its own `k3s token rotate`) or edgevpn
 * network, and a new admin user (the node would be reached as a user it does not have yet). Known
 * at preview on targets that keep the machine (SSH hosts); libvirt rebuilds the node instead.
 */
function checkInPlace(olds: Props, news: Props): Array<{ property: string; reason: string }> {
  if (news.mode === "reinstall" || olds.node === undefined) return [];
  if (!known(news.machineId) || (news.machineId ?? null) !== (olds.machineId ?? null)) return []; // rebuilt by its target
  const out: Array<{ property: string; reason: string }> = [];
  const fix = 'expected the same as before, or configChange: "reinstall" (the nodes are installed again)';
  if (olds.secretsDigest !== undefined && known(news.secretsDigest) && news.secretsDigest !== olds.secretsDigest) {
    out.push({
      property: "secretsDigest",
      reason: `secretsDigest: the k3s join token or the edgevpn network token of node ${JSON.stringify(news.node)} changed (secrets.rotate, or a token you supply), `
        + `which a running node cannot take in place; ${fix}`,
    });
  }
  if (known(news.adminUser) && olds.adminUser !== undefined && news.adminUser !== olds.adminUser) {
    out.push({ property: "adminUser", reason: `adminUser: ${JSON.stringify(news.adminUser)} is not valid for running node ${JSON.stringify(news.node)} (it has ${JSON.stringify(olds.adminUser)}); ${fix}` });
  }
  return out;
}

export const nodeConfig = versioned("kairos-lifecycle:NodeConfig", {
  async check(olds, news) {
    return { inputs: news, failures: [...checkNodeConfig(news), ...checkInPlace(olds, news)] };
  },

  /** A new config or new hardware settings is an update (applied, rolling); nothing here replaces. */
  async diff(_id, olds, news) {
    const pending = news.configDigest !== olds.appliedConfigDigest || (news.restartDigest ?? "") !== (olds.appliedRestartDigest ?? "");
    const settings = ["address", "port", "servers", "mode", "drain", "readySeconds", "libvirt", "consoleLogFile", "adminUser", "machineId", "secretsDigest"]
      .some((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
    return { changes: pending || settings, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs) {
    return {
      id: `node-config-${inputs.node}`,
      outs: withSecrets({
        ...inputs, appliedConfigDigest: inputs.configDigest, appliedK3sDigest: inputs.k3sDigest ?? "",
        appliedRestartDigest: inputs.restartDigest ?? "", pendingReboot: false,
      }),
    };
  },

  async update(_id, olds, news) {
    const configChanged = news.configDigest !== olds.appliedConfigDigest;
    const restartChanged = (news.restartDigest ?? "") !== (olds.appliedRestartDigest ?? "");
    const next = { ...olds, ...news };
    const recorded = {
      ...next, appliedConfigDigest: news.configDigest, appliedK3sDigest: news.k3sDigest ?? "", appliedRestartDigest: news.restartDigest ?? "", pendingReboot: false,
    };
    if (!configChanged && !restartChanged) return { outs: withSecrets(next) };
    // A new machine (rebuilt by its target) booted its current config and hardware settings already.
    const rebuilt = olds.machineId !== undefined && news.machineId !== olds.machineId;
    if (rebuilt || (news.mode === "reinstall" && !restartChanged)) return { outs: withSecrets(recorded) };
    const staged = news.mode === "staged" && !restartChanged;
    const access: driver.ClusterAccess = {
      adminUser: news.adminUser, privateKey: String(unwrapSecret(news.privateKey)), previousPrivateKey: String(unwrapSecret(olds.privateKey) ?? ""), servers: news.servers ?? [],
    };
    await driver.applyNodeChange(access, { name: news.node, address: news.address, port: news.port }, {
      config: configChanged ? String(unwrapSecret(news.cloudConfig)) : undefined,
      k3sChanged: configChanged && (news.k3sDigest ?? "") !== (olds.appliedK3sDigest ?? ""),
      restart: staged ? "none" : restartChanged ? "powercycle" : "reboot",
    }, { drain: news.drain, readySeconds: news.readySeconds, libvirt: news.libvirt, consoleLogFile: news.consoleLogFile, log: stderrLog });
    return {
      outs: withSecrets({
        ...next, appliedConfigDigest: news.configDigest, appliedK3sDigest: news.k3sDigest ?? "",
        appliedRestartDigest: news.restartDigest ?? "", pendingReboot: staged,
      }),
    };
  },

  async read(id, props) {
    return { id, props: withSecrets(props) };
  },

  async delete() {
    // The node leaves the cluster through ClusterReady's update (scale-down) or with the whole cluster.
  },
});
