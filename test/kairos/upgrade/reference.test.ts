/** L0: reading Kairos image tags, and telling OCI references from everything else. */
import { parseKairosImageRef, validateOsImageRef, type KairosImageRef } from "../../../kairos/upgrade";
import { imageRef, normalizeImageSpec } from "../../../kairos/image";

const EXPECTED = '"quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1" or "<repository>@sha256:<64 hex digits>"';
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

describe("parseKairosImageRef", () => {
  test.each<[string, string, KairosImageRef]>([
    ["a factory Hadron image with k3s", "quay.io/kairos/hadron:v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.36.1-k3s1", {
      repository: "quay.io/kairos/hadron", flavor: "hadron", flavorRelease: "v0.4.0", variant: "standard", arch: "amd64",
      model: "generic", kairosVersion: "v4.1.2", k8s: { distro: "k3s", version: "v1.36.1+k3s1" }, uki: false,
    }],
    ["the old glued form (-k3sv) with a dashed flavor release", "quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.2.1-k3sv1.31.1-k3s1", {
      repository: "quay.io/kairos/opensuse", flavor: "opensuse", flavorRelease: "leap-15.6", variant: "standard", arch: "amd64",
      model: "generic", kairosVersion: "v3.2.1", k8s: { distro: "k3s", version: "v1.31.1+k3s1" }, uki: false,
    }],
    ["a dashed board model", "quay.io/kairos/ubuntu:22.04-standard-arm64-nvidia-jetson-agx-orin-v4.2.0-k3s-v1.36.3-k3s1", {
      repository: "quay.io/kairos/ubuntu", flavor: "ubuntu", flavorRelease: "22.04", variant: "standard", arch: "arm64",
      model: "nvidia-jetson-agx-orin", kairosVersion: "v4.2.0", k8s: { distro: "k3s", version: "v1.36.3+k3s1" }, uki: false,
    }],
    ["a core UKI image", "quay.io/kairos/hadron-trusted:v0.5.1-core-amd64-generic-v4.2.0-uki", {
      repository: "quay.io/kairos/hadron-trusted", flavor: "hadron-trusted", flavorRelease: "v0.5.1", variant: "core", arch: "amd64",
      model: "generic", kairosVersion: "v4.2.0", uki: true,
    }],
    ["k0s with a dotted build and UKI", "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k0s-v1.36.3-k0s.2-uki", {
      repository: "quay.io/kairos/hadron", flavor: "hadron", flavorRelease: "v0.5.1", variant: "standard", arch: "amd64",
      model: "generic", kairosVersion: "v4.2.0", k8s: { distro: "k0s", version: "v1.36.3+k0s.2" }, uki: true,
    }],
    ["a Kairos pre-release", "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-rc1-k3s-v1.36.3-k3s1", {
      repository: "quay.io/kairos/hadron", flavor: "hadron", flavorRelease: "v0.5.1", variant: "standard", arch: "amd64",
      model: "generic", kairosVersion: "v4.2.0-rc1", k8s: { distro: "k3s", version: "v1.36.3+k3s1" }, uki: false,
    }],
    ["a private registry with a port", "localhost:5000/team/kairos:24.04-standard-amd64-generic-v1.0.0-k3s-v1.36.3-k3s1", {
      repository: "localhost:5000/team/kairos", flavor: "kairos", flavorRelease: "24.04", variant: "standard", arch: "amd64",
      model: "generic", kairosVersion: "v1.0.0", k8s: { distro: "k3s", version: "v1.36.3+k3s1" }, uki: false,
    }],
    ["a tag pinned by a digest (the tag is read)", `quay.io/kairos/hadron:v0.5.1-core-arm64-rpi4-v4.2.0@${DIGEST}`, {
      repository: "quay.io/kairos/hadron", flavor: "hadron", flavorRelease: "v0.5.1", variant: "core", arch: "arm64",
      model: "rpi4", kairosVersion: "v4.2.0", uki: false,
    }],
  ])("reads %s", (_what, ref, parsed) => {
    expect(parseKairosImageRef(ref)).toEqual(parsed);
  });

  test.each([
    ["a digest-only reference", `quay.io/kairos/hadron@${DIGEST}`],
    ["a custom tag", "registry.local/my-os:1.2"],
    ["a custom tag that merely looks versioned", "registry.local/my-os:v4.2.0"],
    ["an unknown variant", "quay.io/kairos/hadron:v0.5.1-minimal-amd64-generic-v4.2.0"],
    ["an unknown architecture", "quay.io/kairos/hadron:v0.5.1-core-riscv64-generic-v4.2.0"],
    ["a Kubernetes release candidate (would be swallowed into the Kairos version)", "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-rc1-k3s1"],
    ["no OCI reference at all", "oci:quay.io/kairos/hadron:v0.5.1-core-amd64-generic-v4.2.0"],
    ["an empty string", ""],
  ])("tells nothing for %s", (_what, ref) => {
    expect(parseKairosImageRef(ref)).toBeUndefined();
  });

  test.each([
    [{ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" as const } }],
    [{ baseImage: "ghcr.io/kairos-io/hadron:v0.5.1", version: "v2.3.4", kubernetes: { distro: "k0s" as const }, trustedBoot: true }],
    [{ baseImage: "opensuse/leap:15.6", version: "v1.0.0", arch: "arm64" as const, model: "rpi4" }],
  ])("reads back what kairos/image names: %j", (input) => {
    const spec = normalizeImageSpec({ ...input, artifacts: ["iso"], repository: "registry.example.test/team/kairos" });
    const parsed = parseKairosImageRef(imageRef(spec));
    expect(parsed).toMatchObject({ repository: spec.repository, arch: spec.arch, model: spec.model, kairosVersion: spec.version, uki: spec.trustedBoot });
    expect(parsed?.k8s).toEqual(spec.kubernetes ? { distro: spec.kubernetes.distro, version: spec.kubernetes.version } : undefined);
  });
});

describe("validateOsImageRef", () => {
  test.each([
    ["quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1"],
    [`quay.io/kairos/hadron@${DIGEST}`],
    [`quay.io/kairos/hadron:v0.5.1-core-amd64-generic-v4.2.0@${DIGEST}`],
    ["localhost:5000/team/kairos:24.04"],
    ["registry.local/my-os:1.2"],
    ["hadron:latest"],
    ["Registry.Example.com/kairos/hadron:V1_RC"],
  ])("accepts %s", (ref) => {
    expect(validateOsImageRef("osImage", ref)).toBeUndefined();
  });

  test("names the field, the value, why, and an example (empty)", () => {
    expect(validateOsImageRef("osImage", "")).toBe(`osImage: "" is not an OCI image reference: it is empty; expected e.g. ${EXPECTED}`);
  });

  test("says to drop a transport prefix the user copied from kairos-agent", () => {
    expect(validateOsImageRef("upgrade.image", "oci:quay.io/kairos/hadron:v1")).toBe(
      `upgrade.image: "oci:quay.io/kairos/hadron:v1" is not an OCI image reference: it starts with the transport prefix "oci:"; give the bare reference (pulumi-kairos adds "oci:" for kairos-agent itself); expected e.g. ${EXPECTED}`,
    );
  });

  test.each([
    ["   ", "it is blank"],
    ["quay.io/kairos/hadron:v1 ", "it contains whitespace"],
    ["quay.io/kairos/ hadron:v1", "it contains whitespace"],
    ["docker://quay.io/kairos/hadron:v1", 'it starts with the transport prefix "docker://"'],
    ["dir:/", 'it starts with the transport prefix "dir:"'],
    ["ocifile:/tmp/image.tar", 'it starts with the transport prefix "ocifile:"'],
    ["https://quay.io/kairos/hadron:v1", 'it starts with the transport prefix "https://"'],
    ["quay.io/Kairos/Hadron:v1", "the repository path must be lower case"],
    ["Hadron:v1", "the repository path must be lower case"],
    ["quay.io/kairos/hadron", 'it has neither tag nor digest, so the registry\'s moving "latest" would be used; name the tag or digest to install'],
    ["quay.io/kairos/hadron:-v1", "it does not follow the reference grammar"],
    ["quay.io/kairos/hadron@sha256:abc", "it does not follow the reference grammar"],
    ["quay.io/kairos/hadron:v1;reboot", "it does not follow the reference grammar"],
    ["quay.io/kairos/hadron:$(reboot)", "it does not follow the reference grammar"],
    [`${"a".repeat(256)}:v1`, "the repository name is 256 characters long, more than 255"],
  ])("refuses %j: %s", (ref, why) => {
    const message = validateOsImageRef("osImage", ref);
    expect(message).toContain(`osImage: ${JSON.stringify(ref)} is not an OCI image reference: ${why}`);
    expect(message).toContain(`expected e.g. ${EXPECTED}`);
  });
});
