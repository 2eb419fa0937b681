/**
 * L3+: a program with a ClusterSecrets whose dynamic resource is created for real through Pulumi's
 * dynamic-provider host (the harness stands in for the engine), so the component's outputs carry the
 * generated bundle; destroyed again afterwards.
 */
import * as pulumi from "@pulumi/pulumi";
import { utils as sshUtils } from "ssh2";
import { ClusterSecrets } from "../../components/cluster-secrets";
import { decodeNetworkToken } from "../../kairos/edgevpn/token";
import { ProgramRun, runProgramWithDynamicProviders } from "../harness/dynamic-provider-host";
import { outputValue as value } from "../harness/mocks";


describe("ClusterSecrets in a program run through the real host (L3+)", () => {
  let run: ProgramRun | undefined;
  let secrets: ClusterSecrets;
  afterAll(async () => {
    await run?.destroy();
  });

  it("creates the bundle once and exposes it as component outputs, secrets secret", async () => {
    run = await runProgramWithDynamicProviders(() => {
      secrets = new ClusterSecrets("fleet", { networkTokenIntervalSeconds: 360 });
    }, { settleMs: 1000 });
    expect(run.created.map((r) => r.type)).toEqual(["pulumi-nodejs:dynamic/kairos-secrets:ClusterSecrets"]);
    expect(run.mocked).toEqual([{ type: "kairos:index:ClusterSecrets", name: "fleet" }]);

    const token = decodeNetworkToken(await value(secrets.networkToken));
    expect(token.otp.dht.interval).toBe(360);
    expect(await value(secrets.k3sToken)).toMatch(/^[a-z0-9]{48}$/);
    const key = sshUtils.parseKey(await value(secrets.sshPrivateKey));
    if (key instanceof Error || Array.isArray(key)) throw new Error(`private key does not parse: ${String(key)}`);
    expect(await value(secrets.sshPublicKey)).toBe(`ssh-ed25519 ${key.getPublicSSH().toString("base64")} pulumi-kairos`);
    for (const o of [secrets.networkToken, secrets.k3sToken, secrets.sshPrivateKey]) expect(await pulumi.isSecret(o)).toBe(true);
    expect(await pulumi.isSecret(secrets.sshPublicKey)).toBe(false);
  });
});
