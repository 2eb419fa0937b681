/** L0: host key parsing, formatting and fingerprints (compared with ssh-keygen's own output). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fingerprint, formatHostKey, hostKeyFromBlob, parseHostKey, sameHostKey } from "../../../providers/ssh";
import { hostKeyAlgorithms } from "../../../providers/ssh/hostkey";
import { run } from "../../../providers/exec";

describe("host keys", () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "kairos-hostkey-")); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(["ed25519", "ecdsa", "rsa"])("parses a %s .pub line and fingerprints it like ssh-keygen -lf", async (type) => {
    const file = path.join(dir, `k_${type}`);
    await run(["ssh-keygen", "-q", "-t", type, "-N", "", "-C", "host@example", "-f", file], { installHint: "apt-get install openssh-client" });
    const line = fs.readFileSync(file + ".pub", "utf8").trim();
    const key = parseHostKey(line);
    const lf = (await run(["ssh-keygen", "-lf", file + ".pub"])).stdout.split(" ")[1];
    expect(fingerprint(key)).toBe(lf);
    expect(formatHostKey(key)).toBe(line.split(" ").slice(0, 2).join(" "));
    expect(sameHostKey(hostKeyFromBlob(key.blob), key)).toBe(true);
  });

  test.each([
    ["", "missing type or key"],
    ["ssh-ed25519", "missing type or key"],
    ["ssh-ed25519 not*base64", "key is not base64"],
    ["ssh-ed25519 AAAA", "key blob is malformed"],
    ["ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "type ssh-rsa does not match the key's type ssh-ed25519"],
  ])("rejects %j (%s), naming the field and what is accepted", (text, why) => {
    expect(() => parseHostKey(text, "hosts[0].hostKey")).toThrow(
      `hosts[0].hostKey: ${JSON.stringify(text)} is not valid (${why}); expected a public key line such as "ssh-ed25519 AAAAC3Nza..." (from /etc/ssh/ssh_host_ed25519_key.pub or ssh-keyscan)`,
    );
  });

  test.each([
    ["ssh-ed25519", ["ssh-ed25519"]],
    ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
    ["ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]],
  ])("offers only the pinned key's algorithms for %s", (type, algs) => {
    expect(hostKeyAlgorithms(type)).toEqual(algs);
  });
});
