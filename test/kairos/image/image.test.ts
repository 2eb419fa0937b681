import {
  buildIsoArgv, buildRawArgv, clusterImageFor, contentKey, imageRef, imageTag, ImageSpecError, normalizeImageSpec, validateBuilder, validatePush,
  qemuImgConvertArgv, renderDockerfile, validateImageSpec, type ImageSpecInput,
} from "../../../kairos/image";
import { expectGolden } from "./golden";

const BASES: Record<string, string> = {
  ubuntu: "ubuntu:24.04",
  opensuse: "opensuse/leap:15.6",
  alpine: "alpine:3.21",
  fedora: "fedora:42",
  hadron: "ghcr.io/kairos-io/hadron:v0.5.1",
};

function spec(base: string, variant: "core" | "standard", extra: ImageSpecInput = {}) {
  return normalizeImageSpec({
    baseImage: BASES[base],
    version: "v1.0.0",
    kubernetes: variant === "standard" ? { distro: "k3s", version: "v1.36.3+k3s1" } : undefined,
    packages: base === "hadron" ? [] : ["curl", "htop"],
    artifacts: ["iso", "raw-efi", "raw-bios", "qcow2"],
    ...extra,
  });
}

const abOpts = { engineBinary: "docker", imageRef: "kairos-custom/x:tag", outputDir: "/work/out", engineSocket: "/var/run/docker.sock" };

