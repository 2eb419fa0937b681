/**
 * An OpenSSH server on 127.0.0.1 for the remote-URI test: its own host key, client key and config
 * file in a private directory, run in the foreground (`-D -f`), stopped by its pid afterwards.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { run } from "../../../providers/exec";
import { requireTool } from "./tools";
import { freePort } from "../../fixtures/free-port";

export interface TestSshd {
  port: number;
  /** Client private key accepted for root. */
  clientKey: string;
  stop(): Promise<void>;
}

export async function startTestSshd(dir: string): Promise<TestSshd> {
  const sshd = requireTool("sshd");
  requireTool("ssh-keygen");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  const hostKey = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "client_ed25519");
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", clientKey, "-C", "libvirt-remote-test"]);
  const authorized = path.join(dir, "authorized_keys");
  fs.writeFileSync(authorized, fs.readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(
    config,
    [
      `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${hostKey}`, `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`, "PermitRootLogin prohibit-password", "PasswordAuthentication no",
      "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "AllowUsers root",
    ].join("\n") + "\n",
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (c) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); });
      s.once("error", () => r(false));
    });
    if (ok) return { port, clientKey, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within 5 s: ${log.trim()}`);
}
