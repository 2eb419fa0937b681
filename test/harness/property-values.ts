/**
 * Property values as the engine moves them between a program and a resource provider, for the L3
 * harness. Tests write plain JS objects; a secret is marked with `secret(v)` (a `Secret` instance)
 * and an unknown (preview) value is `UNKNOWN`. On the wire these become Pulumi's own encodings,
 * taken from `@pulumi/pulumi/runtime/rpc` so they cannot drift: a secret is
 * `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value }`, an unknown is
 * the string `04da6b54-80e4-46f7-96ec-b56ff0331ba9`.
 *
 * The engine side is mirrored from pulumi/pulumi `sdk/go/common/resource/plugin/provider_plugin.go`:
 * requests drop the secret wrappers when the provider did not accept secrets (`KeepSecrets:
 * acceptSecrets`), responses keep them (`KeepSecrets: true`), and then `annotateSecrets(outs, ins)`
 * re-marks an output secret when the input of the same name was.
 */
import * as rpc from "@pulumi/pulumi/runtime/rpc";

/** A value the engine treats as a Pulumi secret. */
export class Secret<T = unknown> {
  constructor(readonly value: T) {}
}

/** Marks `value` as a secret input (or builds the expected shape of a secret output). */
export function secret<T>(value: T): Secret<T> {
  return new Secret(value);
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** The engine's "not known yet" marker, as sent during preview. */
export const UNKNOWN: string = rpc.unknownValue;

export type PropertyMap = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Secret);
}

/**
 * Plain JS (with `Secret` markers) to the JSON shape sent in a `google.protobuf.Struct`.
 * `keepSecrets=false` drops the markers, as the engine does for a provider that did not accept
 * secrets. `undefined` fields are omitted (a Struct cannot hold them).
 */
export function toWire(value: unknown, keepSecrets: boolean): unknown {
  if (value instanceof Secret) {
    const inner = toWire(value.value, keepSecrets);
    return keepSecrets ? { [rpc.specialSigKey]: rpc.specialSecretSig, value: inner ?? null } : inner;
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v, keepSecrets));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v, keepSecrets);
    return out;
  }
  return value;
}

/** The JSON shape of a received Struct to plain JS, secret wrappers becoming `Secret` markers. */
export function fromWire(value: unknown): unknown {
  if (rpc.isRpcSecret(value)) return new Secret(fromWire(rpc.unwrapRpcSecret(value)));
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromWire(v);
    return out;
  }
  return value;
}

export function containsSecrets(value: unknown): boolean {
  if (value instanceof Secret) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (isPlainObject(value)) return Object.values(value).some(containsSecrets);
  return false;
}

/** The engine's `annotateSecrets(outs, ins)`: an output is secret when its same-named input was. */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap): PropertyMap {
  const result: PropertyMap = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      result[key] = annotateSecrets(outValue, inValue);
    } else if (!(outValue instanceof Secret) && containsSecrets(inValue)) {
      result[key] = new Secret(outValue);
    }
  }
  return result;
}

/** Removes every `Secret` marker, deeply: the plain values a provider computes with. */
export function reveal<T = unknown>(value: unknown): T {
  if (value instanceof Secret) return reveal(value.value);
  if (Array.isArray(value)) return value.map((v) => reveal(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = reveal(v);
    return out as T;
  }
  return value as T;
}

/** Every string held anywhere in `value` (for "this text never appears in logs" checks). */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value instanceof Secret) return allStrings(value.value);
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isPlainObject(value)) return Object.values(value).flatMap(allStrings);
  return [];
}