describe("generated Dockerfiles and AuroraBoot command lines (goldens)", () => {
  for (const base of Object.keys(BASES)) {
    for (const variant of ["core", "standard"] as const) {
      test(`${base} ${variant}: Dockerfile matches its golden and runs kairos-init in two phases`, () => {
        const s = spec(base, variant);
        const df = renderDockerfile(s);
        expectGolden(`${base}-${variant}.Dockerfile`, df);
        expect(df).toContain("FROM quay.io/kairos/kairos-init:v0.17.2 AS kairos-init");
        expect(df).toContain(`FROM ${BASES[base]}`);
        const install = df.split("\n").find((l) => l.includes("/kairos-init -s install"));
        const init = df.split("\n").find((l) => l.includes("/kairos-init -s init"));
        expect(install).toBeDefined();
        expect(init).toBeDefined();
        expect(df.indexOf(install!)).toBeLessThan(df.indexOf(init!));
        for (const line of [install!, init!]) {
          expect(line).toContain('--version "v1.0.0"');
          expect(line).toMatch(/ -m generic /);
          expect(line).toMatch(/ -t false /);
          if (variant === "standard") expect(line).toContain('-p k3s --provider-k3s-version "v1.36.3+k3s1"');
          else expect(line).not.toMatch(/ -p /);
        }
        // Removed in kairos-init v0.6.0; must never come back.
        expect(df).not.toMatch(/(^|\s)-k(\s|$)/m);
        expect(df).not.toContain("--k8sversion");
        expect(df).not.toMatch(/(^|\s)-v\s/m);
      });

      test(`${base} ${variant}: AuroraBoot command lines match their golden`, () => {
        const s = spec(base, variant);
        const ref = imageRef(s);
        const o = { ...abOpts, imageRef: ref };
        const text = [
          buildIsoArgv(s, o).join(" "),
          buildIsoArgv(s, { ...o, cloudConfigFile: "/work/secret/cc.yaml" }).join(" "),
          buildRawArgv(s, "efi", o).join(" "),
          buildRawArgv(s, "bios", { ...o, cloudConfigFile: "/work/secret/cc.yaml" }).join(" "),
          qemuImgConvertArgv("/work/out/a.raw", "/work/out/a.qcow2").join(" "),
          "",
        ].join("\n");
        expectGolden(`${base}-${variant}.auroraboot.txt`, text);
        for (const line of text.split("\n").filter((l) => l.startsWith("docker run"))) {
          expect(line).toContain("quay.io/kairos/auroraboot:v0.26.2");
          expect(line).toContain(`docker:${ref}`);
          expect(line).toContain("-v /var/run/docker.sock:/var/run/docker.sock");
          expect(line).not.toMatch(/ -k /);
          expect(line).not.toContain("--k8sversion");
        }
      });
    }
  }

  test("build-iso carries --output, --override-name and --cloud-config as a mounted file", () => {
    const argv = buildIsoArgv(spec("ubuntu", "standard"), { ...abOpts, cloudConfigFile: "/s/cc.yaml" });
    const i = argv.indexOf("build-iso");
    expect(argv.slice(i)).toEqual(["build-iso", "--output", "/output", "--override-name", "kairos", "--arch", "amd64", "--cloud-config", "/cloud-config.yaml", "docker:kairos-custom/x:tag"]);
    expect(argv).toContain("/s/cc.yaml:/cloud-config.yaml:ro");
  });

  test("raw builds use the deployer with disk.efi or disk.bios and no default kairos/kairos user without a cloud-config", () => {
    const efi = buildRawArgv(spec("ubuntu", "core", { diskSizeMiB: 8192 }), "efi", abOpts);
    expect(efi).toEqual(expect.arrayContaining(["disk.efi=true", "disable_http_server=true", "disable_netboot=true", "state_dir=/output", "disk.size=8192", "no_default_cloud_config=true"]));
    expect(efi).not.toContain("build-iso");
    const bios = buildRawArgv(spec("ubuntu", "core"), "bios", { ...abOpts, cloudConfigFile: "/s/cc.yaml" });
    expect(bios).toContain("disk.bios=true");
    expect(bios).not.toContain("no_default_cloud_config=true");
  });

  test("nohang is installed and enabled where the distro packages it, and explained where not", () => {
    expect(renderDockerfile(spec("ubuntu", "core"))).toContain("nohang && apt-get clean && rm -rf /var/lib/apt/lists/* && systemctl enable nohang.service");
    expect(renderDockerfile(spec("fedora", "core"))).toContain("dnf install -y --setopt=install_weak_deps=False nohang");
    expect(renderDockerfile(spec("alpine", "core"))).toContain("# Low-memory handler: nohang is not packaged for alpine");
    expect(renderDockerfile(spec("ubuntu", "core", { lowMemoryHandler: false }))).not.toContain("nohang");
  });

  test("packages go through the base's package manager", () => {
    expect(renderDockerfile(spec("ubuntu", "core"))).toContain("apt-get install -y --no-install-recommends curl htop");
    expect(renderDockerfile(spec("opensuse", "core"))).toContain("zypper --non-interactive install --no-recommends curl htop");
    expect(renderDockerfile(spec("fedora", "core"))).toContain("dnf install -y --setopt=install_weak_deps=False curl htop");
    expect(renderDockerfile(spec("alpine", "core"))).toContain("apk add --no-cache curl htop");
  });
});

describe("image tags follow the current Kairos format", () => {
  test.each([
    ["ubuntu:24.04", undefined, "v1.0.0", "kairos-custom/ubuntu:24.04-core-amd64-generic-v1.0.0"],
    ["ubuntu:24.04", { distro: "k3s", version: "v1.36.3+k3s1" }, "1.2.3", "kairos-custom/ubuntu:24.04-standard-amd64-generic-v1.2.3-k3s-v1.36.3-k3s1"],
    ["ghcr.io/kairos-io/hadron:v0.5.1", { distro: "k3s", version: "v1.36.3+k3s1" }, "v4.2.0", "kairos-custom/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1"],
    ["opensuse/leap:15.6", { distro: "k0s", version: "v1.36.3+k0s.2" }, "v2.0.0", "kairos-custom/opensuse:leap-15.6-standard-amd64-generic-v2.0.0-k0s-v1.36.3-k0s.2"],
    ["fedora:42", undefined, "v1.0.0", "kairos-custom/fedora:42-core-amd64-generic-v1.0.0"],
    ["alpine:3.21", undefined, "v1.0.0", "kairos-custom/alpine:3.21-core-amd64-generic-v1.0.0"],
  ])("%s %j %s -> %s", (baseImage, kubernetes, version, expected) => {
    const s = normalizeImageSpec({ baseImage, kubernetes, version, artifacts: ["iso"] });
    expect(imageRef(s)).toBe(expected);
    expect(imageTag(s)).not.toMatch(/k3sv\d/); // the pre-Aug-2025 form is unpullable for v4
  });

  test("trusted boot images carry -uki", () => {
    expect(imageTag(normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", trustedBoot: true, artifacts: ["iso"] }))).toBe("24.04-core-amd64-generic-v1.0.0-uki");
  });

  test("the k3s default is the v4.2.0 pin", () => {
    expect(normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["iso"] }).kubernetes).toEqual({ distro: "k3s", version: "v1.36.3+k3s1" });
  });
});

