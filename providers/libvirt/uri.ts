/**
 * libvirt connection URIs: which host a URI talks to, and, for `qemu+ssh://`, the ssh argv that
 * reaches the same host with the same user, port and key (used to read serial-console log files,
 * which live on the hypervisor host and have no virsh command).
 */

export interface ParsedUri {
  /** The URI as given. */
  uri: string;
  /** Driver and transport, e.g. `qemu` + `ssh`; transport is "" for the local socket. */
  driver: string;
  transport: string;
  /** "" for a local URI. */
  host: string;
  user?: string;
  port?: number;
  /** `?keyfile=` of the URI, for ssh. */
  keyfile?: string;
  /** `?no_verify=1`: do not verify the host key. */
  noVerify: boolean;
}

export function parseLibvirtUri(uri: string): ParsedUri {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new Error(`uri: "${uri}" is not valid; expected a libvirt URI like qemu:///system or qemu+ssh://user@host/system`);
  }
  const [driver, transport = ""] = u.protocol.replace(/:$/, "").split("+");
  if (!driver || !["", "ssh", "unix", "libssh", "libssh2"].includes(transport)) {
    throw new Error(`uri: "${uri}" is not valid; expected transport none, unix or ssh (qemu:///system, qemu+ssh://user@host/system)`);
  }
  return {
    uri,
    driver,
    transport,
    host: u.hostname,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    port: u.port ? Number(u.port) : undefined,
    keyfile: u.searchParams.get("keyfile") ?? undefined,
    noVerify: u.searchParams.get("no_verify") === "1",
  };
}

/** True when the hypervisor is this machine (files it writes can be read directly). */
export function isLocalUri(uri: string): boolean {
  const p = parseLibvirtUri(uri);
  return p.host === "" || ((p.host === "localhost" || p.host === "127.0.0.1") && p.transport !== "ssh" && p.transport !== "libssh" && p.transport !== "libssh2");
}

/** argv running `remoteArgv` on the URI's host over ssh (non-interactive). Throws for local URIs. */
export function sshArgvFor(uri: string, remoteArgv: readonly string[]): string[] {
  const p = parseLibvirtUri(uri);
  if (!p.host || !p.transport.includes("ssh")) throw new Error(`uri: "${uri}" does not use ssh; no remote shell to reach`);
  const argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"];
  if (p.port) argv.push("-p", String(p.port));
  if (p.keyfile) argv.push("-i", p.keyfile, "-o", "IdentitiesOnly=yes");
  if (p.noVerify) argv.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  argv.push(p.user ? `${p.user}@${p.host}` : p.host, "--");
  // ssh joins its arguments with spaces for the remote shell: quote each one.
  argv.push(...remoteArgv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`));
  return argv;
}
