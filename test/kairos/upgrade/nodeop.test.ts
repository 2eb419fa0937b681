/**
 * L0: the NodeOpUpgrade spec, its wait annotations and the operator chart pin; and the spec, in a
 * whole object, validated against the kairos-operator's own CRD schema read from
 * ../shared/kairos-operator-crds/ beside the repository (an outside oracle, never copied here).
 *
 * What this proves: the API server would accept what we write and prune none of it. What it cannot:
 * that the operator upgrades nodes with it (needs a cluster with kairos-operator and Kairos nodes).
 */
import * as fs from "fs";
import Ajv from "ajv";
import * as yaml from "js-yaml";
import {
  KAIROS_OPERATOR_CHART, NODEOPUPGRADE_API_VERSION, NODEOPUPGRADE_KIND, NodeOpUpgradeOptionsError, nodeOpUpgradeProblems,
  nodeOpUpgradeSpec, nodeOpUpgradeWaitAnnotations, type NodeOpUpgradeOptions,
} from "../../../kairos/upgrade";
import { describeWithOracle, oraclePath } from "../../oracles";

const IMAGE = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";

describe("nodeOpUpgradeSpec", () => {
  test("writes every option explicitly, with pulumi-kairos' defaults: one node at a time, stop at the first failure", () => {
    expect(nodeOpUpgradeSpec({ image: IMAGE })).toEqual({
      image: IMAGE, concurrency: 1, stopOnFailure: true, upgradeActive: true, upgradeRecovery: false, force: false,
    });
  });

  test("passes the caller's options through, copying the selector", () => {
    const nodeSelector = { matchLabels: { "kairos.io/managed": "true" }, matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" as const }] };
    const spec = nodeOpUpgradeSpec({ image: IMAGE, concurrency: 0, stopOnFailure: false, upgradeRecovery: true, force: true, nodeSelector });
    expect(spec).toEqual({ image: IMAGE, concurrency: 0, stopOnFailure: false, upgradeActive: true, upgradeRecovery: true, force: true, nodeSelector });
    expect(spec.nodeSelector).not.toBe(nodeSelector);
    expect(spec.nodeSelector!.matchLabels).not.toBe(nodeSelector.matchLabels);
  });

  test("lists every bad option at once, each naming the field, the value and what is accepted", () => {
    const bad = {
      image: "oci:" + IMAGE,
      concurrency: -1,
      force: "yes",
      nodeSelector: {
        matchLabels: { "bad key!": "x", ok: "-bad-" },
        matchExpressions: [
          { key: "zone", operator: "In", values: [] },
          { key: "zone", operator: "Exists", values: ["a"] },
          { key: "zone", operator: "Near" },
        ],
      },
    } as unknown as NodeOpUpgradeOptions;
    expect(nodeOpUpgradeProblems(bad, "upgrade")).toEqual([
      `upgrade.image: "oci:${IMAGE}" is not an OCI image reference: it starts with the transport prefix "oci:"; give the bare reference (pulumi-kairos adds "oci:" for kairos-agent itself); expected e.g. "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1" or "<repository>@sha256:<64 hex digits>"`,
      "upgrade.concurrency: -1 is not valid; expected a whole number from 0 (every selected node at once) to 2147483647",
      'upgrade.force: "yes" is not valid; expected true or false',
      'upgrade.nodeSelector.matchLabels: key "bad key!" is not valid; expected a label key such as "kubernetes.io/hostname" (an optional DNS prefix and "/", then at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends)',
      'upgrade.nodeSelector.matchLabels["ok"]: "-bad-" is not valid; expected a label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends, or empty',
      'upgrade.nodeSelector.matchExpressions[0].values: none given; expected at least one value with operator "In"',
      'upgrade.nodeSelector.matchExpressions[1].values: ["a"] is not valid; expected no values with operator "Exists"',
      'upgrade.nodeSelector.matchExpressions[2].operator: "Near" is not valid; expected one of "In", "NotIn", "Exists", "DoesNotExist"',
    ]);
    expect(() => nodeOpUpgradeSpec(bad, "upgrade")).toThrow(NodeOpUpgradeOptionsError);
  });

  test.each([[1.5], [2 ** 31], [Number.NaN]])("refuses concurrency %p", (concurrency) => {
    expect(() => nodeOpUpgradeSpec({ image: IMAGE, concurrency })).toThrow(`concurrency: ${concurrency} is not valid`);
  });

  test("accepts the label forms Kubernetes accepts", () => {
    expect(nodeOpUpgradeProblems({
      image: IMAGE,
      nodeSelector: { matchLabels: { "kairos.io/managed": "true", plain: "", "a.b-c_d": "V1.2_x" }, matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: ["node-1", "node-2"] }] },
    })).toEqual([]);
  });
});

