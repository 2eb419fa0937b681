/**
 * Pulumi's wire encodings as a dynamic provider sees them, mirrored from @pulumi/pulumi 3.248
 * runtime/rpc.js (`unknownValue`, `specialSigKey`, `specialSecretSig`), so providers and their
 * drivers need not load the SDK, and a serialized provider does not capture it.
 */

/** The placeholder for a value not known during preview. */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Key of the signature that marks a special value (a secret, an asset...). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Signature of a secret: `{ [SIG_KEY]: SECRET_SIG, value }` is stored encrypted by the engine. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether `v` is a wire-encoded secret. */
export function isSecretValue(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value inside a wire-encoded secret, or `v` itself. */
export function unwrapSecret(v: unknown): unknown {
  return isSecretValue(v) ? v.value : v;
}

/**
 * `v` as a wire-encoded secret (never wrapped twice): returned from a provider, the engine stores
 * it encrypted. `undefined` stays undefined (a protobuf Struct has no undefined).
 */
export function secretValue(v: unknown): unknown {
  return v === undefined ? undefined : { [SIG_KEY]: SECRET_SIG, value: unwrapSecret(v) };
}
