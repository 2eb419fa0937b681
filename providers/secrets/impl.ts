/**
 * What the secrets root's dynamic provider does (`pulumi-kairos/drivers/secrets`, loaded by package
 * path in the provider process: ../driver-provider.ts). Generates once in `create` and keeps the
 * bundle in state; `diff` replaces only on `rotate` or a changed user-supplied value, so a no-op
 * `pulumi up` changes nothing; `read` returns the state as is (nothing exists outside Pulumi's
 * state); `delete` has nothing to remove. No file, no log line.
 */
import { versioned } from "../state-schema";
import { UNKNOWN_VALUE as UNKNOWN, secretValue } from "../wire";
import * as driver from "./driver";

/** Output fields returned as secret values, so the engine stores them encrypted. */
export const SECRET_FIELDS = ["networkToken", "k3sToken", "sshPrivateKey"];

function wrapSecrets(outs: Record<string, unknown>): Record<string, unknown> {
  const result = { ...outs };
  for (const f of SECRET_FIELDS) if (result[f] !== undefined) result[f] = secretValue(result[f]);
  return result;
}

/** Inputs with unknown (preview) values left out: they are checked once known. */
function knownOnly(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== UNKNOWN));
}

export const clusterSecrets = versioned("kairos-secrets:ClusterSecrets", {
  async check(_olds, news) {
    return { inputs: news, failures: driver.validateClusterSecretsInputs(knownOnly(news)) };
  },

  async diff(_id, olds, news) {
    const replaces = driver.replacementReasons(olds, news, (v) => v === UNKNOWN);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const bundle = driver.generateClusterSecrets(inputs);
    const state: driver.ClusterSecretsState = {
      ...bundle,
      suppliedFields: driver.suppliedFields(inputs),
      ...(inputs.rotate !== undefined ? { rotate: inputs.rotate } : {}),
      ...(typeof inputs.networkTokenIntervalSeconds === "number" ? { networkTokenIntervalSeconds: inputs.networkTokenIntervalSeconds } : {}),
    };
    return { id: driver.newSecretsId(), outs: wrapSecrets({ ...state }) };
  },

  async read(id, props) {
    return { id, props: wrapSecrets(props) };
  },

  async update(_id, olds) {
    // Only a stale state comes here (diff replaces on every real change): keep the bundle.
    return { outs: wrapSecrets(olds) };
  },

  async delete() {
    // Nothing exists outside Pulumi's state.
  },
});
