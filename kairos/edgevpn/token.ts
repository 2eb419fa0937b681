/**
 * The edgevpn network token: standard padded base64 of a small YAML map (docs/kairos-notes.md §5).
 *
 * Mirrors `mudler/edgevpn pkg/node/options.go` (v0.35.4: `YAMLConnectionConfig`, `GenerateNewConnectionData`)
 * and `pkg/crypto/otp.go` (OTP = base64(HMAC-SHA256)[:length], 44 chars, so `length` <= 44).
 * Reimplemented, not copied. Differences on purpose: keys come from a CSPRNG (edgevpn uses math/rand),
 * and the generator emits the fields in edgevpn's struct order so a token reads like one of edgevpn's.
 */
import { randomBytes as cryptoRandomBytes } from "crypto";
import * as yaml from "js-yaml";

/** One OTP secret: `key` is the HMAC secret, `interval` the TOTP period, `length` the OTP length. */
export interface OtpSpec {
  /**
   * TOTP period in seconds, or `"max"` for 9223372036854775807 (Go's MaxInt64: the OTP never rotates,
   * as `kairosctl generate-token` emits). JS numbers cannot hold MaxInt64, hence the marker.
   */
  interval: number | "max";
  /** Secret, `[A-Za-z0-9]+` (edgevpn generates 43 characters). */
  key: string;
  /** OTP length, 1..44 (base64 of a SHA-256 HMAC is 44 characters). */
  length: number;
}

/** An edgevpn network token, decoded: OTP settings plus the room, rendezvous and mDNS names. */
export interface NetworkToken {
  otp: { dht: OtpSpec; crypto: OtpSpec };
  /** Pubsub room name. */
  room: string;
  /** DHT rendezvous string. */
  rendezvous: string;
  /** mDNS discovery tag. */
  mdns: string;
  /** Largest pubsub message, bytes (edgevpn default 20971520 = 20 MiB). */
  max_message_size: number;
}

/** Options of {@link generateNetworkToken}. */
export interface GenerateNetworkTokenOptions {
  /**
   * TOTP period of both OTP secrets, seconds (positive safe integer) or `"max"` (never rotate).
   * @default NETWORK_TOKEN_DEFAULT_INTERVAL ("max")
   */
  intervalSeconds?: number | "max";
  /** Source of random bytes. @default crypto.randomBytes (a CSPRNG) */
  randomBytes?: (n: number) => Buffer;
}

/** Go's math.MaxInt64 as text: what `"max"` means on the wire. */
export const MAX_INT64_TEXT = "9223372036854775807";

/**
 * Default OTP interval: `"max"`, i.e. no rotation, as Kairos' own generator does (`provider-kairos`
 * `kairosctl generate-token`, MaxInt64). Why not edgevpn's 360 s: a rotating OTP needs synced clocks on
 * every node (docs/kairos-notes.md §4.4), and rotation adds no secrecy against anyone who holds the token.
 */
export const NETWORK_TOKEN_DEFAULT_INTERVAL: "max" = "max";

/** edgevpn's generator defaults (`pkg/node/options.go`). */
export const NETWORK_TOKEN_KEY_LENGTH = 43;
export const NETWORK_TOKEN_OTP_LENGTH = 43;
export const NETWORK_TOKEN_MAX_OTP_LENGTH = 44;
export const NETWORK_TOKEN_MAX_MESSAGE_SIZE = 20971520;

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/** Bytes >= 248 (= 4 * 62) are rejected so every character is equally likely. */
const REJECT_AT = 256 - (256 % ALPHABET.length);

