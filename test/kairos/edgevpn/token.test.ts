import * as fs from "fs";
import * as yaml from "js-yaml";
import {
  decodeNetworkToken,
  encodeNetworkToken,
  generateNetworkToken,
  MAX_INT64_TEXT,
  NETWORK_TOKEN_DEFAULT_INTERVAL,
  NetworkToken,
  NetworkTokenError,
} from "../../../kairos/edgevpn/token";
import { oraclePath, testWithOracle } from "../../oracles";

/** The docs' token re-encoded as a node receives it (provenance: ../shared/oracles/SOURCE.md). */
const ORACLE = "oracles/kairos-docs-network-token.txt";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const KEY_A = "kdtkhcml0uI3hsUAT1zTcPvh8AnY346Tlrw6IUFe1aJ";
const KEY_B = "HpBFhlqvQkq6UwpOI0OVBVCWZF3QbQ7XgCkTunr4pew";

/** A valid token document with one part replaced, as YAML text. */
function doc(patch: (d: Record<string, any>) => void = () => undefined): string {
  const d: Record<string, any> = {
    otp: { dht: { interval: 9000, key: KEY_A, length: 43 }, crypto: { interval: 9000, key: KEY_B, length: 43 } },
    room: "room1", rendezvous: "rdv1", mdns: "mdns1", max_message_size: 20971520,
  };
  patch(d);
  return yaml.dump(d);
}

