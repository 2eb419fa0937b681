/** Test helper: k3s-shaped kubeconfigs with a real client certificate (made by openssl) of a chosen end. */
import * as fs from "fs";
import * as path from "path";
import { run } from "../../providers/exec";

/** A kubeconfig whose client certificate ends in `days` days (openssl req -x509 -days). */
export async function kubeconfigWithCert(dir: string, days: number): Promise<string> {
  const key = path.join(dir, `k${days}.key`);
  const crt = path.join(dir, `k${days}.crt`);
  await run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
    "-days", String(days), "-subj", "/O=system:masters/CN=system:admin"]);
  const b64 = (f: string) => Buffer.from(fs.readFileSync(f)).toString("base64");
  return [
    "apiVersion: v1", "clusters:", "- cluster:", "    certificate-authority-data: Q0EK", "    server: https://127.0.0.1:6443", "  name: default",
    "contexts:", "- context:", "    cluster: default", "    user: default", "  name: default", "current-context: default", "kind: Config",
    "users:", "- name: default", "  user:", `    client-certificate-data: ${b64(crt)}`, `    client-key-data: ${b64(key)}`, "",
  ].join("\n");
}

