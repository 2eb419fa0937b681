/**
 * L1: the ClusterSecrets component under Pulumi's mocks: one dynamic resource parented to the
 * component, user-supplied values sent as secret inputs, secret outputs secret, the public key not,
 * and bad known values refused at construction with the field named and the secret not echoed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSecrets as ClusterSecretsT } from "../../components/cluster-secrets";
import { outputValue as value } from "../harness/mocks";

interface Registered { type: string; name: string; inputs: Record<string, unknown> }
const registered: Registered[] = [];
const DYNAMIC_TYPE = "pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets";
const FAKE = { networkToken: "nt-mock", k3sToken: "k3s-mock", sshPrivateKey: "priv-mock", sshPublicKey: "ssh-ed25519 AAAAmock pulumi-kairos" };

let ClusterSecrets: typeof ClusterSecretsT;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        // The mock monitor stands in for the provider: it returns a fixed bundle as state.
        const state = args.type === DYNAMIC_TYPE ? { ...args.inputs, ...FAKE } : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "pulumi-kairos",
    "test",
    false,
  );
  ({ ClusterSecrets } = await import("../../components/cluster-secrets"));
});

const secretness = (o: pulumi.Output<unknown>): Promise<boolean> => pulumi.isSecret(o);
const urnOf = (r: pulumi.Resource): Promise<string> => value(r.urn);
const monitorUrns = (): string[] => [...((pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> }).resources.keys())];

describe("ClusterSecrets (L1, mocks)", () => {
  it("registers the component and one dynamic resource parented to it", async () => {
    const s = new ClusterSecrets("c1", {});
    expect(await urnOf(s)).toBe("urn:pulumi:test::pulumi-kairos::kairos:index:ClusterSecrets::c1");
    await value(s.sshPublicKey);
    expect(monitorUrns()).toContain(`urn:pulumi:test::pulumi-kairos::kairos:index:ClusterSecrets$${DYNAMIC_TYPE}::c1-secrets`);
    expect(registered.filter((r) => r.name === "c1-secrets").map((r) => r.type)).toEqual([DYNAMIC_TYPE]);
  });

  it("exposes the bundle, with tokens and private key secret and the public key not", async () => {
    const s = new ClusterSecrets("c2", {});
    expect(await value(s.networkToken)).toBe(FAKE.networkToken);
    expect(await value(s.k3sToken)).toBe(FAKE.k3sToken);
    expect(await value(s.sshPrivateKey)).toBe(FAKE.sshPrivateKey);
    expect(await value(s.sshPublicKey)).toBe(FAKE.sshPublicKey);
    expect(await secretness(s.networkToken)).toBe(true);
    expect(await secretness(s.k3sToken)).toBe(true);
    expect(await secretness(s.sshPrivateKey)).toBe(true);
    expect(await secretness(s.sshPublicKey)).toBe(false);
  });

  it("sends user-supplied values to the provider as secret inputs, rotate and interval as plain", async () => {
    const s = new ClusterSecrets("c3", { k3sToken: "abcdefghijklmnop1234", rotate: "2026-11", networkTokenIntervalSeconds: 360 });
    await value(s.sshPublicKey);
    const inputs = registered.find((r) => r.name === "c3-secrets")!.inputs;
    const SIG = "4dabf18193072939515e22adb298388d";
    expect(inputs.k3sToken).toEqual({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "abcdefghijklmnop1234" });
    expect(inputs.rotate).toBe("2026-11");
    expect(inputs.networkTokenIntervalSeconds).toBe(360);
    expect(typeof inputs.__provider).toBe("string");
  });

  it("refuses a bad known value at construction, naming the field and hiding the value", () => {
    expect(() => new ClusterSecrets("c4", { k3sToken: "short secret!" })).toThrow(
      'k3sToken: <secret> (13 characters) is not accepted; expected 16-256 characters of [A-Za-z0-9._-] not starting with "K10", ' +
      'or a full k3s token "K10<64 hex>::<user>:<password>", or leave it unset to have one generated');
    try {
      new ClusterSecrets("c5", { sshPrivateKey: "my-private-key-material" });
      throw new Error("expected a failure");
    } catch (e) {
      expect((e as Error).message).toMatch(/^sshPrivateKey: <secret> is not an OpenSSH private key;/);
      expect((e as Error).message).not.toContain("my-private-key-material");
    }
  });

  it("leaves values that are not known yet to the provider's check", async () => {
    const s = new ClusterSecrets("c6", { k3sToken: pulumi.output("short") });
    expect(await value(s.k3sToken)).toBe(FAKE.k3sToken);
  });
});
