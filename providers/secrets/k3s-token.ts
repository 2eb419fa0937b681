/**
 * The k3s join token (`K3S_TOKEN`, `--token`). k3s accepts a bare password or a full
 * `K10<sha256 of the CA, 64 hex>::<user>:<password>` token; a bare value starting with "K10" would be
 * parsed as the full form (k3s `pkg/clientaccess/token.go`, `parseToken`). The project writes the
 * token into YAML and an env file, so it keeps to characters that never need quoting.
 */
import { RandomBytes, cryptoRandomBytes, randomString } from "./random";

/** Generated tokens: 48 of [a-z0-9] (~248 bits), never starting with "K10" (no upper case). */
export const K3S_TOKEN_LENGTH = 48;
const GENERATED_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

const BARE = /^[A-Za-z0-9._-]{16,256}$/;
const FULL = /^K10[0-9a-f]{64}::[A-Za-z0-9._-]+:[A-Za-z0-9._-]{16,256}$/;

/** What a supplied k3s token may look like, for messages. */
export const K3S_TOKEN_RULE =
  '16-256 characters of [A-Za-z0-9._-] not starting with "K10", or a full k3s token "K10<64 hex>::<user>:<password>"';

export function generateK3sToken(random: RandomBytes = cryptoRandomBytes): string {
  return randomString(K3S_TOKEN_LENGTH, GENERATED_ALPHABET, random);
}

export function isValidK3sToken(token: string): boolean {
  return token.startsWith("K10") ? FULL.test(token) : BARE.test(token);
}
