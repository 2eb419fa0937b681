/**
 * In-cluster OS upgrades through the kairos-operator's `NodeOpUpgrade` (`operator.kairos.io/v1alpha1`,
 * kairos-operator `api/v1alpha1/nodeopupgrade_types.go`). The operator turns it into one NodeOp that
 * cordons and drains each selected node, runs `kairos-agent upgrade --source dir:/` inside the new
 * image, and reboots it (kairos-operator `internal/controller/nodeopupgrade_controller.go`).
 *
 * One object is one rollout: the controller hands the spec to its NodeOp once and never reads it
 * again (later operator releases make the spec immutable). A changed image or option therefore needs
 * a new object, never an edit: give each spec its own name so Pulumi replaces instead of updating.
 */
import { validateOsImageRef } from "./reference";

/** `apiVersion` and `kind` of the object {@link nodeOpUpgradeSpec} is the spec of. */
export const NODEOPUPGRADE_API_VERSION = "operator.kairos.io/v1alpha1";
export const NODEOPUPGRADE_KIND = "NodeOpUpgrade";

/**
 * `status.phase` values: the NodeOpUpgrade controller writes `Initializing` when it creates its
 * NodeOp, then copies the NodeOp's phase (kairos-operator `internal/controller/nodeopupgrade_controller.go`).
 */
export const NODEOPUPGRADE_PHASES = ["Initializing", "Running", "Completed", "Failed"] as const;

/** A Kubernetes label selector (`metav1.LabelSelector`); both parts must match. */
export interface NodeLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }>;
}

export interface NodeOpUpgradeOptions {
  /** The OS image to install, e.g. `quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1`. */
  image: string;
  /** How many nodes upgrade at once; 0 means every selected node at the same time. @default 1 */
  concurrency?: number;
  /** Start no further node once one has failed (the failed node stays cordoned for inspection). @default true */
  stopOnFailure?: boolean;
  /** Also write the image to the recovery system (this turns off the operator's skip-if-current preflight). @default false */
  upgradeRecovery?: boolean;
  /** Upgrade even nodes whose `/etc/kairos-release` already matches the image's. @default false */
  force?: boolean;
  /** Which nodes to upgrade. @default - every node of the cluster */
  nodeSelector?: NodeLabelSelector;
}

/** The `spec` of a NodeOpUpgrade, as pulumi-kairos writes it: every option explicit, defaults included. */
export interface NodeOpUpgradeSpec {
  image: string;
  concurrency: number;
  stopOnFailure: boolean;
  upgradeActive: boolean;
  upgradeRecovery: boolean;
  force: boolean;
  nodeSelector?: NodeLabelSelector;
}

/** Bad options, each message naming the field, the value and what is accepted. */
export class NodeOpUpgradeOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "NodeOpUpgradeOptionsError";
  }
}

// Kubernetes label syntax (apimachinery `validation.IsQualifiedName`, `IsValidLabelValue`).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];
const INT32_MAX = 2147483647;

function labelKeyOk(key: string): boolean {
  const slash = key.lastIndexOf("/");
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
const KEY_EXPECTED = 'a label key such as "kubernetes.io/hostname" (an optional DNS prefix and "/", then at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends)';
const VALUE_EXPECTED = "a label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends, or empty";

function selectorProblems(path: string, s: NodeLabelSelector): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) {
    if (!labelKeyOk(k)) problems.push(`${path}.matchLabels: key ${show(k)} is not valid; expected ${KEY_EXPECTED}`);
    if (typeof v !== "string" || !LABEL_VALUE.test(v)) problems.push(`${path}.matchLabels[${show(k)}]: ${show(v)} is not valid; expected ${VALUE_EXPECTED}`);
  }
  (s.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (typeof e.key !== "string" || !labelKeyOk(e.key)) problems.push(`${p}.key: ${show(e.key)} is not valid; expected ${KEY_EXPECTED}`);
    if (!OPERATORS.includes(e.operator)) {
      problems.push(`${p}.operator: ${show(e.operator)} is not valid; expected one of "In", "NotIn", "Exists", "DoesNotExist"`);
      return;
    }
    const values = e.values ?? [];
    if ((e.operator === "In" || e.operator === "NotIn") && values.length === 0) {
      problems.push(`${p}.values: none given; expected at least one value with operator "${e.operator}"`);
    }
    if ((e.operator === "Exists" || e.operator === "DoesNotExist") && values.length > 0) {
      problems.push(`${p}.values: ${JSON.stringify(values)} is not valid; expected no values with operator "${e.operator}"`);
    }
    values.forEach((v, j) => {
      if (typeof v !== "string" || !LABEL_VALUE.test(v)) problems.push(`${p}.values[${j}]: ${show(v)} is not valid; expected ${VALUE_EXPECTED}`);
    });
  });
  return problems;
}