describe("nodeOpUpgradeWaitAnnotations", () => {
  test("waits for the Completed phase, bounded", () => {
    expect(nodeOpUpgradeWaitAnnotations(3600)).toEqual({ "pulumi.com/waitFor": "jsonpath={.status.phase}=Completed", "pulumi.com/timeoutSeconds": "3600" });
  });
  test.each([[0], [-5], [1.5]])("refuses timeout %p", (s) => {
    expect(() => nodeOpUpgradeWaitAnnotations(s)).toThrow(`timeoutSeconds: ${s} is not valid; expected a whole number of seconds >= 1`);
  });
});

describe("KAIROS_OPERATOR_CHART", () => {
  test("is pinned to one released chart version, by its full OCI reference", () => {
    expect(KAIROS_OPERATOR_CHART).toEqual({
      chart: "oci://ghcr.io/kairos-io/helm-charts/kairos-operator",
      repo: "oci://ghcr.io/kairos-io/helm-charts",
      version: "0.2.2",
    });
    expect(KAIROS_OPERATOR_CHART.chart).toBe(`${KAIROS_OPERATOR_CHART.repo}/kairos-operator`);
    expect(KAIROS_OPERATOR_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

const CRD = "kairos-operator-crds/operator.kairos.io_nodeopupgrades.yaml";

/**
 * The API server prunes fields a structural schema does not declare; for us a pruned field is a
 * silent bug, so the oracle treats undeclared fields as errors (additionalProperties: false wherever
 * the schema lists properties and says nothing about extra ones).
 */
function noUndeclaredFields(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s };
  if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, Record<string, unknown>>).map(([k, v]) => [k, noUndeclaredFields(v)]));
  }
  if (out.items && typeof out.items === "object") out.items = noUndeclaredFields(out.items as Record<string, unknown>);
  if (out.additionalProperties && typeof out.additionalProperties === "object") out.additionalProperties = noUndeclaredFields(out.additionalProperties as Record<string, unknown>);
  return out;
}

describeWithOracle("NodeOpUpgrade objects against the operator's CRD schema", [CRD], () => {
  let validate: (obj: unknown) => string[];

  beforeAll(() => {
    const crd = yaml.load(fs.readFileSync(oraclePath(CRD), "utf8")) as {
      spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    };
    expect(`${crd.spec.group}/v1alpha1`).toBe(NODEOPUPGRADE_API_VERSION);
    expect(crd.spec.names.kind).toBe(NODEOPUPGRADE_KIND);
    const v = crd.spec.versions.find((x) => x.name === "v1alpha1");
    if (!v) throw new Error(`${oraclePath(CRD)} has no v1alpha1 version`);
    // x-kubernetes-* keywords are not JSON Schema and OpenAPI formats (int32) are advisory: strict off.
    const fn = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(noUndeclaredFields(v.schema.openAPIV3Schema));
    validate = (obj) => (fn(obj) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${"additionalProperty" in (e.params ?? {}) ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ""}`));
  });

  const object = (spec: unknown) => ({
    apiVersion: NODEOPUPGRADE_API_VERSION,
    kind: NODEOPUPGRADE_KIND,
    metadata: { name: "os-upgrade-1a2b3c4d", namespace: "kairos-operator", annotations: nodeOpUpgradeWaitAnnotations(1800) },
    spec,
  });

  test.each<[string, NodeOpUpgradeOptions]>([
    ["defaults", { image: IMAGE }],
    ["all at once, recovery too, forced", { image: IMAGE, concurrency: 0, stopOnFailure: false, upgradeRecovery: true, force: true }],
    ["a digest reference and a label selector", { image: `quay.io/kairos/hadron@sha256:${"0".repeat(64)}`, concurrency: 2, nodeSelector: { matchLabels: { "kairos.io/managed": "true" } } }],
    ["expressions with and without values", { image: IMAGE, nodeSelector: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["a", "b"] }, { key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] } }],
  ])("%s validates, with nothing pruned", (_what, options) => {
    expect(validate(object(nodeOpUpgradeSpec(options)))).toEqual([]);
  });

  test("the oracle bites: an undeclared field, a negative concurrency and a missing image are each caught", () => {
    expect(validate(object({ ...nodeOpUpgradeSpec({ image: IMAGE }), rebootOnSuccess: true }))).toEqual(["/spec must NOT have additional properties (rebootOnSuccess)"]);
    expect(validate(object({ ...nodeOpUpgradeSpec({ image: IMAGE }), concurrency: -1 }))).toEqual(["/spec/concurrency must be >= 0"]);
    const { image: _image, ...noImage } = nodeOpUpgradeSpec({ image: IMAGE });
    expect(validate(object(noImage))).toEqual(["/spec must have required property 'image'"]);
  });
});
