/**
 * The secrets driver: formats checked by parsing (ssh2, the edgevpn token decoder), user-supplied
 * values kept or refused with exact messages that never echo them, and the replace rules.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { utils as sshUtils } from "ssh2";
import { decodeNetworkToken, generateNetworkToken } from "../../../kairos/edgevpn/token";
import {
  ClusterSecretsInputs, generateClusterSecrets, replacementReasons, suppliedFields, validateClusterSecretsInputs,
} from "../../../providers/secrets/driver";
import { generateSshKeyPair } from "../../../providers/secrets/ssh-key";
import { seededRandom } from "./seeded-random";

function sshKeygenKey(args: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-driver-"));
  try {
    execFileSync("ssh-keygen", ["-q", ...args, "-f", path.join(dir, "k")]);
    return fs.readFileSync(path.join(dir, "k"), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new Error("ssh-keygen not found on PATH; apt-get install openssh-client");
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("generateClusterSecrets", () => {
  it("generates a decodable network token, a k3s token, and a matching OpenSSH ed25519 key pair", () => {
    const b = generateClusterSecrets({});
    expect(() => decodeNetworkToken(b.networkToken)).not.toThrow();
    expect(b.k3sToken).toMatch(/^[a-z0-9]{48}$/);
    const priv = sshUtils.parseKey(b.sshPrivateKey);
    if (priv instanceof Error || Array.isArray(priv)) throw new Error(`private key does not parse: ${String(priv)}`);
    expect(priv.type).toBe("ssh-ed25519");
    expect(b.sshPublicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/]+ pulumi-kairos$/);
    expect(b.sshPublicKey.split(" ")[1]).toBe(priv.getPublicSSH().toString("base64"));
  });

  it("is a function of the random source", () => {
    expect(generateClusterSecrets({}, seededRandom("x"))).toEqual(generateClusterSecrets({}, seededRandom("x")));
    const a = generateClusterSecrets({}, seededRandom("x"));
    const b = generateClusterSecrets({}, seededRandom("y"));
    expect(a.networkToken).not.toBe(b.networkToken);
    expect(a.k3sToken).not.toBe(b.k3sToken);
    expect(a.sshPrivateKey).not.toBe(b.sshPrivateKey);
  });

  it("passes the interval to the network token generator", () => {
    const random = seededRandom("i");
    const expected = generateNetworkToken({ intervalSeconds: 360, randomBytes: seededRandom("i") });
    expect(generateClusterSecrets({ networkTokenIntervalSeconds: 360 }, random).networkToken).toBe(expected);
  });

  it("keeps supplied values and derives the public key from a supplied private key", () => {
    const networkToken = generateNetworkToken();
    const key = sshKeygenKey(["-t", "ed25519", "-N", "", "-C", "admin@site"]);
    const b = generateClusterSecrets({ networkToken, k3sToken: "my-own-k3s-token-123", sshPrivateKey: key });
    expect(b.networkToken).toBe(networkToken);
    expect(b.k3sToken).toBe("my-own-k3s-token-123");
    expect(b.sshPrivateKey).toBe(key);
    expect(b.sshPublicKey).toMatch(/^ssh-ed25519 AAAA\S+ admin@site$/);
  });

  it("throws the validation messages for bad inputs", () => {
    expect(() => generateClusterSecrets({ k3sToken: 42 })).toThrow("k3sToken: expected a string, got number");
  });
});

describe("validateClusterSecretsInputs", () => {
  const GEN = "or leave it unset to have one generated";
  const SSH = 'expected an unencrypted ed25519 OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----", e.g. from ssh-keygen -t ed25519 -N "")';

  it("accepts nothing at all, and good supplied values", () => {
    expect(validateClusterSecretsInputs({})).toEqual([]);
    expect(validateClusterSecretsInputs({
      networkToken: generateNetworkToken(), k3sToken: "abcdefghijklmnop", sshPrivateKey: generateSshKeyPair("x").privateKey, rotate: "1",
    })).toEqual([]);
    expect(validateClusterSecretsInputs({ networkTokenIntervalSeconds: 9000 })).toEqual([]);
  });

  const cases: Array<[string, ClusterSecretsInputs, string, string]> = [
    ["a network token that is not one", { networkToken: "bm90IGEgdG9rZW4=" }, "networkToken",
      "networkToken: <secret> is not a valid edgevpn network token (network token: content must be a YAML map, got a string); expected base64 of edgevpn's YAML (otp.dht, otp.crypto, room, rendezvous, mdns), " +
      `e.g. from edgevpn -g or kairosctl generate-token, ${GEN}`],
    ["a network token that is not a string", { networkToken: 7 }, "networkToken", "networkToken: expected a string, got number"],
    ["a short k3s token", { k3sToken: "too-short" }, "k3sToken",
      `k3sToken: <secret> (9 characters) is not accepted; expected 16-256 characters of [A-Za-z0-9._-] not starting with "K10", or a full k3s token "K10<64 hex>::<user>:<password>", ${GEN}`],
    ["a k3s token with a space", { k3sToken: "has a space in it ok" }, "k3sToken",
      `k3sToken: <secret> (20 characters) is not accepted; expected 16-256 characters of [A-Za-z0-9._-] not starting with "K10", or a full k3s token "K10<64 hex>::<user>:<password>", ${GEN}`],
    ["a private key that is not one", { sshPrivateKey: "-----BEGIN NOTHING-----" }, "sshPrivateKey",
      `sshPrivateKey: <secret> is not an OpenSSH private key; ${SSH}, ${GEN}`],
    ["an interval of 0", { networkTokenIntervalSeconds: 0 }, "networkTokenIntervalSeconds",
      "networkTokenIntervalSeconds: 0 is not accepted; expected a whole number of seconds from 1 to 9007199254740991, or unset for no rotation"],
    ["a fractional interval", { networkTokenIntervalSeconds: 1.5 }, "networkTokenIntervalSeconds",
      "networkTokenIntervalSeconds: 1.5 is not accepted; expected a whole number of seconds from 1 to 9007199254740991, or unset for no rotation"],
    ["an interval with a supplied token", { networkToken: generateNetworkToken(), networkTokenIntervalSeconds: 360 }, "networkTokenIntervalSeconds",
      "networkTokenIntervalSeconds: applies only to a generated network token; remove it or networkToken"],
  ];
  it.each(cases)("refuses %s", (_what, inputs, property, reason) => {
    expect(validateClusterSecretsInputs(inputs)).toEqual([{ property, reason }]);
  });

  it("refuses encrypted and non-ed25519 keys, naming the problem", () => {
    const encrypted = sshKeygenKey(["-t", "ed25519", "-N", "pass phrase"]);
    const rsa = sshKeygenKey(["-t", "rsa", "-b", "2048", "-N", ""]);
    expect(validateClusterSecretsInputs({ sshPrivateKey: encrypted })).toEqual([
      { property: "sshPrivateKey", reason: `sshPrivateKey: <secret> is encrypted with a passphrase; ${SSH}, ${GEN}` }]);
    expect(validateClusterSecretsInputs({ sshPrivateKey: rsa })).toEqual([
      { property: "sshPrivateKey", reason: `sshPrivateKey: <secret> is an ssh-rsa key; ${SSH}, ${GEN}` }]);
  });

  it("reports every bad field at once and never includes a secret value", () => {
    const inputs = { networkToken: "c2VjcmV0LXRva2VuLXZhbHVl", k3sToken: "secret value!", sshPrivateKey: "secret-key-material" };
    const issues = validateClusterSecretsInputs(inputs);
    expect(issues.map((i) => i.property)).toEqual(["networkToken", "k3sToken", "sshPrivateKey"]);
    for (const i of issues) for (const v of Object.values(inputs)) expect(i.reason).not.toContain(v);
  });
});

describe("replacementReasons", () => {
  const state = { ...generateClusterSecrets({}, seededRandom("s")), suppliedFields: [] as never[], rotate: "1" };
  const unknown = (v: unknown) => v === "<unknown>";

  it("changes nothing for the same inputs (a no-op up)", () => {
    expect(replacementReasons(state, { rotate: "1" }, unknown)).toEqual([]);
  });
  it("replaces when rotate changes, is removed or is unknown", () => {
    expect(replacementReasons(state, { rotate: "2" }, unknown)).toEqual(["rotate"]);
    expect(replacementReasons(state, {}, unknown)).toEqual(["rotate"]);
    expect(replacementReasons(state, { rotate: "<unknown>" }, unknown)).toEqual(["rotate"]);
  });
  it("replaces when a supplied value differs from state, not when it equals it", () => {
    expect(replacementReasons(state, { rotate: "1", k3sToken: "another-k3s-token-1" }, unknown)).toEqual(["k3sToken"]);
    expect(replacementReasons(state, { rotate: "1", k3sToken: state.k3sToken }, unknown)).toEqual([]);
  });
  it("replaces when a field that was supplied no longer is", () => {
    const supplied = { ...state, suppliedFields: suppliedFields({ sshPrivateKey: state.sshPrivateKey }) };
    expect(replacementReasons(supplied, { rotate: "1" }, unknown)).toEqual(["sshPrivateKey"]);
  });
  it("replaces when the interval of a generated token changes", () => {
    expect(replacementReasons(state, { rotate: "1", networkTokenIntervalSeconds: 360 }, unknown)).toEqual(["networkTokenIntervalSeconds"]);
  });
});
