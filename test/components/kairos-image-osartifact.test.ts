/**
 * L1: KairosImage with builder.kind "kubernetes" under Pulumi's mocks: Secrets first, the OSArtifact
 * depending on them, secret data secret on the wire, the wait annotations; and the rendered
 * OSArtifact validated against the kairos-operator's own CRD schema, read from
 * ../shared/kairos-operator-crds/ beside the repository (an outside oracle, never copied here).
 *
 * What this proves: the object the API server would receive is well-formed for the operator's
 * v1alpha2 two-stage schema and ordered after its Secrets. What it cannot: that the operator builds
 * it (needs a cluster with kairos-operator and internet).
 */
import * as fs from "fs";
import Ajv from "ajv";
import * as yaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import type * as Mod from "../../components/kairos-image";
import { normalizeImageSpec, osArtifactManifest } from "../../kairos/image";
import { installMocks, isWireSecret, registration, value } from "./kairos-image-mocks";
import { describeWithOracle, oraclePath, testWithOracle } from "../oracles";

const CRD = "kairos-operator-crds/build.kairos.io_osartifacts.yaml";
const CRD_FILE = oraclePath(CRD);

let m: typeof Mod;
/** The OSArtifact as the L1 test registered it, for the CRD check. */
let registeredOsArtifact: unknown;
let validate: (obj: unknown) => string[];

/**
 * The API server prunes fields a structural schema does not declare; for us a pruned field is a
 * silent bug, so the oracle treats undeclared fields as errors (additionalProperties: false wherever
 * the schema lists properties and says nothing about extra ones).
 */
function strictify(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s };
  if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  for (const k of ["properties", "patternProperties"] as const) {
    if (out[k]) out[k] = Object.fromEntries(Object.entries(out[k] as Record<string, Record<string, unknown>>).map(([n, v]) => [n, strictify(v)]));
  }
  if (out.items && typeof out.items === "object") out.items = strictify(out.items as Record<string, unknown>);
  if (out.additionalProperties && typeof out.additionalProperties === "object") out.additionalProperties = strictify(out.additionalProperties as Record<string, unknown>);
  return out;
}

