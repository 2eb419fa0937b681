/**
 * ed25519 keys in OpenSSH formats: checked by parsing them back with ssh2 and with the real
 * ssh-keygen (OpenSSH), not by comparing text.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { utils as sshUtils } from "ssh2";
import { generateSshKeyPair, parseSshPrivateKey } from "../../../providers/secrets/ssh-key";
import { seededRandom } from "./seeded-random";

function sshKeygen(): string {
  try {
    return execFileSync("sh", ["-c", "command -v ssh-keygen"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("ssh-keygen not found on PATH; apt-get install openssh-client");
  }
}

describe("generateSshKeyPair", () => {
  it("writes an unencrypted OpenSSH private key that ssh2 parses as ed25519 with the comment", () => {
    const pair = generateSshKeyPair("pulumi-kairos", seededRandom("a"));
    expect(pair.privateKey.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n")).toBe(true);
    expect(pair.privateKey.endsWith("\n-----END OPENSSH PRIVATE KEY-----\n")).toBe(true);
    const key = sshUtils.parseKey(pair.privateKey);
    if (key instanceof Error || Array.isArray(key)) throw new Error(`ssh2 could not parse the key: ${String(key)}`);
    expect(key.type).toBe("ssh-ed25519");
    expect(key.isPrivateKey()).toBe(true);
    expect(key.comment).toBe("pulumi-kairos");
    expect(`ssh-ed25519 ${key.getPublicSSH().toString("base64")} pulumi-kairos`).toBe(pair.publicKey);
  });

  it("writes a public key line of the form ssh-ed25519 AAAA... <comment>", () => {
    const { publicKey } = generateSshKeyPair("pulumi-kairos", seededRandom("b"));
    expect(publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} pulumi-kairos$/);
  });

  it("signs data that verifies with the derived public key", () => {
    const pair = generateSshKeyPair("c", seededRandom("c"));
    const priv = sshUtils.parseKey(pair.privateKey);
    const pub = sshUtils.parseKey(pair.publicKey);
    if (priv instanceof Error || Array.isArray(priv) || pub instanceof Error || Array.isArray(pub)) throw new Error("parse failed");
    const data = Buffer.from("kairos");
    expect(pub.verify(data, priv.sign(data))).toBe(true);
  });

  it("is deterministic for a given random source and differs between sources", () => {
    expect(generateSshKeyPair("x", seededRandom("d"))).toEqual(generateSshKeyPair("x", seededRandom("d")));
    expect(generateSshKeyPair("x", seededRandom("d")).publicKey).not.toBe(generateSshKeyPair("x", seededRandom("e")).publicKey);
  });

  it("produces a key OpenSSH's ssh-keygen reads and derives the same public key from", () => {
    const bin = sshKeygen();
    const pair = generateSshKeyPair("pulumi-kairos");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-sshkey-"));
    try {
      fs.chmodSync(dir, 0o700);
      const file = path.join(dir, "id_ed25519");
      fs.writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync(bin, ["-y", "-f", file], { encoding: "utf8" }).trim();
      expect(derived).toBe(pair.publicKey);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("parseSshPrivateKey", () => {
  it("derives the public line from a key made by ssh-keygen, keeping its comment", () => {
    const bin = sshKeygen();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-sshkey-"));
    try {
      const file = path.join(dir, "k");
      execFileSync(bin, ["-q", "-t", "ed25519", "-N", "", "-C", "me@example", "-f", file]);
      const parsed = parseSshPrivateKey(fs.readFileSync(file, "utf8"), "fallback");
      expect(parsed).toEqual({ publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses garbage, encrypted keys and other key types", () => {
    const bin = sshKeygen();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-sshkey-"));
    try {
      execFileSync(bin, ["-q", "-t", "ed25519", "-N", "a passphrase", "-f", path.join(dir, "enc")]);
      execFileSync(bin, ["-q", "-t", "ecdsa", "-N", "", "-f", path.join(dir, "ec")]);
      expect(parseSshPrivateKey("not a key", "c")).toEqual({ problem: "unparseable" });
      expect(parseSshPrivateKey(fs.readFileSync(path.join(dir, "enc"), "utf8"), "c")).toEqual({ problem: "encrypted" });
      expect(parseSshPrivateKey(fs.readFileSync(path.join(dir, "ec"), "utf8"), "c")).toEqual({ problem: { wrongType: "ecdsa-sha2-nistp256" } });
      expect(parseSshPrivateKey(fs.readFileSync(path.join(dir, "ec.pub"), "utf8"), "c")).toEqual({ problem: "unparseable" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
