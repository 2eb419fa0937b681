/**
 * ed25519 key pairs in OpenSSH's own formats, from injected randomness: the private key as
 * `-----BEGIN OPENSSH PRIVATE KEY-----` (unencrypted, cipher and KDF "none"), the public key as one
 * `authorized_keys` line. Layout mirrored from openssh-portable `PROTOCOL.key` (v1.3) and the SSH
 * agent encoding of ed25519 keys (`sshkey.c`: public 32 bytes, private = seed || public, 64 bytes).
 */
import { createPrivateKey, createPublicKey } from "crypto";
import { utils as sshUtils } from "ssh2";
import { RandomBytes, cryptoRandomBytes } from "./random";

export interface SshKeyPair {
  /** OpenSSH private key file content, ending with a newline. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... <comment>` */
  publicKey: string;
}

const KEY_TYPE = "ssh-ed25519";
// DER prefix of a PKCS#8 Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const BLOCK_SIZE = 8; // cipher "none"

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The raw 32-byte ed25519 public key of a 32-byte seed (Node's crypto does the curve math). */
export function ed25519PublicFromSeed(seed: Buffer): Buffer {
  if (seed.length !== 32) throw new Error(`ed25519 seed must be 32 bytes, got ${seed.length}`);
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(priv).export({ format: "der", type: "spki" });
  return Buffer.from(spki.subarray(spki.length - 32));
}

function publicBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

/** The one-line public key for an `authorized_keys` file. */
export function formatPublicKeyLine(blob: Buffer, comment: string): string {
  return `${KEY_TYPE} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/** A new ed25519 key pair. `comment` ends the public line and is stored in the private key. */
export function generateSshKeyPair(comment: string, random: RandomBytes = cryptoRandomBytes): SshKeyPair {
  if (/[\r\n]/.test(comment)) throw new Error("ssh key comment must be one line");
  const seed = random(32);
  if (seed.length !== 32) throw new Error(`random source returned ${seed.length} bytes, wanted 32`);
  const pub = ed25519PublicFromSeed(seed);
  const checkint = random(4).readUInt32BE(0);
  let section = Buffer.concat([
    uint32(checkint),
    uint32(checkint),
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob(pub)),
    sshString(section),
  ]);
  const b64 = body.toString("base64").replace(/.{1,70}/g, "$&\n");
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: formatPublicKeyLine(publicBlob(pub), comment),
  };
}

/** Why a supplied private key is refused, without any of its content. */
export type SshKeyProblem = "unparseable" | "encrypted" | { wrongType: string };

/**
 * Parses a user-supplied private key: unencrypted ed25519 only (what the nodes' admin user and the
 * project's SSH client use). Returns the derived public line, or the problem.
 */
export function parseSshPrivateKey(privateKey: string, defaultComment: string):
  { publicKey: string } | { problem: SshKeyProblem } {
  let parsed: ReturnType<typeof sshUtils.parseKey>;
  try {
    parsed = sshUtils.parseKey(privateKey);
  } catch {
    return { problem: "unparseable" };
  }
  if (parsed instanceof Error) {
    return { problem: /encrypted|passphrase/i.test(parsed.message) ? "encrypted" : "unparseable" };
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) return { problem: "unparseable" };
  if (key.type !== KEY_TYPE) return { problem: { wrongType: key.type } };
  return { publicKey: formatPublicKeyLine(key.getPublicSSH(), key.comment || defaultComment) };
}