/** The CRD's v1alpha2 schema as a validator (only called by suites that have the oracle). */
function loadCrdValidator(): (obj: unknown) => string[] {
  const crd = yaml.load(fs.readFileSync(CRD_FILE, "utf8")) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  const v = crd.spec.versions.find((x) => x.name === "v1alpha2");
  if (!v) throw new Error(`${CRD_FILE} has no v1alpha2 version`);
  // Kubernetes' x-kubernetes-* keywords are not JSON Schema; Ajv ignores them with strict off.
  // OpenAPI formats (int32, int64, ...) are advisory there too; the types carry the checks that matter.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const fn = ajv.compile(strictify(v.schema.openAPIV3Schema));
  return (obj) => (fn(obj) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ""}`));
}

beforeAll(async () => {
  if (fs.existsSync(CRD_FILE)) validate = loadCrdValidator();
  await installMocks();
  m = await import("../../components/kairos-image");
});

const provider = () => new k8s.Provider("kube", { kubeconfig: "apiVersion: v1\nkind: Config\n" });

describeWithOracle("OSArtifact manifest against the operator's CRD schema", [CRD], () => {
  const spec = (extra = {}) => normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["iso", "raw-efi"], ...extra });

  test("the two-stage v1alpha2 spec (buildOptions + artifacts) validates", () => {
    const o = osArtifactManifest(spec({ diskSizeMiB: 16384 }), {
      name: "img", namespace: "builds", cloudConfigSecretName: "img-cc",
      push: { registry: "registry.example.test", repository: "team/kairos", tag: "t1", imageCredentialsSecretName: "img-push" },
    });
    expect(validate(o)).toEqual([]);
    expect(o.spec).toEqual({
      image: {
        buildOptions: {
          version: "v1.0.0", baseImage: "ubuntu:24.04", model: "generic", trustedBoot: false, fips: false,
          kairosInitImage: "quay.io/kairos/kairos-init:v0.17.2", kubernetesDistro: "k3s", kubernetesVersion: "v1.36.3+k3s1",
        },
        buildImage: { registry: "registry.example.test", repository: "team/kairos", tag: "t1" },
        push: true,
        imageCredentialsSecretRef: { name: "img-push", key: ".dockerconfigjson" },
      },
      artifacts: { arch: "amd64", iso: true, cloudImage: true, diskSize: "16384", cloudConfigRef: { name: "img-cc", key: "cloud-config.yaml" } },
    });
  });

  test("a core image without cloud-config validates too", () => {
    expect(validate(osArtifactManifest(normalizeImageSpec({ baseImage: "ghcr.io/kairos-io/hadron:v0.5.1", version: "v4.2.0", artifacts: ["iso"] }), { name: "h", namespace: "default" }))).toEqual([]);
  });

  test("the oracle can fail: osbuilder's legacy flat spec and a mistyped field are rejected", () => {
    const legacy = { apiVersion: "build.kairos.io/v1alpha2", kind: "OSArtifact", metadata: { name: "x" }, spec: { imageName: "quay.io/kairos/ubuntu:x", iso: true } };
    expect(validate(legacy)).toEqual(expect.arrayContaining([expect.stringContaining("must have required property 'image'"), expect.stringContaining("(imageName)")]));
    const typo = osArtifactManifest(spec(), { name: "x", namespace: "d" }) as { spec: { artifacts: Record<string, unknown> } };
    typo.spec.artifacts.diskSize = 16384;
    expect(validate(typo)).toEqual([expect.stringContaining("/spec/artifacts/diskSize must be string")]);
  });

});

describe("OSArtifact manifest refusals", () => {
  const spec = (extra = {}) => normalizeImageSpec({ baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["iso", "raw-efi"], ...extra });

  test("BIOS raw, qcow2 and packages are refused for in-cluster builds, naming the field", () => {
    expect(() => osArtifactManifest(spec({ artifacts: ["iso", "qcow2"] }), { name: "x", namespace: "d" })).toThrow(
      'artifacts[1]: "qcow2" is not valid; expected with builder.kind "kubernetes", one of "iso", "raw-efi" (the operator has no BIOS raw or qcow2 output)',
    );
  });
});

describe("KairosImage, kubernetes builder (L1)", () => {
  test("creates the cloud-config and push Secrets first, then the OSArtifact depending on both, waiting for Ready", async () => {
    const img = new m.KairosImage("kimg", {
      baseImage: "ubuntu:24.04", version: "v1.0.0", kubernetes: { distro: "k3s" }, artifacts: ["iso"],
      cloudConfig: "#cloud-config\nusers: []\n# k8s-cc-secret\n",
      push: { repository: "registry.example.test/team/kairos", credentials: { username: "bot", password: "pw-k8s-secret" } },
      builder: { kind: "kubernetes", provider: provider(), namespace: "builds", timeoutMinutes: 90 },
    });
    const cc = await registration("kimg-cloud-config");
    const creds = await registration("kimg-push-credentials");
    const cr = await registration("kimg-osartifact");
    expect(cc.type).toBe("kubernetes:core/v1:Secret");
    expect(creds.type).toBe("kubernetes:core/v1:Secret");
    expect(cr.type).toBe("kubernetes:build.kairos.io/v1alpha2:OSArtifact");
    const parent = "urn:pulumi:test::pulumi-kairos::kairos:index:KairosImage::kimg";
    for (const r of [cc, creds, cr]) expect(r.parent).toBe(parent);
    expect(cr.dependencies).toEqual(expect.arrayContaining([
      `${parent.replace("::kimg", "")}$kubernetes:core/v1:Secret::kimg-cloud-config`,
      `${parent.replace("::kimg", "")}$kubernetes:core/v1:Secret::kimg-push-credentials`,
    ]));

    // Secret data is secret on the wire and nowhere in plain text.
    expect(isWireSecret(cc.wire.stringData)).toBe(true);
    expect(isWireSecret(creds.wire.stringData)).toBe(true);
    expect(((cc.wire.stringData as { value: Record<string, string> }).value)["cloud-config.yaml"]).toContain("k8s-cc-secret");
    const auths = JSON.parse((creds.wire.stringData as { value: Record<string, string> }).value[".dockerconfigjson"]);
    expect(Buffer.from(auths.auths["registry.example.test"].auth, "base64").toString()).toBe("bot:pw-k8s-secret");
    expect(JSON.stringify(cr.wire)).not.toContain("k8s-cc-secret");
    expect(JSON.stringify(cr.wire)).not.toContain("pw-k8s-secret");

    const md = cr.wire.metadata as { name: string; namespace: string; annotations: Record<string, string> };
    expect(md.namespace).toBe("builds");
    expect(md.name.length).toBeLessThanOrEqual(50);
    expect(md.annotations).toEqual({ "pulumi.com/waitFor": "jsonpath={.status.phase}=Ready", "pulumi.com/timeoutSeconds": "5400" });
    const spec = cr.wire.spec as { artifacts: { cloudConfigRef: { name: string } }; image: { imageCredentialsSecretRef: { name: string } } };
    expect(spec.artifacts.cloudConfigRef.name).toBe((cc.wire.metadata as { name: string }).name);
    expect(spec.image.imageCredentialsSecretRef.name).toBe((creds.wire.metadata as { name: string }).name);
    registeredOsArtifact = { apiVersion: cr.wire.apiVersion, kind: cr.wire.kind, metadata: { name: md.name, namespace: md.namespace }, spec: cr.wire.spec };

    expect(await value(img.imageRef)).toBe("registry.example.test/team/kairos:24.04-standard-amd64-generic-v1.0.0-k3s-v1.36.3-k3s1");
    expect(await value(img.osArtifact)).toEqual({ namespace: "builds", name: md.name });
    expect(await value(img.artifacts)).toEqual([]);
  });

  testWithOracle("the registered OSArtifact validates against the operator's CRD", [CRD], () => {
    expect(registeredOsArtifact).toBeDefined();
    expect(validate(registeredOsArtifact)).toEqual([]);
  });

  test("qcow2 with the kubernetes builder fails at construction", () => {
    expect(() => new m.KairosImage("kbad", { baseImage: "ubuntu:24.04", version: "v1.0.0", artifacts: ["qcow2"], builder: { kind: "kubernetes" } })).toThrow(
      'KairosImage kbad: artifacts[0]: "qcow2" is not valid; expected with builder.kind "kubernetes", one of "iso", "raw-efi"',
    );
  });
});
