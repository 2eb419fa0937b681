/**
 * Package installation per base distro, as one Dockerfile RUN line each. Non-interactive flags and
 * cache cleanup keep the image small and the build unattended.
 */
import type { PackageManager } from "./spec";

/** The shell command that installs `packages` with `pm`; undefined when there is nothing to do. */
export function installCommand(pm: PackageManager, packages: readonly string[]): string | undefined {
  if (packages.length === 0) return undefined;
  const list = packages.join(" ");
  switch (pm) {
    case "apt":
      return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list} && apt-get clean && rm -rf /var/lib/apt/lists/*`;
    case "zypper":
      return `zypper --non-interactive install --no-recommends ${list} && zypper clean --all`;
    case "dnf":
      return `dnf install -y --setopt=install_weak_deps=False ${list} && dnf clean all`;
    case "apk":
      return `apk add --no-cache ${list}`;
    case "none":
      throw new Error(`packages: ${JSON.stringify(packages)} cannot be installed: the base has no package manager`);
  }
}
