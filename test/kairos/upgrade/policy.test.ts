/** L0: which OS image changes are refused at preview, and what `upgrade.force` lifts. */
import { checkUpgrade } from "../../../kairos/upgrade";

/** A factory tag with the parts a test varies. */
function img(o: { repo?: string; release?: string; variant?: string; arch?: string; model?: string; kairos?: string; k8s?: string; uki?: boolean } = {}): string {
  const k8s = o.k8s === undefined ? "-k3s-v1.31.4-k3s1" : o.k8s;
  return `${o.repo ?? "quay.io/kairos/hadron"}:${o.release ?? "v0.5.1"}-${o.variant ?? "standard"}-${o.arch ?? "amd64"}-${o.model ?? "generic"}-${o.kairos ?? "v4.2.0"}${k8s}${o.uki ? "-uki" : ""}`;
}
const check = (from: string | undefined, to: string, force = false) => checkUpgrade({ field: "osImage", from, to, force });

describe("checkUpgrade: allowed", () => {
  test.each([
    ["first install (nothing to compare with)", undefined, img()],
    ["the same image", img(), img()],
    ["a k3s patch upgrade", img(), img({ k8s: "-k3s-v1.31.6-k3s1" })],
    ["a new k3s build of the same version", img(), img({ k8s: "-k3s-v1.31.4-k3s2" })],
    ["the next k3s minor", img(), img({ k8s: "-k3s-v1.32.0-k3s1" })],
    ["a k3s patch downgrade within the minor", img({ k8s: "-k3s-v1.31.6-k3s1" }), img()],
    ["the next k0s minor", img({ k8s: "-k0s-v1.31.4-k0s.0" }), img({ k8s: "-k0s-v1.32.1-k0s.0" })],
    ["a newer Kairos release", img(), img({ kairos: "v4.3.0", release: "v0.6.0" })],
    ["an older Kairos release", img({ kairos: "v4.3.0" }), img()],
    ["the old glued tag form to the current one", img({ k8s: "-k3sv1.31.4-k3s1" }), img({ k8s: "-k3s-v1.32.2-k3s1" })],
    ["core to standard (adds k3s to nothing running)", img({ variant: "core", k8s: "" }), img()],
    ["core to core", img({ variant: "core", k8s: "" }), img({ variant: "core", k8s: "", kairos: "v4.3.0" })],
    ["Docker Hub's short and long names for one repository", img({ repo: "hadron" }), img({ repo: "docker.io/library/hadron", k8s: "-k3s-v1.31.5-k3s1" })],
    ["index.docker.io and docker.io", img({ repo: "index.docker.io/kairos/hadron" }), img({ repo: "docker.io/kairos/hadron" })],
    ["a tag pinned by a digest to the plain tag", `${img()}@sha256:${"e".repeat(64)}`, img({ k8s: "-k3s-v1.32.0-k3s1" })],
    ["from a digest-only reference (cannot tell)", `quay.io/kairos/hadron@sha256:${"e".repeat(64)}`, img({ arch: "arm64" })],
    ["to a custom tag (cannot tell)", img(), "registry.local/my-os:1.2"],
    ["from a custom tag (cannot tell)", "registry.local/my-os:1.2", img({ k8s: "-k0s-v1.36.3-k0s.2" })],
    ["from something that is no reference (cannot tell)", "not a reference", img()],
  ])("%s", (_what, from, to) => {
    expect(check(from, to)).toEqual([]);
  });
});