describe("validation names the field, the value and what is accepted", () => {
  const ok: ImageSpecInput = { baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso"] };
  test.each([
    [{ artifacts: ["vmdk"] }, 'artifacts[0]: "vmdk" is not valid; expected one of "iso", "raw-efi", "raw-bios", "qcow2"'],
    [{ artifacts: [] }, 'artifacts: [] is not valid; expected a non-empty list of one of "iso", "raw-efi", "raw-bios", "qcow2"'],
    [{ engine: "nerdctl" }, 'engine: "nerdctl" is not valid; expected one of "docker", "podman"'],
    [{ version: "latest" }, 'version: "latest" is not valid; expected a semantic version such as "v1.0.0" (kairos-init --version)'],
    [{ kubernetes: { distro: "k3s", version: "1.36" } }, 'kubernetes.version: "1.36" is not valid; expected a k3s release tag such as "v1.36.3+k3s1"'],
    [{ kubernetes: { distro: "rke2" } }, 'kubernetes.distro: "rke2" is not valid; expected one of "k3s", "k0s"'],
    [{ packages: ["curl; rm -rf /"] }, 'packages[0]: "curl; rm -rf /" is not valid; expected a distro package name (letters, digits and . + _ : = ~ -)'],
    [{ baseImage: "archlinux:latest" }, 'baseImage: "archlinux:latest" is not valid; expected a base of a known family (hadron, ubuntu, debian, opensuse, fedora, rockylinux, almalinux, alpine), recognised by the image name'],
    [{ diskSizeMiB: 100 }, "diskSizeMiB: 100 is not valid; expected an integer number of MiB between 4096 and 4194304"],
    [{ dockerfileSteps: ["FROM scratch"] }, 'dockerfileSteps[0]: "FROM scratch" is not valid; expected one Dockerfile instruction on one line (RUN, COPY, ENV, ...), not FROM'],
    [{ model: "rpi5" }, 'model: "rpi5" is not valid; expected one of "generic", "rpi3", "rpi4", "nvidia-jetson-agx-orin", "nvidia-jetson-orin-nx", "nvidia-jetson-thor", "nvidia-dgx-spark"'],
  ])("%j", (patch, message) => {
    expect(() => normalizeImageSpec({ ...ok, ...patch } as ImageSpecInput)).toThrow(new ImageSpecError(validateImageSpec({ ...ok, ...patch } as ImageSpecInput)));
    expect(() => normalizeImageSpec({ ...ok, ...patch } as ImageSpecInput)).toThrow(message);
  });

  test("every problem is reported at once", () => {
    expect(validateImageSpec({ baseImage: "", version: "x", artifacts: ["nope"], engine: "x" }).map((i) => i.path)).toEqual(["baseImage", "version", "engine", "artifacts[0]"]);
  });

  test("packages on Hadron are refused (no package manager)", () => {
    expect(() => normalizeImageSpec({ ...ok, baseImage: "ghcr.io/kairos-io/hadron:v0.5.1", packages: ["curl"] })).toThrow(/packages: \["curl"\] is not valid; expected no packages on a Hadron base/);
  });
});

describe("content key", () => {
  const base = normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso", "qcow2"] });
  const key = (s = base, cc?: string) => contentKey({ spec: s, dockerfile: renderDockerfile(s), cloudConfigDigest: cc });
  test("is stable for the same inputs and for reordered artifact lists", () => {
    expect(key()).toBe(key());
    expect(key(normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["qcow2", "iso", "iso"] }))).toBe(key());
  });
  test.each([
    ["version", { version: "v1.0.1" }],
    ["artifact set", { artifacts: ["iso"] }],
    ["engine", { engine: "podman" }],
    ["AuroraBoot pin", { auroraBootImage: "quay.io/kairos/auroraboot:v0.26.3" }],
    ["kairos-init pin", { kairosInitImage: "quay.io/kairos/kairos-init:v0.17.3" }],
  ])("changes with the %s", (_what, patch) => {
    const s = normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso", "qcow2"], ...(patch as ImageSpecInput) });
    expect(key(s)).not.toBe(key());
  });
  test("changes with the cloud-config digest", () => {
    expect(key(base, "a".repeat(64))).not.toBe(key());
  });
});

