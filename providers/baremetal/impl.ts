/**
 * What `BareMetalNode`'s dynamic provider does (`pulumi-kairos/drivers/baremetal`, kind `node`,
 * reached by package path: ../driver-provider.ts): install Kairos over SSH from the live ISO
 * (./driver.ts has the steps and the host-key rules), probe on read, reset on delete when asked.
 */
import { versioned } from "../state-schema";
import { stderrLog } from "../progress";
import { secretValue as wrap } from "../wire";
import * as driver from "./driver";
import * as spec from "./spec";
import type { BareMetalNodeInputs, BareMetalNodeOutputs } from "./spec";

/** Drops undefined members: the host serializes outputs into a protobuf Struct, which has no undefined. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function withSecrets(outs: BareMetalNodeOutputs): Record<string, unknown> {
  // Wrapped as secrets, state values are stored encrypted even though they came back from `create`.
  const host = defined({ ...outs.host, password: wrap(outs.host.password), privateKey: wrap(outs.host.privateKey) });
  return defined({ ...outs, host, cloudConfig: wrap(outs.cloudConfig), adminPrivateKey: wrap(outs.adminPrivateKey) });
}

export const node = versioned("kairos:BareMetalNode", {
  async check(_olds, news) {
    const failures = spec.checkInputs(news).map((i) => ({ property: i.path, reason: spec.formatIssue(i) }));
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const d = spec.diffInputs(olds as BareMetalNodeOutputs, news as BareMetalNodeInputs);
    // Same machine: the old node must be gone (reset) before the new install.
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.replaces.length > 0 };
  },

  async create(inputs) {
    const i = inputs as BareMetalNodeInputs;
    const installed = await driver.installNode(i, { log: stderrLog });
    return { id: `${i.host.name}@${i.host.address}`, outs: withSecrets({ ...i, ...installed }) };
  },

  async read(id, props) {
    const state = props as BareMetalNodeOutputs;
    const reachable = await driver.probeNode(state);
    return { id, props: withSecrets({ ...state, reachable }) };
  },

  async update(_id, olds, news) {
    // Only connection settings changed (diff replaces everything else): keep what the install found,
    // except the installed key when `host.installedHostKey` now names another one (re-pinned).
    const o = olds as BareMetalNodeOutputs;
    const n = news as BareMetalNodeInputs;
    const hostKey = spec.pinnedHostKey(n.host, o.hostKey) ?? o.hostKey;
    const outs: BareMetalNodeOutputs = { ...n, address: o.address, hostKeyLive: o.hostKeyLive, hostKey, installedAt: o.installedAt, configDigest: o.configDigest, reachable: o.reachable };
    // A new pin is checked now (a wrong key fails this update, not the next refresh).
    if (hostKey !== o.hostKey) outs.reachable = await driver.probeNode(outs);
    return { outs: withSecrets(outs) };
  },

  async delete(_id, props) {
    const state = props as BareMetalNodeOutputs;
    if ((state.onDestroy ?? "none") !== "reset") return; // bare metal is not wiped unless asked
    await driver.resetNode(state, { log: stderrLog });
  },
});
