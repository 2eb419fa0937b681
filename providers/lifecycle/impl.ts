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
import { checkUpgrade, expectedRelease, parseKairosImageRef, releaseMismatch, validateOsImageRef } from "../../kairos/upgrade";
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
  if (known(news.osImage) && news.osImage !== undefined) {
    const problem = typeof news.osImage === "string" ? validateOsImageRef("osImage", news.osImage) : `osImage: ${show(news.osImage)} is not valid; expected an OCI image reference`;
    if (problem) out.push({ property: "osImage", reason: problem });
  }
  const u = news.upgrade;
  if (known(u) && u !== undefined && (!u || !["ssh", "operator"].includes(u.by) || typeof u.recovery !== "boolean" || typeof u.force !== "boolean")) {
    bad("upgrade", u, '{ by: "ssh" | "operator", recovery: true | false, force: true | false }');
  }
  return out;
}

/** The image the node was last upgraded to (or recorded with), if any: from its outputs, or its old inputs in check. */
const appliedImage = (olds: Props): string | undefined => olds.appliedOsImage ?? olds.osImage ?? undefined;

/**
 * An OS image change pulumi-kairos refuses at preview (k3s minor skip or downgrade, another
 * flavor, ...: kairos/upgrade/policy.ts), before any node is drained.
 */