test("clusterImageFor maps qcow2/raw to disk and iso to iso", () => {
  expect(clusterImageFor({ kind: "qcow2", path: "/a.qcow2" })).toEqual({ kind: "disk", path: "/a.qcow2", format: "qcow2" });
  expect(clusterImageFor({ kind: "raw-bios", path: "/a.raw" })).toEqual({ kind: "disk", path: "/a.raw", format: "raw" });
  expect(clusterImageFor({ kind: "raw-efi", path: "/b.raw" })).toEqual({ kind: "disk", path: "/b.raw", format: "raw" });
  expect(clusterImageFor({ kind: "iso", path: "/a.iso" })).toEqual({ kind: "iso", path: "/a.iso", format: "iso" });
});

describe("push and builder validation", () => {
  test("push: repository, tag and credentials are checked; the password is never echoed", () => {
    expect(validatePush({ repository: "Registry.Example/X", tag: "bad tag", credentials: { username: "", password: "" } })).toEqual([
      { path: "push.repository", value: '"Registry.Example/X"', expected: 'a lower-case repository such as "registry.example.com/team/kairos"' },
      { path: "push.tag", value: '"bad tag"', expected: "an OCI tag (letters, digits, _ . -; at most 128 characters)" },
      { path: "push.credentials.username", value: '""', expected: "a non-empty user name without spaces" },
      { path: "push.credentials.password", value: "<secret>", expected: "a non-empty string" },
    ]);
    expect(validatePush({ repository: "registry.example.com/team/kairos", credentials: { username: "bot", password: "x" } })).toEqual([]);
    expect(validatePush(undefined)).toEqual([]);
  });

  test("builder: kind, engine paths, timeouts and namespace", () => {
    expect(validateBuilder({ kind: "local", engineBinary: "docker", engineSocket: "/run/podman/podman.sock", stepTimeoutMinutes: 30 })).toEqual([]);
    expect(validateBuilder({ kind: "ssh", engineBinary: "rel/docker", engineSocket: "/a:b", timeoutMinutes: 0, namespace: "Bad_NS" }).map((i) => `${i.path}: ${i.value} -> ${i.expected}`)).toEqual([
      'builder.kind: "ssh" -> one of "local", "kubernetes"',
      'builder.engineBinary: "rel/docker" -> a command name on PATH or an absolute path',
      "builder.engineSocket: \"/a:b\" -> an absolute path to the engine's API socket, without ':'",
      "builder.timeoutMinutes: 0 -> a number of minutes greater than 0 and at most 10080",
      'builder.namespace: "Bad_NS" -> a Kubernetes namespace name (DNS label)',
    ]);
  });
});
