/**
 * The local-build dynamic provider's logic (`pulumi-kairos/drivers/image`, kind `localBuild`),
 * reached by package path from the serialized provider (../driver-provider.ts).
 *
 * - check: validates the spec and paths (every problem, at its field).
 * - diff: recomputes the content key from the new inputs; a different key, or drift seen by read,
 *   means replace. Same key and no drift: no change, nothing is rebuilt.
 * - create: builds (or finds in place) the artifacts.
 * - read: re-checks every artifact's size and sha256; drift is recorded in `drift` and `contentKey`
 *   is marked, so the next diff says rebuild.
 * - delete: removes the artifacts and their record (not the engine's image: other builds may share it).
 */
import * as path from "path";
import { validateBuilder, validateImageSpec, validatePush, type ImageSpec } from "../../kairos/image";
import { buildImage, checkArtifacts, planBuild, removeArtifacts, type BuildRequest, type BuildResult } from "./driver";
import { UNKNOWN_VALUE } from "../wire";
import { versioned } from "../state-schema";
import { stderrLog } from "../progress";

/** The resource's inputs, as the provider receives them (secrets already unwrapped). */
export interface LocalBuildInputs {
  spec: ImageSpec;
  outputDir: string;
  cloudConfig?: string;
  push?: { repository: string; tag?: string; username?: string };
  pushPassword?: string;
  engineBinary?: string;
  engineSocket?: string;
  stepTimeoutMs?: number;
}

/** The inputs plus what the driver's build returned (all but `cached`, which is per run). */
export interface LocalBuildOutputs extends LocalBuildInputs, Omit<BuildResult, "cached"> {
  recordPath: string;
  /** Problems `read` found (missing or changed artifacts); empty when intact. */
  drift: string[];
}

const hasUnknown = (v: unknown): boolean => JSON.stringify(v ?? null).includes(UNKNOWN_VALUE);
const DRIFT_PREFIX = "drifted:";

function request(i: LocalBuildInputs, log?: (m: string) => void): BuildRequest {
  return {
    spec: i.spec,
    outputDir: i.outputDir,
    cloudConfig: i.cloudConfig,
    push: i.push ? { ...i.push, password: i.pushPassword } : undefined,
    engineBinary: i.engineBinary,
    engineSocket: i.engineSocket,
    stepTimeoutMs: i.stepTimeoutMs,
    log,
  };
}

export async function check(_olds: Record<string, unknown>, news: LocalBuildInputs) {
  const failures: { property: string; reason: string }[] = [];
  if (!hasUnknown(news.spec)) {
    for (const i of validateImageSpec(news.spec as never)) {
      failures.push({ property: "spec", reason: `${i.path}: ${i.value} is not valid; expected ${i.expected}` });
    }
  }
  if (!hasUnknown(news.outputDir) && (typeof news.outputDir !== "string" || !path.isAbsolute(news.outputDir))) {
    failures.push({ property: "outputDir", reason: `outputDir: ${JSON.stringify(news.outputDir)} is not valid; expected an absolute directory path` });
  }
  if (news.push && !hasUnknown(news.push) && !hasUnknown(news.pushPassword)) {
    const credentials = news.push.username === undefined && news.pushPassword === undefined ? undefined : { username: news.push.username, password: news.pushPassword };
    for (const i of validatePush({ repository: news.push.repository, tag: news.push.tag, credentials })) {
      failures.push({ property: "push", reason: `${i.path}: ${i.value} is not valid; expected ${i.expected}` });
    }
  }
  const builderIssues = validateBuilder({ kind: "local", engineBinary: news.engineBinary, engineSocket: news.engineSocket });
  for (const i of hasUnknown([news.engineBinary, news.engineSocket]) ? [] : builderIssues) {
    failures.push({ property: i.path.replace("builder.", ""), reason: `${i.path}: ${i.value} is not valid; expected ${i.expected}` });
  }
  return { inputs: news, failures };
}

export async function diff(_id: string, olds: LocalBuildOutputs, news: LocalBuildInputs) {
  if (hasUnknown(news)) return { changes: true, replaces: ["contentKey"] };
  const key = planBuild(request(news)).contentKey;
  const oldKey = String(olds.contentKey ?? "");
  const drifted = oldKey.startsWith(DRIFT_PREFIX);
  const sameKey = oldKey.replace(DRIFT_PREFIX, "") === key;
  if (sameKey && !drifted && olds.outputDir === news.outputDir) {
    // Nothing that decides the bytes changed; timeouts or engine paths alone never rebuild.
    const cosmetic = olds.stepTimeoutMs !== news.stepTimeoutMs || olds.engineBinary !== news.engineBinary || olds.engineSocket !== news.engineSocket;
    return { changes: cosmetic };
  }
  // Same key after drift: the new build reuses the old file names, so the old ones go first.
  return { changes: true, replaces: ["contentKey"], deleteBeforeReplace: sameKey && olds.outputDir === news.outputDir };
}

export async function create(inputs: LocalBuildInputs) {
  const res = await buildImage(request(inputs, stderrLog.info));
  const outs: LocalBuildOutputs = {
    ...inputs,
    contentKey: res.contentKey,
    imageRef: res.imageRef,
    imageDigest: res.imageDigest,
    kairosVersion: res.kairosVersion,
    dockerfile: res.dockerfile,
    artifacts: res.artifacts,
    recordPath: planBuild(request(inputs)).recordPath,
    drift: [],
  };
  return { id: `${res.imageRef}#${res.contentKey.slice(0, 12)}`, outs };
}

export async function read(id: string, props: LocalBuildOutputs) {
  const drift = await checkArtifacts(props.artifacts ?? []);
  const key = String(props.contentKey ?? "").replace(DRIFT_PREFIX, "");
  return { id, props: { ...props, drift, contentKey: drift.length ? DRIFT_PREFIX + key : key } };
}

export async function update(_id: string, olds: LocalBuildOutputs, news: LocalBuildInputs) {
  // Only cosmetic inputs reach update (diff replaces on anything else).
  const outs: Record<string, unknown> = { ...olds, stepTimeoutMs: news.stepTimeoutMs, engineBinary: news.engineBinary, engineSocket: news.engineSocket };
  // The host cannot serialize `undefined`; an unset input is an absent key.
  for (const k of Object.keys(outs)) if (outs[k] === undefined) delete outs[k];
  return { outs };
}

export async function remove(_id: string, props: LocalBuildOutputs) {
  removeArtifacts(props.artifacts ?? [], props.recordPath);
}

export const localBuild = versioned("kairos-image:KairosImageBuild", {
  check: (olds, news) => check(olds, news as LocalBuildInputs),
  diff: (id, olds, news) => diff(id, olds as LocalBuildOutputs, news as LocalBuildInputs),
  create: (inputs) => create(inputs as LocalBuildInputs),
  read: (id, props) => read(id, props as LocalBuildOutputs),
  update: (id, olds, news) => update(id, olds as LocalBuildOutputs, news as LocalBuildInputs),
  delete: (id, props) => remove(id, props as LocalBuildOutputs),
});
