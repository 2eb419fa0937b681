/**
 * SSH host keys in the two forms people meet them: the `known_hosts`/`.pub` line
 * (`ssh-ed25519 AAAA...`) that users pin and state records, and the `SHA256:...` fingerprint that
 * `ssh-keygen -lf` and OpenSSH's own warnings print, used in messages.
 */
import { createHash } from "crypto";

export interface HostKey {
  /** Key type as in the blob, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The public key blob (RFC 4253 §6.6 wire encoding). */
  blob: Buffer;
}

/** The type string at the start of a wire-encoded key blob (uint32 length + bytes). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len < 1 || len > 64 || blob.length < 4 + len) return undefined;
  return blob.subarray(4, 4 + len).toString("latin1");
}

/**
 * Parses `"<type> <base64> [comment]"`; throws naming the field and what is accepted. The type must
 * match the one inside the blob, which catches a key pasted under the wrong type.
 */
export function parseHostKey(text: string, field = "hostKey"): HostKey {
  const parts = text.trim().split(/\s+/);
  const bad = (why: string) =>
    new Error(`${field}: ${JSON.stringify(text.length > 120 ? text.slice(0, 120) + "..." : text)} is not valid (${why}); expected a public key line such as "ssh-ed25519 AAAAC3Nza..." (from /etc/ssh/ssh_host_ed25519_key.pub or ssh-keyscan)`);
  if (parts.length < 2) throw bad("missing type or key");
  const [type, b64] = parts;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad("key is not base64");
  const blob = Buffer.from(b64, "base64");
  const inner = blobType(blob);
  if (inner === undefined) throw bad("key blob is malformed");
  if (inner !== type) throw bad(`type ${type} does not match the key's type ${inner}`);
  return { type, blob };
}

/** The key from the raw blob an SSH server presents. */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  const type = blobType(blob);
  if (type === undefined) throw new Error("server presented a malformed host key blob");
  return { type, blob: Buffer.from(blob) };
}

/** `"<type> <base64>"`, the form stored in state and accepted as `hostKey`. */
export function formatHostKey(key: HostKey): string {
  return `${key.type} ${key.blob.toString("base64")}`;
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(key: HostKey): string {
  return "SHA256:" + createHash("sha256").update(key.blob).digest("base64").replace(/=+$/, "");
}

export function sameHostKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.blob.equals(b.blob);
}

/**
 * Host key algorithms to offer when a key is pinned, so the server presents that key rather than
 * another of its keys (an RSA key is signed with the rsa-sha2-* algorithms since OpenSSH 8.8).
 */
export function hostKeyAlgorithms(type: string): string[] {
  return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}