/** A deterministic byte source (xorshift) so generator tests are reproducible. */
function seeded(seed: number): (n: number) => Buffer {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

describe("decodeNetworkToken", () => {
  testWithOracle("a real token printed in the Kairos docs decodes", [ORACLE], () => {
    const t = decodeNetworkToken(fs.readFileSync(oraclePath(ORACLE), "utf8"));
    expect(t).toEqual({
      otp: {
        dht: { interval: 9000, key: KEY_A, length: 43 },
        crypto: { interval: 9000, key: KEY_B, length: 43 },
      },
      room: "aAPNhE7e882eFa3cLMnzVC4d6cXWiMNDbXW018JIvCz",
      rendezvous: "8ushhs6qkMOvSfoBfW0vOhF5dYhuVe7QesM3EiL3jM3",
      mdns: "IgIchioFUX8SzWUJB3WCCrOe3evwc181eHZn6JiXf9h",
      max_message_size: 20971520,
    });
  });

  test("an interval of exactly MaxInt64 (kairosctl's 'no rotation') decodes as \"max\"", () => {
    const text = doc().replace(/interval: 9000/g, `interval: ${MAX_INT64_TEXT}`);
    const t = decodeNetworkToken(b64(text));
    expect(t.otp.dht.interval).toBe("max");
    expect(t.otp.crypto.interval).toBe("max");
  });

  test("unknown extra fields are ignored, as edgevpn ignores them", () => {
    expect(decodeNetworkToken(b64(doc((d) => (d.future = 1)))).room).toBe("room1");
  });

  test.each<[string, string, string]>([
    ["empty string", "", "network token: is empty; expected standard padded base64 of a YAML map"],
    ["not base64", "not*base64!", "network token: is not standard padded base64 (alphabet A-Z a-z 0-9 + /, '=' padding, length a multiple of 4)"],
    ["unpadded base64", b64(doc()).replace(/=+$/, "") + (b64(doc()).endsWith("=") ? "" : "A"), "network token: is not standard padded base64 (alphabet A-Z a-z 0-9 + /, '=' padding, length a multiple of 4)"],
    ["base64url alphabet", b64(doc()).replace(/\+/g, "-").replace(/\//g, "_") + "-_-_", "network token: is not standard padded base64 (alphabet A-Z a-z 0-9 + /, '=' padding, length a multiple of 4)"],
    ["not YAML", b64("otp: [unclosed"), "network token: base64 content is not YAML (unexpected end of the stream within a flow collection)"],
    ["a YAML list", b64("- a\n- b\n"), "network token: content must be a YAML map, got a list"],
    ["a YAML scalar", b64("hello\n"), "network token: content must be a YAML map, got a string"],
    ["missing otp", b64(doc((d) => delete d.otp)), "network token: missing field otp"],
    ["missing otp.crypto", b64(doc((d) => delete d.otp.crypto)), "network token: missing field otp.crypto"],
    ["missing otp.dht.key", b64(doc((d) => delete d.otp.dht.key)), "network token: missing field otp.dht.key"],
    ["missing room", b64(doc((d) => delete d.room)), "network token: missing field room"],
    ["missing max_message_size", b64(doc((d) => delete d.max_message_size)), "network token: missing field max_message_size"],
    ["empty key", b64(doc((d) => (d.otp.dht.key = ""))), "network token: otp.dht.key is empty; expected a non-empty string"],
    ["key outside the alphabet", b64(doc((d) => (d.otp.crypto.key = "abc-def"))), "network token: otp.crypto.key contains characters outside [A-Za-z0-9]"],
    ["numeric key", b64(doc((d) => (d.otp.dht.key = 12345))), "network token: otp.dht.key must be a string, got number"],
    ["length above 44", b64(doc((d) => (d.otp.dht.length = 45))), "network token: otp.dht.length: 45 is not accepted; expected 1..44 (an OTP is base64 of HMAC-SHA256, 44 characters)"],
    ["length 0", b64(doc((d) => (d.otp.crypto.length = 0))), "network token: otp.crypto.length: 0 is not accepted; expected a positive integer"],
    ["interval 0", b64(doc((d) => (d.otp.dht.interval = 0))), "network token: otp.dht.interval: 0 is not accepted; expected a positive integer"],
    ["negative interval", b64(doc((d) => (d.otp.dht.interval = -5))), "network token: otp.dht.interval: -5 is not accepted; expected a positive integer"],
    ["fractional interval", b64(doc((d) => (d.otp.crypto.interval = 1.5))), "network token: otp.crypto.interval: 1.5 is not accepted; expected a positive integer"],
    ["string interval", b64(doc((d) => (d.otp.crypto.interval = "soon"))), "network token: otp.crypto.interval: \"soon\" is not accepted; expected a positive integer"],
    ["interval above MaxInt64", b64(doc().replace("interval: 9000", "interval: 9223372036854775808")), "network token: otp.dht.interval: 9223372036854775808 is not accepted; expected a positive integer up to 9007199254740991 or exactly 9223372036854775807 (no rotation)"],
    ["otp not a map", b64(doc((d) => (d.otp = "x"))), "network token: otp must be a map, got a string"],
    ["max_message_size 0", b64(doc((d) => (d.max_message_size = 0))), "network token: max_message_size: 0 is not accepted; expected a positive integer"],
  ])("%s is refused", (_title, token, message) => {
    expect(() => decodeNetworkToken(token)).toThrow(NetworkTokenError);
    expect(() => decodeNetworkToken(token)).toThrow(message);
    try { decodeNetworkToken(token); } catch (e) { expect((e as Error).message).toBe(message); }
  });

  test("an error never echoes a secret value", () => {
    const secret = "Secret-Key-Value";
    const token = b64(doc((d) => (d.otp.dht.key = secret)));
    expect(() => decodeNetworkToken(token)).toThrow(/otp\.dht\.key/);
    expect(() => decodeNetworkToken(token)).not.toThrow(new RegExp(secret));
  });
});

describe("generateNetworkToken", () => {
  test("the default interval is MaxInt64 text in the YAML (no rotation), everything else per edgevpn", () => {
    expect(NETWORK_TOKEN_DEFAULT_INTERVAL).toBe("max");
    const token = generateNetworkToken();
    expect(token).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(token.length % 4).toBe(0);
    const text = Buffer.from(token, "base64").toString("utf8");
    expect(text.match(new RegExp(`interval: ${MAX_INT64_TEXT}\n`, "g"))).toHaveLength(2);
    expect(text).toContain("max_message_size: 20971520\n");
    expect(text.match(/length: 43\n/g)).toHaveLength(2);
    expect(text.startsWith("otp:\n  dht:\n    interval: ")).toBe(true);
  });

  test("an explicit interval in seconds is emitted as is", () => {
    const t = decodeNetworkToken(generateNetworkToken({ intervalSeconds: 360 }));
    expect(t.otp.dht.interval).toBe(360);
    expect(t.otp.crypto.interval).toBe(360);
  });

  test.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN])("intervalSeconds %p is refused, naming the field", (bad) => {
    expect(() => generateNetworkToken({ intervalSeconds: bad })).toThrow(
      `intervalSeconds: ${JSON.stringify(bad)} is not accepted; use a positive whole number of seconds up to 9007199254740991 or "max" (never rotate)`,
    );
  });

  test("the same random bytes give the same token; different bytes a different one", () => {
    expect(generateNetworkToken({ randomBytes: seeded(7) })).toBe(generateNetworkToken({ randomBytes: seeded(7) }));
    expect(generateNetworkToken({ randomBytes: seeded(7) })).not.toBe(generateNetworkToken({ randomBytes: seeded(8) }));
  });

  test("bytes >= 248 are rejected, so a source of only such bytes fails instead of biasing", () => {
    expect(() => generateNetworkToken({ randomBytes: (n) => Buffer.alloc(n, 255) })).toThrow(
      "randomBytes: no usable byte in 64 draws (every byte was >= 248); is the random source broken?",
    );
    // 247 is the last accepted byte: 247 % 62 = 61 -> '9'.
    const t = decodeNetworkToken(generateNetworkToken({ randomBytes: (n) => Buffer.alloc(n, 247) }));
    expect(t.room).toBe("9".repeat(43));
  });

  test("a key starting with a digit is quoted so YAML keeps it a string", () => {
    const t = decodeNetworkToken(generateNetworkToken({ randomBytes: (n) => Buffer.alloc(n, 52) })); // 52 -> '0'
    expect(t.otp.dht.key).toBe("0".repeat(43));
  });

  test("property: generate -> decode round-trips for many seeds and intervals, keys uniform over [A-Za-z0-9]", () => {
    const counts = new Map<string, number>();
    const intervals: Array<number | "max"> = ["max", 1, 360, 9000, Number.MAX_SAFE_INTEGER];
    for (let seed = 1; seed <= 300; seed++) {
      const intervalSeconds = intervals[seed % intervals.length];
      const token = generateNetworkToken({ intervalSeconds, randomBytes: seeded(seed) });
      const t: NetworkToken = decodeNetworkToken(token);
      for (const o of [t.otp.dht, t.otp.crypto]) {
        expect(o.interval).toBe(intervalSeconds);
        expect(o.length).toBe(43);
        expect(o.key).toMatch(/^[A-Za-z0-9]{43}$/);
      }
      for (const s of [t.room, t.rendezvous, t.mdns, t.otp.dht.key, t.otp.crypto.key]) {
        expect(s).toMatch(/^[A-Za-z0-9]{43}$/);
        for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      expect(t.max_message_size).toBe(20971520);
      expect(encodeNetworkToken(t)).toBe(token); // re-encoding is byte-identical
    }
    // 300 tokens x 5 strings x 43 chars = 64500 draws; each of 62 characters expects ~1040.
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(Math.abs(n - 64500 / 62)).toBeLessThan(200);
  });

  test("the default source is a CSPRNG: two tokens differ", () => {
    expect(generateNetworkToken()).not.toBe(generateNetworkToken());
  });
});