/** Every problem with the options, empty when they are fine; `path` prefixes field names (e.g. `upgrade`). */
export function nodeOpUpgradeProblems(o: NodeOpUpgradeOptions, path = ""): string[] {
  const f = (name: string) => (path ? `${path}.${name}` : name);
  const problems: string[] = [];
  const imageProblem = validateOsImageRef(f("image"), o.image);
  if (imageProblem) problems.push(imageProblem);
  if (o.concurrency !== undefined && (!Number.isInteger(o.concurrency) || o.concurrency < 0 || o.concurrency > INT32_MAX)) {
    problems.push(`${f("concurrency")}: ${show(o.concurrency)} is not valid; expected a whole number from 0 (every selected node at once) to ${INT32_MAX}`);
  }
  for (const name of ["stopOnFailure", "upgradeRecovery", "force"] as const) {
    const v = o[name];
    if (v !== undefined && typeof v !== "boolean") problems.push(`${f(name)}: ${show(v)} is not valid; expected true or false`);
  }
  if (o.nodeSelector !== undefined) problems.push(...selectorProblems(f("nodeSelector"), o.nodeSelector));
  return problems;
}

/**
 * The NodeOpUpgrade `spec` for `o`, with pulumi-kairos' defaults: one node at a time, stop at the
 * first failure (a bad image costs one node, not the cluster), active system only, version preflight on.
 * Only fields the CRD declares are written. Throws {@link NodeOpUpgradeOptionsError} listing every
 * bad option.
 */
export function nodeOpUpgradeSpec(o: NodeOpUpgradeOptions, path = ""): NodeOpUpgradeSpec {
  const problems = nodeOpUpgradeProblems(o, path);
  if (problems.length) throw new NodeOpUpgradeOptionsError(problems);
  const spec: NodeOpUpgradeSpec = {
    image: o.image,
    concurrency: o.concurrency ?? 1,
    stopOnFailure: o.stopOnFailure ?? true,
    upgradeActive: true,
    upgradeRecovery: o.upgradeRecovery ?? false,
    force: o.force ?? false,
  };
  if (o.nodeSelector) {
    const sel: NodeLabelSelector = {};
    if (o.nodeSelector.matchLabels) sel.matchLabels = { ...o.nodeSelector.matchLabels };
    if (o.nodeSelector.matchExpressions) {
      sel.matchExpressions = o.nodeSelector.matchExpressions.map((e) => (e.values ? { key: e.key, operator: e.operator, values: [...e.values] } : { key: e.key, operator: e.operator }));
    }
    spec.nodeSelector = sel;
  }
  return spec;
}

/** What @pulumi/kubernetes waits for on a NodeOpUpgrade: the operator reporting every node done. */
export const NODEOPUPGRADE_WAIT_FOR = "jsonpath={.status.phase}=Completed";

/**
 * Annotations that make @pulumi/kubernetes (>= 4.18; pinned 4.34.2) hold the NodeOpUpgrade's
 * create until `status.phase` is `Completed`, for at most `timeoutSeconds`.
 *
 * A `Failed` phase does not end the wait: the provider's awaiter returns only when the condition is
 * met or the deadline passes (pulumi-kubernetes `provider/pkg/await/internal/awaiter.go`), and a
 * JSON list of conditions in `pulumi.com/waitFor` means all of them, never one of them
 * (`provider/pkg/metadata/overrides.go`). So a failed rollout surfaces as a timeout whose error
 * carries the object's last state (phase, message, per-node statuses): size `timeoutSeconds` for
 * the whole rollout, not more. A `customTimeouts.create` on the resource, when set, wins over it.
 */
export function nodeOpUpgradeWaitAnnotations(timeoutSeconds: number): Record<string, string> {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    throw new Error(`timeoutSeconds: ${show(timeoutSeconds)} is not valid; expected a whole number of seconds >= 1`);
  }
  return { "pulumi.com/waitFor": NODEOPUPGRADE_WAIT_FOR, "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/**
 * The kairos-operator Helm chart, pinned. It is published as an OCI artifact: kairos-operator
 * `.github/workflows/helm-release.yml` packages `charts/kairos-operator` with the release tag minus
 * its `v` as chart version and pushes it to `oci://ghcr.io/kairos-io/helm-charts` on every `v*` tag;
 * the chart ships since operator v0.1.4 (kairos-docs operator installation page). 0.2.2 is the
 * newest release seen (operator v0.2.2, 2026-09). Pass `chart` (the full reference) and `version`
 * to `helm.v4.Chart`/`helm.v3.Release` with no `repositoryOpts`: an OCI chart takes no repository
 * URL. The docs also name `https://kairos-io.github.io/kairos-operator/charts`, which the release
 * workflow read here does not publish to; it is not used.
 */
export const KAIROS_OPERATOR_CHART = {
  chart: "oci://ghcr.io/kairos-io/helm-charts/kairos-operator",
  /** The OCI registry path holding the chart (for reference; not a `repositoryOpts.repo`). */
  repo: "oci://ghcr.io/kairos-io/helm-charts",
  version: "0.2.2",
} as const;
