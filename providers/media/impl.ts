/**
 * What `NodeMedia`'s dynamic provider does (`pulumi-kairos/drivers/media`, kind `nodeMedia`,
 * reached by package path: ../driver-provider.ts): write one node's boot media into a folder, check
 * them on read, remove them on delete. No connection to any machine.
 */
import { versioned } from "../state-schema";
import { stderrLog } from "../progress";
import { secretValue } from "../wire";
import * as driver from "./driver";
import * as spec from "./spec";
import type { NodeMediaInputs, NodeMediaOutputs } from "./spec";

/** The config comes back from create/read wrapped as a secret, so state keeps it encrypted. */
function withSecret(outs: NodeMediaOutputs): Record<string, unknown> {
  const o: Record<string, unknown> = { ...outs, cloudConfig: secretValue(outs.cloudConfig) };
  if (o.roleIso === undefined) delete o.roleIso; // a protobuf Struct has no undefined
  return o;
}

export const nodeMedia = versioned("kairos:NodeMedia", {
  async check(_olds, news) {
    return { inputs: news, failures: spec.checkInputs(news).map((i) => ({ property: i.path, reason: spec.formatIssue(i) })) };
  },

  async diff(_id, olds, news) {
    const replaces = spec.diffInputs(olds as NodeMediaOutputs, news as NodeMediaInputs);
    // Same file names: the old files must go before the new ones are written.
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const i = inputs as NodeMediaInputs;
    const files = await driver.writeNodeMedia(i, { log: stderrLog.info });
    const outs: NodeMediaOutputs = { ...i, configDigest: spec.configDigest(i.cloudConfig), files, drift: [] };
    return { id: spec.cidataPath(i), outs: withSecret(outs) };
  },

  async read(id, props) {
    const state = props as NodeMediaOutputs;
    const drift = await driver.checkNodeMedia(state.files ?? []);
    return { id, props: withSecret({ ...state, drift }) };
  },

  async update(_id, olds) {
    // Only a stale state comes here (every real change replaces): rewrite it.
    return { outs: withSecret(olds as NodeMediaOutputs) };
  },

  async delete(_id, props) {
    // Paths as recorded (state of older versions has files directly in outputDir and no folder):
    // our folder goes once empty, the user's outputDir never.
    const state = props as NodeMediaOutputs;
    driver.removeNodeMedia(state.files ?? [], state.folder ? spec.mediaDir(state) : undefined);
  },
});
