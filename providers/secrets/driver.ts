/**
 * The cluster secrets root, with no Pulumi in it: validates what the user brings, generates what is
 * missing (edgevpn network token, k3s token, ed25519 SSH key pair) from an injected random source,
 * and decides when a change must regenerate everything. The dynamic provider (`provider.ts`) is a
 * thin wrapper that loads this module inside its methods.
 */
import { randomBytes as nodeRandomBytes } from "crypto";
import { NetworkTokenError, decodeNetworkToken, generateNetworkToken } from "../../kairos/edgevpn/token";
import { K3S_TOKEN_RULE, generateK3sToken, isValidK3sToken } from "./k3s-token";
import { RandomBytes, cryptoRandomBytes } from "./random";
import { generateSshKeyPair, parseSshPrivateKey } from "./ssh-key";

/** What the user may pass; every field optional. */
export interface ClusterSecretsInputs {
  rotate?: unknown;
  networkToken?: unknown;
  k3sToken?: unknown;
  sshPrivateKey?: unknown;
  networkTokenIntervalSeconds?: unknown;
}

/** The generated bundle (all but `sshPublicKey` are secrets). */
export interface ClusterSecretsBundle {
  networkToken: string;
  k3sToken: string;
  sshPrivateKey: string;
  sshPublicKey: string;
}

/** A refused input: the field, and a sentence that names it and never echoes a secret. */
export interface SecretsIssue {
  property: string;
  reason: string;
}

/** Fields the user may bring instead of having them generated. */
export const SUPPLIABLE_FIELDS = ["networkToken", "k3sToken", "sshPrivateKey"] as const;
export type SuppliableField = (typeof SUPPLIABLE_FIELDS)[number];

/** Comment of generated SSH keys (and of supplied keys that carry none). */
export const SSH_KEY_COMMENT = "pulumi-kairos";

const GENERATE_HINT = "or leave it unset to have one generated";
const SSH_KEY_EXPECTED = 'an unencrypted ed25519 OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----", e.g. from ssh-keygen -t ed25519 -N "")';
// Largest integer a JS number holds exactly. Unset = the generator's default "max" (MaxInt64, no rotation).
const MAX_INTERVAL = Number.MAX_SAFE_INTEGER;

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Every problem with the user's inputs, in field order. Values that are not set are fine. */
export function validateClusterSecretsInputs(inputs: ClusterSecretsInputs): SecretsIssue[] {
  const issues: SecretsIssue[] = [];
  const { networkToken, k3sToken, sshPrivateKey, networkTokenIntervalSeconds: interval } = inputs;

  if (networkToken !== undefined && networkToken !== null) {
    if (typeof networkToken !== "string") {
      issues.push({ property: "networkToken", reason: `networkToken: expected a string, got ${typeName(networkToken)}` });
    } else {
      let problem: string | undefined;
      try {
        decodeNetworkToken(networkToken);
      } catch (e) {
        // NetworkTokenError names the field and never the secret value; any other error is not repeated.
        problem = e instanceof NetworkTokenError ? ` (${e.message})` : "";
      }
      if (problem !== undefined) {
        issues.push({
          property: "networkToken",
          reason: `networkToken: <secret> is not a valid edgevpn network token${problem}; expected base64 of edgevpn's YAML ` +
            `(otp.dht, otp.crypto, room, rendezvous, mdns), e.g. from edgevpn -g or kairosctl generate-token, ${GENERATE_HINT}`,
        });
      }
    }
  }

  if (k3sToken !== undefined && k3sToken !== null) {
    if (typeof k3sToken !== "string") {
      issues.push({ property: "k3sToken", reason: `k3sToken: expected a string, got ${typeName(k3sToken)}` });
    } else if (!isValidK3sToken(k3sToken)) {
      issues.push({
        property: "k3sToken",
        reason: `k3sToken: <secret> (${k3sToken.length} characters) is not accepted; expected ${K3S_TOKEN_RULE}, ${GENERATE_HINT}`,
      });
    }
  }

  if (sshPrivateKey !== undefined && sshPrivateKey !== null) {
    if (typeof sshPrivateKey !== "string") {
      issues.push({ property: "sshPrivateKey", reason: `sshPrivateKey: expected a string, got ${typeName(sshPrivateKey)}` });
    } else {
      const parsed = parseSshPrivateKey(sshPrivateKey, SSH_KEY_COMMENT);
      if ("problem" in parsed) {
        const what = parsed.problem === "unparseable" ? "is not an OpenSSH private key"
          : parsed.problem === "encrypted" ? "is encrypted with a passphrase"
          : `is an ${parsed.problem.wrongType} key`;
        issues.push({ property: "sshPrivateKey", reason: `sshPrivateKey: <secret> ${what}; expected ${SSH_KEY_EXPECTED}, ${GENERATE_HINT}` });
      }
    }
  }

  if (interval !== undefined && interval !== null) {
    if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 1 || interval > MAX_INTERVAL) {
      issues.push({
        property: "networkTokenIntervalSeconds",
        reason: `networkTokenIntervalSeconds: ${JSON.stringify(interval)} is not accepted; expected a whole number of seconds from 1 to ${MAX_INTERVAL}, or unset for no rotation`,
      });
    } else if (typeof networkToken === "string") {
      issues.push({
        property: "networkTokenIntervalSeconds",
        reason: "networkTokenIntervalSeconds: applies only to a generated network token; remove it or networkToken",
      });
    }
  }
  return issues;
}