function checkOsImage(olds: Props, news: Props): Array<{ property: string; reason: string }> {
  const from = appliedImage(olds);
  if (!from || !known(news.osImage) || typeof news.osImage !== "string" || news.osImage === from) return [];
  return checkUpgrade({ field: "osImage", from, to: news.osImage, force: news.upgrade?.force === true })
    .map((reason) => ({ property: "osImage", reason: `node ${JSON.stringify(news.node)}: ${reason}` }));
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

function accessOf(news: Props, olds: Props): driver.ClusterAccess {
  return {
    adminUser: news.adminUser, privateKey: String(unwrapSecret(news.privateKey)),
    previousPrivateKey: String(unwrapSecret(olds.privateKey) ?? ""), servers: news.servers ?? [],
  };
}
/** How long an upgrade waits for the other nodes to be Ready (Kubernetes marks a silent node NotReady after 40-50 s). */
const SETTLE_SECONDS = 60;
const nodeOf = (p: Props): driver.NodeAccess => ({ name: p.node, address: p.address, port: p.port });
const applyOptions = (p: Props): driver.ApplyOptions => ({ drain: p.drain, readySeconds: p.readySeconds, libvirt: p.libvirt, consoleLogFile: p.consoleLogFile, log: stderrLog });

/**
 * The upgrade `news.osImage` asks of the node, or undefined. Over SSH only (`upgrade.by` "operator":
 * the kairos-operator does it). From a recorded image, any change is one; with none recorded (a new
 * node, or osImage given for the first time) only when the node's release is known to differ.
 * Refused, before anything is touched, while a node is not Ready (unless `upgrade.force`); a node
 * gets SETTLE_SECONDS to be Ready again after the rollout's previous restart.
 */
async function upgradeWanted(news: Props, from: string | undefined, access: driver.ClusterAccess, running?: Record<string, string>): Promise<driver.NodeChange["upgrade"]> {
  const image = news.osImage;
  if (!image || (news.upgrade?.by ?? "ssh") !== "ssh") return undefined;
  if (!from) {
    const release = running ?? (await driver.readNodeOs(access, nodeOf(news))).release;
    if (!releaseMismatch(expectedRelease(parseKairosImageRef(image)), release) || !parseKairosImageRef(image)) return undefined;
  }
  if (news.upgrade?.force !== true) {
    const notReady = await driver.notReadyAfterSettling(access, nodeOf(news), { settleSeconds: SETTLE_SECONDS });
    if (notReady.length) {
      throw new driver.NodeChangeError(news.node, "upgrade preflight",
        `osImage: not upgrading to ${image} while ${notReady.join(", ")} ${notReady.length === 1 ? "is" : "are"} not Ready (waited ${SETTLE_SECONDS} s); `
        + `bring ${notReady.length === 1 ? "it" : "them"} back, or set upgrade.force: true`);
    }
  }
  return { image, recovery: news.upgrade?.recovery === true };
}

/** What the node runs after a change: its OS (best effort; `seen` when the change read it already) and the image recorded as applied. */
async function osAfter(news: Props, access: driver.ClusterAccess, olds?: Props, seen?: driver.NodeOs): Promise<Props> {
  const applied = news.osImage !== undefined ? { appliedOsImage: news.osImage } : {};
  if (seen) return { ...applied, os: seen };
  try {
    return { ...applied, os: (await driver.readNodeOs(access, nodeOf(news))).os };
  } catch (e) {
    stderrLog.warn(`${news.node}: could not read its OS (${(e as Error).message.split("\n")[0]})`);
    return { ...applied, ...(olds?.os ? { os: olds.os } : {}) };
  }
}

/** Upgrades the node to `news.osImage` when wanted (a new node, or only the image changed); then records it. */
async function converge(news: Props, from: string | undefined, olds: Props = news): Promise<Props> {
  const access = accessOf(news, olds);
  if (!news.osImage) return osAfter(news, access, olds);
  // With no image recorded, what the node runs decides; left as it is, that reading is also what is recorded.
  const seen = from ? undefined : await driver.readNodeOs(access, nodeOf(news));
  const upgrade = await upgradeWanted(news, from, access, seen?.release);
  if (!upgrade && seen) return { appliedOsImage: news.osImage, os: seen.os };
  const done = upgrade ? await driver.applyNodeChange(access, nodeOf(news), { restart: "reboot", upgrade }, applyOptions(news)) : {};
  return osAfter(news, access, olds, done.os);
}

export const nodeConfig = versioned("kairos-lifecycle:NodeConfig", {
  async check(olds, news) {
    return { inputs: news, failures: [...checkNodeConfig(news), ...checkInPlace(olds, news), ...checkOsImage(olds, news)] };
  },

  /** A new config or new hardware settings is an update (applied, rolling); nothing here replaces. */
  async diff(_id, olds, news) {
    const pending = news.configDigest !== olds.appliedConfigDigest || (news.restartDigest ?? "") !== (olds.appliedRestartDigest ?? "")
      || (news.osImage ?? null) !== (appliedImage(olds) ?? null);
    const settings = ["address", "port", "servers", "mode", "drain", "readySeconds", "libvirt", "consoleLogFile", "adminUser", "machineId", "secretsDigest", "upgrade"]
      .some((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
    return { changes: pending || settings, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs) {
    const recorded = {
      ...inputs, appliedConfigDigest: inputs.configDigest, appliedK3sDigest: inputs.k3sDigest ?? "",
      appliedRestartDigest: inputs.restartDigest ?? "", pendingReboot: false,
    };
    // A new node runs the image it was installed from: upgraded now if that is known to differ.
    const os = await converge(inputs, undefined);
    return { id: `node-config-${inputs.node}`, outs: withSecrets({ ...recorded, ...os }) };
  },

  async update(_id, olds, news) {
    const configChanged = news.configDigest !== olds.appliedConfigDigest;
    const restartChanged = (news.restartDigest ?? "") !== (olds.appliedRestartDigest ?? "");
    const next: Props = { ...olds, ...news };
    // osImage no longer given: the nodes are no longer managed, and nothing of it is kept.
    if (news.osImage === undefined) for (const k of ["osImage", "upgrade", "appliedOsImage"]) delete next[k];
    const recorded = {
      ...next, appliedConfigDigest: news.configDigest, appliedK3sDigest: news.k3sDigest ?? "", appliedRestartDigest: news.restartDigest ?? "", pendingReboot: false,
    };
    // A new machine (rebuilt by its target) booted its current config and hardware settings already.
    const rebuilt = olds.machineId !== undefined && news.machineId !== olds.machineId;
    const imageChanged = (news.osImage ?? null) !== (appliedImage(olds) ?? null);
    if (rebuilt) return { outs: withSecrets({ ...recorded, ...(await converge(news, undefined)) }) };
    const staged = news.mode === "staged" && !restartChanged;
    const applyConfig = configChanged && news.mode !== "reinstall";
    if (!applyConfig && !restartChanged && !imageChanged) return { outs: withSecrets(configChanged ? recorded : next) };
    if (!applyConfig && !restartChanged) return { outs: withSecrets({ ...recorded, ...(await converge(news, appliedImage(olds), olds)) }) };
    const access = accessOf(news, olds);
    const upgrade = imageChanged ? await upgradeWanted(news, appliedImage(olds), access) : undefined;
    const done = await driver.applyNodeChange(access, nodeOf(news), {
      config: applyConfig ? String(unwrapSecret(news.cloudConfig)) : undefined,
      k3sChanged: applyConfig && (news.k3sDigest ?? "") !== (olds.appliedK3sDigest ?? ""),
      restart: upgrade ? (restartChanged ? "powercycle" : "reboot") : staged ? "none" : restartChanged ? "powercycle" : "reboot",
      upgrade,
    }, applyOptions(news));
    return {
      outs: withSecrets({
        ...recorded, pendingReboot: staged && !upgrade, ...(imageChanged ? await osAfter(news, access, olds, done.os) : {}),
      }),
    };
  },

  /** Refresh: what OS the node reports now (an upgrade by hand shows); an unreachable node keeps the last. */
  async read(id, props) {
    if (!props.node || !props.address) return { id, props: withSecrets(props) };
    try {
      const { os } = await driver.readNodeOs(accessOf(props, props), nodeOf(props));
      return { id, props: withSecrets({ ...props, os }) };
    } catch (e) {
      stderrLog.warn(`${props.node}: could not read its OS (${(e as Error).message.split("\n")[0]}); keeping what was recorded`);
      return { id, props: withSecrets(props) };
    }
  },

  async delete() {
    // The node leaves the cluster through ClusterReady's update (scale-down) or with the whole cluster.
  },
});