/** A uniformly random `[A-Za-z0-9]` string of `length` characters, by rejection sampling. */
export function randomAlphanumeric(length: number, randomBytes: (n: number) => Buffer = cryptoRandomBytes): string {
  let out = "";
  // Bounded: each byte is accepted with probability 248/256, so 64 rounds failing is a broken source.
  for (let round = 0; out.length < length; round++) {
    if (round >= 64) {
      throw new Error(`randomBytes: no usable byte in 64 draws (every byte was >= ${REJECT_AT}); is the random source broken?`);
    }
    const need = length - out.length;
    const bytes = randomBytes(need + 8);
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
      throw new Error(`randomBytes(${need + 8}) returned ${Buffer.isBuffer(bytes) ? "an empty buffer" : typeof bytes}; expected a Buffer`);
    }
    for (const b of bytes) {
      if (b < REJECT_AT) out += ALPHABET[b % ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

function checkInterval(interval: unknown): number | "max" {
  if (interval === "max") return interval;
  if (typeof interval === "number" && Number.isSafeInteger(interval) && interval > 0) return interval;
  throw new Error(
    `intervalSeconds: ${JSON.stringify(interval)} is not accepted; use a positive whole number of seconds up to ` +
      `${Number.MAX_SAFE_INTEGER} or "max" (never rotate)`,
  );
}

/** A key as a YAML scalar: quoted when a plain scalar would read as a number (a leading digit). */
function yamlString(s: string): string {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(s) ? s : `'${s.replace(/'/g, "''")}'`;
}

function intervalText(i: number | "max"): string {
  return i === "max" ? MAX_INT64_TEXT : String(i);
}

/** The token's YAML, in edgevpn's field order (the order gopkg.in/yaml.v2 marshals its struct in). */
export function networkTokenYaml(t: NetworkToken): string {
  const otp = (name: string, o: OtpSpec) =>
    `  ${name}:\n    interval: ${intervalText(o.interval)}\n    key: ${yamlString(o.key)}\n    length: ${o.length}\n`;
  return (
    "otp:\n" +
    otp("dht", t.otp.dht) +
    otp("crypto", t.otp.crypto) +
    `room: ${yamlString(t.room)}\n` +
    `rendezvous: ${yamlString(t.rendezvous)}\n` +
    `mdns: ${yamlString(t.mdns)}\n` +
    `max_message_size: ${t.max_message_size}\n`
  );
}

/** Encode a token object (standard padded base64 of its YAML). Validates it first. */
export function encodeNetworkToken(t: NetworkToken): string {
  const text = networkTokenYaml(t);
  const out = Buffer.from(text, "utf8").toString("base64");
  decodeNetworkToken(out); // the encoder never emits what the decoder would refuse
  return out;
}

/**
 * A fresh edgevpn network token: two 43-character OTP keys, room, rendezvous and mDNS tag, all
 * uniformly random `[A-Za-z0-9]` from a CSPRNG; OTP length 43; max_message_size 20971520.
 * Returns standard padded base64 of the YAML: what `p2p.network_token` and `EDGEVPNTOKEN` take.
 * The result is a secret.
 */
export function generateNetworkToken(options: GenerateNetworkTokenOptions = {}): string {
  const interval = checkInterval(options.intervalSeconds ?? NETWORK_TOKEN_DEFAULT_INTERVAL);
  const rnd = options.randomBytes ?? cryptoRandomBytes;
  const key = () => randomAlphanumeric(NETWORK_TOKEN_KEY_LENGTH, rnd);
  return encodeNetworkToken({
    otp: {
      dht: { interval, key: key(), length: NETWORK_TOKEN_OTP_LENGTH },
      crypto: { interval, key: key(), length: NETWORK_TOKEN_OTP_LENGTH },
    },
    room: key(),
    rendezvous: key(),
    mdns: key(),
    max_message_size: NETWORK_TOKEN_MAX_MESSAGE_SIZE,
  });
}

/** Error from decodeNetworkToken. Messages name the field, never its secret value. */
export class NetworkTokenError extends Error {
  constructor(message: string) {
    super(`network token: ${message}`);
    this.name = "NetworkTokenError";
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function field(map: Record<string, unknown>, path: string, name: string): unknown {
  if (!(name in map) || map[name] === null || map[name] === undefined) {
    throw new NetworkTokenError(`missing field ${path}${name}`);
  }
  return map[name];
}

function typeOf(v: unknown): string {
  return Array.isArray(v) ? "a list" : isMap(v) ? "a map" : typeof v === "string" ? "a string" : typeof v;
}

function secretString(v: unknown, path: string, alphanumeric: boolean): string {
  if (typeof v !== "string") throw new NetworkTokenError(`${path} must be a string, got ${typeOf(v)}`);
  if (v.length === 0) throw new NetworkTokenError(`${path} is empty; expected a non-empty string`);
  if (alphanumeric && !/^[A-Za-z0-9]+$/.test(v)) {
    // The value is a secret: say what is wrong, not what it is.
    throw new NetworkTokenError(`${path} contains characters outside [A-Za-z0-9]`);
  }
  return v;
}

function positiveInt(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new NetworkTokenError(`${path}: ${JSON.stringify(v)} is not accepted; expected a positive integer`);
  }
  return v;
}

/**
 * Interval: a positive integer; values beyond JS's safe range are accepted only as exactly
 * MaxInt64 (`"max"`), whose text is read from the raw YAML because the parsed number is rounded.
 */
function interval(v: unknown, raw: unknown, path: string): number | "max" {
  if (typeof v === "number" && Number.isInteger(v) && v > Number.MAX_SAFE_INTEGER) {
    if (typeof raw === "string" && raw.replace(/^\+/, "") === MAX_INT64_TEXT) return "max";
    throw new NetworkTokenError(
      `${path}: ${typeof raw === "string" ? raw : v} is not accepted; expected a positive integer up to ` +
        `${Number.MAX_SAFE_INTEGER} or exactly ${MAX_INT64_TEXT} (no rotation)`,
    );
  }
  return positiveInt(v, path);
}

function otpSpec(v: unknown, raw: unknown, path: string): OtpSpec {
  if (!isMap(v)) throw new NetworkTokenError(`${path} must be a map, got ${typeOf(v)}`);
  const rawMap = isMap(raw) ? raw : {};
  const length = positiveInt(field(v, `${path}.`, "length"), `${path}.length`);
  if (length > NETWORK_TOKEN_MAX_OTP_LENGTH) {
    throw new NetworkTokenError(
      `${path}.length: ${length} is not accepted; expected 1..${NETWORK_TOKEN_MAX_OTP_LENGTH} (an OTP is base64 of HMAC-SHA256, 44 characters)`,
    );
  }
  return {
    interval: interval(field(v, `${path}.`, "interval"), rawMap.interval, `${path}.interval`),
    key: secretString(field(v, `${path}.`, "key"), `${path}.key`, true),
    length,
  };
}

/**
 * Decode and check a network token. Throws NetworkTokenError naming the field and what is accepted;
 * secret values (keys, room, rendezvous, mdns) are never echoed. Unknown extra fields are ignored,
 * as edgevpn ignores them.
 */
export function decodeNetworkToken(token: string): NetworkToken {
  if (typeof token !== "string") throw new NetworkTokenError(`expected a string, got ${typeOf(token)}`);
  const compact = token.trim();
  if (compact.length === 0) throw new NetworkTokenError("is empty; expected standard padded base64 of a YAML map");
  if (!BASE64.test(compact)) {
    throw new NetworkTokenError("is not standard padded base64 (alphabet A-Z a-z 0-9 + /, '=' padding, length a multiple of 4)");
  }
  const text = Buffer.from(compact, "base64").toString("utf8");
  let doc: unknown;
  let raw: unknown;
  try {
    doc = yaml.load(text);
    // The same text with every scalar kept as written: only to read a MaxInt64 interval exactly.
    raw = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA });
  } catch (e) {
    const reason = e instanceof yaml.YAMLException ? e.reason : "unparseable";
    throw new NetworkTokenError(`base64 content is not YAML (${reason})`);
  }
  if (!isMap(doc)) throw new NetworkTokenError(`content must be a YAML map, got ${doc === undefined ? "nothing" : typeOf(doc)}`);
  const rawDoc = isMap(raw) ? raw : {};
  const otp = field(doc, "", "otp");
  if (!isMap(otp)) throw new NetworkTokenError(`otp must be a map, got ${typeOf(otp)}`);
  const rawOtp = isMap(rawDoc.otp) ? rawDoc.otp : {};
  return {
    otp: {
      dht: otpSpec(field(otp, "otp.", "dht"), rawOtp.dht, "otp.dht"),
      crypto: otpSpec(field(otp, "otp.", "crypto"), rawOtp.crypto, "otp.crypto"),
    },
    room: secretString(field(doc, "", "room"), "room", false),
    rendezvous: secretString(field(doc, "", "rendezvous"), "rendezvous", false),
    mdns: secretString(field(doc, "", "mdns"), "mdns", false),
    max_message_size: positiveInt(field(doc, "", "max_message_size"), "max_message_size"),
  };
}