function supplied(v: unknown): v is string {
  return typeof v === "string";
}

/**
 * Generates the bundle, keeping what the user supplied. Throws the joined issues if the inputs are
 * invalid (check should have refused them first).
 */
export function generateClusterSecrets(inputs: ClusterSecretsInputs, random: RandomBytes = cryptoRandomBytes): ClusterSecretsBundle {
  const issues = validateClusterSecretsInputs(inputs);
  if (issues.length > 0) throw new Error(issues.map((i) => i.reason).join("\n"));
  const interval = typeof inputs.networkTokenIntervalSeconds === "number" ? inputs.networkTokenIntervalSeconds : undefined;
  const networkToken = supplied(inputs.networkToken)
    ? inputs.networkToken
    : generateNetworkToken({ intervalSeconds: interval, randomBytes: random });
  const k3sToken = supplied(inputs.k3sToken) ? inputs.k3sToken : generateK3sToken(random);
  let sshPrivateKey: string;
  let sshPublicKey: string;
  if (supplied(inputs.sshPrivateKey)) {
    const parsed = parseSshPrivateKey(inputs.sshPrivateKey, SSH_KEY_COMMENT);
    if (!("publicKey" in parsed)) throw new Error("sshPrivateKey: <secret> could not be parsed"); // validated above
    sshPrivateKey = inputs.sshPrivateKey;
    sshPublicKey = parsed.publicKey;
  } else {
    ({ privateKey: sshPrivateKey, publicKey: sshPublicKey } = generateSshKeyPair(SSH_KEY_COMMENT, random));
  }
  return { networkToken, k3sToken, sshPrivateKey, sshPublicKey };
}

/** The names of the supplied fields, sorted: kept in state so that un-supplying one is a change. */
export function suppliedFields(inputs: ClusterSecretsInputs): SuppliableField[] {
  return SUPPLIABLE_FIELDS.filter((f) => supplied(inputs[f]));
}

/** State as kept by the provider: the bundle plus what decides future diffs. */
export interface ClusterSecretsState extends ClusterSecretsBundle {
  rotate?: unknown;
  networkTokenIntervalSeconds?: number;
  suppliedFields: SuppliableField[];
}

const norm = (v: unknown) => (v === undefined ? null : v);

/**
 * Which fields force a replacement (i.e. regenerating the bundle) when `news` follow `olds`:
 * a changed `rotate`; a supplied value different from the one in state; a field no longer supplied
 * that was; a changed interval while the network token is generated. `isUnknown` marks values not
 * known during preview, which may change. Anything else changes nothing.
 */
export function replacementReasons(olds: Partial<ClusterSecretsState>, news: ClusterSecretsInputs, isUnknown: (v: unknown) => boolean): string[] {
  const replaces: string[] = [];
  if (isUnknown(news.rotate) || JSON.stringify(norm(news.rotate)) !== JSON.stringify(norm(olds.rotate))) replaces.push("rotate");
  const wasSupplied = new Set(olds.suppliedFields ?? []);
  for (const f of SUPPLIABLE_FIELDS) {
    const v = news[f];
    if (isUnknown(v)) replaces.push(f);
    else if (supplied(v) ? v !== olds[f] : wasSupplied.has(f)) replaces.push(f);
  }
  const generatedToken = !supplied(news.networkToken);
  if (isUnknown(news.networkTokenIntervalSeconds) ||
      (generatedToken && norm(news.networkTokenIntervalSeconds) !== norm(olds.networkTokenIntervalSeconds))) {
    replaces.push("networkTokenIntervalSeconds");
  }
  return replaces;
}

/** A resource id: random, carries no secret. */
export function newSecretsId(random: RandomBytes = nodeRandomBytes): string {
  return `cluster-secrets-${random(8).toString("hex")}`;
}