describe("checkUpgrade: refused", () => {
  test("a k3s minor skip, with exact text: field, both values, why, the way out, and that force does not help", () => {
    const from = img({ k8s: "-k3s-v1.30.5-k3s1" });
    const to = img({ k8s: "-k3s-v1.32.4-k3s1" });
    expect(check(from, to)).toEqual([
      `osImage: "${from}" -> "${to}" upgrades k3s from v1.30.5+k3s1 to v1.32.4+k3s1, skipping minor version 1.31; ` +
        "Kubernetes upgrades one minor version at a time; upgrade to an image with k3s v1.31 first, one pulumi up each (upgrade.force does not lift this)",
    ]);
  });

  test("a k3s minor downgrade, with exact text", () => {
    const from = img({ k8s: "-k3s-v1.31.2-k3s1" });
    const to = img({ k8s: "-k3s-v1.30.5-k3s1" });
    expect(check(from, to)).toEqual([
      `osImage: "${from}" -> "${to}" downgrades k3s from v1.31.2+k3s1 to v1.30.5+k3s1; Kubernetes does not support going back a minor version ` +
        "(the datastore may already hold objects written by 1.31); choose an image with k3s v1.31 or later (upgrade.force does not lift this)",
    ]);
  });

  test("an OS flavor change, with exact text and the force way out", () => {
    const from = img({ repo: "quay.io/kairos/ubuntu", release: "24.04" });
    const to = img();
    expect(check(from, to)).toEqual([
      `osImage: "${from}" -> "${to}" changes the OS flavor from ubuntu to hadron; what persists across the upgrade (/oem, /usr/local, the node's data) ` +
        "was written under ubuntu and nothing checks that hadron reads it the same way; if the switch is intended, set upgrade.force: true",
    ]);
  });

  test("several skipped minors are all named, in order", () => {
    const [m] = check(img({ k8s: "-k3s-v1.30.5-k3s1" }), img({ k8s: "-k3s-v1.33.1-k3s1" }));
    expect(m).toContain("skipping minor versions 1.31, 1.32;");
    expect(m).toContain("upgrade to an image with k3s v1.31, then k3s v1.32 first");
  });

  test.each([
    ["a k0s minor skip", img({ k8s: "-k0s-v1.30.5-k0s.0" }), img({ k8s: "-k0s-v1.32.1-k0s.0" }), "upgrades k0s from v1.30.5+k0s.0 to v1.32.1+k0s.0, skipping minor version 1.31;"],
    ["a k0s minor downgrade", img({ k8s: "-k0s-v1.32.1-k0s.0" }), img({ k8s: "-k0s-v1.31.5-k0s.0" }), "downgrades k0s from v1.32.1+k0s.0 to v1.31.5+k0s.0;"],
    ["a distribution switch", img(), img({ k8s: "-k0s-v1.31.4-k0s.0" }), "changes the Kubernetes distribution from k3s to k0s; a node cannot switch distributions in place (its datastore, certificates and join token belong to k3s); keep k3s in the image, or build a new cluster for k0s (upgrade.force does not lift this)"],
    ["a distribution removed (standard to core)", img(), img({ variant: "core", k8s: "" }), "drops the Kubernetes distribution (k3s v1.31.4+k3s1 -> none: a core image); the nodes would leave the cluster at the reboot; use a standard image with k3s (upgrade.force does not lift this)"],
    ["an architecture change", img(), img({ arch: "arm64" }), "changes the architecture from amd64 to arm64; the nodes' CPUs run amd64 and would not boot the new image; use the amd64 build of the same release (upgrade.force does not lift this)"],
  ])("%s, whatever force says", (_what, from, to, text) => {
    for (const force of [false, true]) {
      const refusals = check(from, to, force);
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toContain(`osImage: "${from}" -> "${to}" ${text}`);
      expect(refusals[0]).toMatch(/\(upgrade\.force does not lift this\)$/);
    }
  });

  test.each([
    ["another repository of the same flavor", img(), img({ repo: "registry.example.test/mirror/hadron" }), "changes the image repository from quay.io/kairos/hadron to registry.example.test/mirror/hadron; the same tag in another repository can be another build; if the new repository holds the same OS (a mirror or your own rebuild), set upgrade.force: true"],
    ["another board model", img({ arch: "arm64", model: "rpi4" }), img({ arch: "arm64", model: "rpi5" }), "changes the model from rpi4 to rpi5; the model names the board the image was built for (kernel, firmware, bootloader); use the rpi4 build of the same release, or if the nodes are rpi5 boards, set upgrade.force: true"],
    ["non-UKI to UKI", img(), img({ uki: true }), "changes a non-UKI image to a Trusted Boot (UKI) image;"],
    ["UKI to non-UKI", img({ uki: true }), img(), "changes a Trusted Boot (UKI) image to a non-UKI image;"],
    ["the UKI repository of the same OS (another flavor name)", img(), img({ repo: "quay.io/kairos/hadron-trusted", uki: true }), "changes the OS flavor from hadron to hadron-trusted;"],
  ])("%s, unless forced", (_what, from, to, text) => {
    const refusals = check(from, to);
    expect(refusals.some((r) => r.startsWith(`osImage: "${from}" -> "${to}" ${text}`))).toBe(true);
    expect(refusals.every((r) => r.endsWith("set upgrade.force: true"))).toBe(true);
    expect(check(from, to, true)).toEqual([]);
  });

  test("reports every refusal at once, and force lifts only its own", () => {
    const from = img();
    const to = img({ repo: "quay.io/kairos/ubuntu", release: "24.04", arch: "arm64", k8s: "-k3s-v1.33.0-k3s1" });
    const refusals = check(from, to);
    expect(refusals.map((r) => r.slice(`osImage: "${from}" -> "${to}" `.length).split(";")[0])).toEqual([
      "changes the architecture from amd64 to arm64",
      "upgrades k3s from v1.31.4+k3s1 to v1.33.0+k3s1, skipping minor version 1.32",
      "changes the OS flavor from hadron to ubuntu",
    ]);
    expect(check(from, to, true)).toEqual(refusals.slice(0, 2));
  });

  test("names the caller's field and force path", () => {
    const [m] = checkUpgrade({ field: "nodes[2].osImage", from: img(), to: img({ repo: "quay.io/kairos/ubuntu" }), forceField: "nodes[2].upgrade.force" });
    expect(m).toMatch(/^nodes\[2\]\.osImage: /);
    expect(m).toMatch(/set nodes\[2\]\.upgrade\.force: true$/);
  });
});
