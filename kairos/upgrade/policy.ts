/**
 * Which OS image changes pulumi-kairos refuses at preview, before any node is drained. Everything is
 * read from the two image tags (see {@link parseKairosImageRef}); nodes are not asked.
 *
 * What `force` lifts, and what it does not: it lifts refusals where pulumi-kairos only suspects a
 * mistake (another flavor, repository, board model, or a switch between UKI and non-UKI boot: each
 * can be deliberate or a tag can be wrong). It never lifts what
 * Kubernetes or the machine forbids: a k3s/k0s minor skip or minor downgrade (no supported path, the
 * datastore may already hold newer objects; docs.k3s.io/upgrades/manual and the Kubernetes version
 * skew policy), a distribution switch or removal (the node's datastore, certificates and join token
 * belong to the distribution it runs), or another CPU architecture (the machine would not boot it).
 * Each of those has a way out that needs no force: an intermediate image, or a new cluster.
 */
import { parseKairosImageRef, type KairosImageRef } from "./reference";

export interface UpgradeCheck {
  /** The argument's path for messages, e.g. `osImage`. */
  field: string;
  /** The image the nodes run now (as recorded by the last successful upgrade); undefined on first install. */
  from?: string;
  /** The image asked for. */
  to: string;
  /** The user's acknowledgement that lifts the refusals it can lift (see the module comment). */
  force?: boolean;
  /** The path of that acknowledgement for messages. @default "upgrade.force" */
  forceField?: string;
}

interface Version { major: number; minor: number }

function k8sMinor(version: string): Version | undefined {
  const m = /^v(\d+)\.(\d+)\.\d+/.exec(version);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** Docker Hub's short forms name the same repository: `hadron`, `docker.io/library/hadron`. */
function canonicalRepository(repository: string): string {
  const parts = repository.split("/");
  const first = parts[0];
  const hasDomain = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  const domain = hasDomain ? (first === "index.docker.io" ? "docker.io" : first) : "docker.io";
  const path = hasDomain ? parts.slice(1) : parts;
  if (domain === "docker.io" && path.length === 1) path.unshift("library");
  return [domain, ...path].join("/");
}

/**
 * The refusals for upgrading the nodes from image `from` to image `to`, each naming the field, both
 * values, why, and the way out; empty when the upgrade may go ahead.
 *
 * What cannot be told is allowed: no refusal when `from` is undefined (first install), when either
 * side does not parse as a Kairos factory tag (a digest, a custom tag), or when a side carries no
 * Kubernetes version (a core image becoming standard adds k3s to nothing that runs). Patch changes
 * and same-minor changes of k3s/k0s are allowed in both directions; so is an older Kairos version
 * (kairos-agent installs whichever image it is given).
 */
export function checkUpgrade(c: UpgradeCheck): string[] {
  if (c.from === undefined || c.from === c.to) return [];
  const a = parseKairosImageRef(c.from);
  const b = parseKairosImageRef(c.to);
  if (!a || !b) return [];
  const forceField = c.forceField ?? "upgrade.force";
  const head = `${c.field}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
  const hard = `(${forceField} does not lift this)`;
  const refusals: string[] = [];

  if (a.arch !== b.arch) {
    refusals.push(`${head} changes the architecture from ${a.arch} to ${b.arch}; the nodes' CPUs run ${a.arch} and would not boot the new image; use the ${a.arch} build of the same release ${hard}`);
  }
  refusals.push(...kubernetesRefusals(head, hard, a, b));
  if (!c.force) {
    if (a.uki !== b.uki) {
      const [was, now] = a.uki ? ["a Trusted Boot (UKI) image", "a non-UKI image"] : ["a non-UKI image", "a Trusted Boot (UKI) image"];
      refusals.push(`${head} changes ${was} to ${now}; the boot layout (signed UKI files on the EFI partition, or active and passive images) is chosen at install and an upgrade keeps it; reinstall the nodes to change it, or if the tag is wrong and the image fits, set ${forceField}: true`);
    }
    if (a.model !== b.model) {
      refusals.push(`${head} changes the model from ${a.model} to ${b.model}; the model names the board the image was built for (kernel, firmware, bootloader); use the ${a.model} build of the same release, or if the nodes are ${b.model} boards, set ${forceField}: true`);
    }
    if (a.flavor !== b.flavor) {
      refusals.push(`${head} changes the OS flavor from ${a.flavor} to ${b.flavor}; what persists across the upgrade (/oem, /usr/local, the node's data) was written under ${a.flavor} and nothing checks that ${b.flavor} reads it the same way; if the switch is intended, set ${forceField}: true`);
    } else if (canonicalRepository(a.repository) !== canonicalRepository(b.repository)) {
      refusals.push(`${head} changes the image repository from ${a.repository} to ${b.repository}; the same tag in another repository can be another build; if the new repository holds the same OS (a mirror or your own rebuild), set ${forceField}: true`);
    }
  }
  return refusals;
}

function kubernetesRefusals(head: string, hard: string, a: KairosImageRef, b: KairosImageRef): string[] {
  if (!a.k8s) return [];
  const from = a.k8s;
  if (!b.k8s) {
    return [`${head} drops the Kubernetes distribution (${from.distro} ${from.version} -> none: a ${b.variant} image); the nodes would leave the cluster at the reboot; use a standard image with ${from.distro} ${hard}`];
  }
  const to = b.k8s;
  if (from.distro !== to.distro) {
    return [`${head} changes the Kubernetes distribution from ${from.distro} to ${to.distro}; a node cannot switch distributions in place (its datastore, certificates and join token belong to ${from.distro}); keep ${from.distro} in the image, or build a new cluster for ${to.distro} ${hard}`];
  }
  const v1 = k8sMinor(from.version);
  const v2 = k8sMinor(to.version);
  if (!v1 || !v2 || v1.major !== v2.major) return [];
  const d = from.distro;
  if (v2.minor > v1.minor + 1) {
    const skipped = Array.from({ length: v2.minor - v1.minor - 1 }, (_, i) => `${v1.major}.${v1.minor + 1 + i}`);
    const minors = skipped.length === 1 ? `minor version ${skipped[0]}` : `minor versions ${skipped.join(", ")}`;
    const path = skipped.map((m) => `${d} v${m}`).join(", then ");
    return [`${head} upgrades ${d} from ${from.version} to ${to.version}, skipping ${minors}; Kubernetes upgrades one minor version at a time; upgrade to an image with ${path} first, one pulumi up each ${hard}`];
  }
  if (v2.minor < v1.minor) {
    return [`${head} downgrades ${d} from ${from.version} to ${to.version}; Kubernetes does not support going back a minor version (the datastore may already hold objects written by ${v1.major}.${v1.minor}); choose an image with ${d} v${v1.major}.${v1.minor} or later ${hard}`];
  }
  return [];
}
