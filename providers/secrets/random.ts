/** Randomness as a parameter: the default is Node's CSPRNG; tests pass a deterministic source. */
import { randomBytes } from "crypto";

/** Returns `n` random bytes. Must be a CSPRNG outside tests. */
export type RandomBytes = (n: number) => Buffer;

export const cryptoRandomBytes: RandomBytes = (n) => randomBytes(n);

/**
 * `length` characters drawn uniformly from `alphabet` (rejection sampling, so no modulo bias).
 * Bounded: a source that keeps returning unusable bytes fails instead of looping forever.
 */
export function randomString(length: number, alphabet: string, random: RandomBytes): string {
  if (alphabet.length < 2 || alphabet.length > 256) throw new Error(`randomString: alphabet of ${alphabet.length} characters`);
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  for (let round = 0; out.length < length; round++) {
    if (round >= 64) throw new Error("randomString: the random source returned too few usable bytes (64 rounds); is it a real CSPRNG?");
    for (const b of random(length - out.length + 16)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}
