/**
 * L1: KairosImage (local builder) under Pulumi's mocks: the resource graph, the spec the provider
 * receives, secretness of cloudConfig and push credentials on the wire, and construction-time errors.
 */
import type * as Mod from "../../components/kairos-image";
import { installMocks, isWireSecret, registration, value } from "./kairos-image-mocks";

let m: typeof Mod;
beforeAll(async () => {
  await installMocks();
  m = await import("../../components/kairos-image");
});

const BUILD_TYPE = "pulumi-nodejs:dynamic/kairos-image:KairosImageBuild";

describe("KairosImage, local builder (L1)", () => {
  test("registers the component and one build resource parented to it, with the normalized spec", async () => {
    const img = new m.KairosImage("img1", {
      baseImage: "ubuntu:24.04", version: "1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["qcow2", "iso"], outputDir: "/tmp/kairos-out",
    });
    expect(await value(img.urn)).toBe("urn:pulumi:test::pulumi-kairos::kairos:index:KairosImage::img1");
    const build = await registration("img1-build");
    expect(build.type).toBe(BUILD_TYPE);
    expect(build.parent).toBe("urn:pulumi:test::pulumi-kairos::kairos:index:KairosImage::img1");
    const spec = build.wire.spec as Record<string, unknown>;
    expect(spec.version).toBe("v1.0.0");
    expect(spec.kubernetes).toEqual({ distro: "k3s", version: "v1.36.3+k3s1" });
    expect(spec.artifacts).toEqual(["iso", "qcow2"]);
    expect(spec.kairosInitImage).toBe("quay.io/kairos/kairos-init:v0.17.2");
    expect(spec.auroraBootImage).toBe("quay.io/kairos/auroraboot:v0.26.2");
    expect(build.wire.outputDir).toBe("/tmp/kairos-out");
    expect(await value(img.kairosVersion)).toBe("v1.0.0");
    expect(await value(img.imageDigest)).toMatch(/^sha256:/);
    expect(await value(img.clusterImage())).toEqual({ kind: "disk", path: "/o/a.qcow2", format: "qcow2" });
  });

  test("cloudConfig and the push password reach the provider as secrets; the username does not need to", async () => {
    new m.KairosImage("img2", {
      baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso"], cloudConfig: "#cloud-config\nusers: []\n",
      push: { repository: "registry.example.test/team/kairos", credentials: { username: "bot", password: "pw-l1-secret" } },
    });
    const build = await registration("img2-build");
    expect(isWireSecret(build.wire.cloudConfig)).toBe(true);
    expect(isWireSecret(build.wire.pushPassword)).toBe(true);
    expect(build.wire.push).toEqual({ repository: "registry.example.test/team/kairos", username: "bot" });
    const plain = JSON.stringify({ ...build.wire, cloudConfig: undefined, pushPassword: undefined });
    expect(plain).not.toContain("pw-l1-secret");
  });

  test("a relative outputDir is resolved against the program directory", async () => {
    new m.KairosImage("img3", { baseImage: "alpine:3.21", version: "v1.0.0", artifacts: ["raw-bios"], outputDir: "out" });
    expect((await registration("img3-build")).wire.outputDir).toBe(`${process.cwd()}/out`);
  });

  test("bad known input fails at construction, naming field, value and accepted values", () => {
    expect(() => new m.KairosImage("bad1", { baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["vmdk" as never] })).toThrow(
      'KairosImage bad1: artifacts[0]: "vmdk" is not valid; expected one of "iso", "raw-efi", "raw-bios", "qcow2"',
    );
    expect(() => new m.KairosImage("bad2", { baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso"], builder: { kind: "ssh" } as never })).toThrow(
      'KairosImage bad2: builder.kind: "ssh" is not valid; expected one of "local", "kubernetes"',
    );
    let err: Error | undefined;
    try {
      new m.KairosImage("bad3", {
        baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["iso"],
        push: { repository: "registry.example.test/x", credentials: { username: "bot bot", password: "pw-bad3-secret" } },
      });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toBe('KairosImage bad3: push.credentials.username: "bot bot" is not valid; expected a non-empty user name without spaces');
    expect(err?.message).not.toContain("pw-bad3-secret");
  });

  test("pickClusterImage prefers qcow2, then raw, then iso, or the kind asked for", () => {
    const as = [
      { kind: "iso" as const, path: "/a.iso", size: 1, sha256: "x" },
      { kind: "raw-efi" as const, path: "/a.efi.raw", size: 1, sha256: "x" },
    ];
    expect(m.pickClusterImage(as)).toEqual({ kind: "disk", path: "/a.efi.raw", format: "raw" });
    expect(m.pickClusterImage(as, "iso")).toEqual({ kind: "iso", path: "/a.iso", format: "iso" });
    expect(() => m.pickClusterImage(as, "qcow2")).toThrow('image: no qcow2 artifact among ["iso","raw-efi"]; add one to KairosImage.artifacts');
  });
});
