/**
 * L2: the kubeconfig's client certificate end, read from a certificate made by the real openssl
 * (as k3s' are: an X.509 client certificate, base64 PEM in client-certificate-data).
 */
import { clientCertExpiry } from "../../../providers/readiness/driver";
import { kubeconfigWithCert } from "../../harness/kubeconfig-cert";
import { privateTempDir } from "../../harness/dynamic-provider-host";

const scratch = privateTempDir("kairos-cert-");
afterAll(() => scratch.remove());

describe("kubeconfig client certificate end", () => {
  test.each([365, 10])("a certificate made for %i days ends then", async (days) => {
    const kc = await kubeconfigWithCert(scratch.dir, days);
    const end = clientCertExpiry(kc)!;
    const expected = Date.now() + days * 86_400_000;
    expect(Math.abs(end.getTime() - expected)).toBeLessThan(120_000);
  }, 30_000);

  test("no certificate, or none that parses: unknown", () => {
    expect(clientCertExpiry("apiVersion: v1\nusers:\n- name: default\n  user:\n    token: x\n")).toBeUndefined();
    expect(clientCertExpiry("users:\n- user:\n    client-certificate-data: Q0VSVA==\n")).toBeUndefined();
  });
});
