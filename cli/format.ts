/** What the CLI prints on stdout: tables for people, JSON for scripts. Pure. */
import type { ReapReport } from "../testing/reap";
import type { ClusterRecord } from "./store";

export type { ReapReport };

/** What `up --json` prints. */
export interface UpResult {
  name: string;
  kubeconfigPath: string;
  apiEndpoint: string;
  nodes: Array<{ name: string; role: string; address: string }>;
  createdAt: string;
  expiresAt: string;
}

/** Columns padded to their widest cell, two spaces apart, like kubectl. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

/** `2026-12-02T11:22:04Z`: to the second, UTC. */
export const shortTime = (iso: string): string => (iso ? new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z") : "-");

export function formatList(records: readonly ClusterRecord[], now: Date, json: boolean): string {
  if (json) return `${JSON.stringify(records, null, 2)}\n`;
  return table(["NAME", "SERVERS", "AGENTS", "API", "CREATED", "EXPIRES"], records.map((r) => [
    r.name, String(r.servers), String(r.agents), r.apiEndpoint || "-", shortTime(r.createdAt),
    new Date(r.expiresAt).getTime() <= now.getTime() ? "expired" : shortTime(r.expiresAt),
  ]));
}

/** `up`: the kubeconfig path alone (for `export KUBECONFIG=$(pulumi-kairos up …)`), or the JSON object. */
export function formatUp(result: UpResult, json: boolean): string {
  return json ? `${JSON.stringify(result, null, 2)}\n` : `${result.kubeconfigPath}\n`;
}

/** One line per object removed (or, with --dry-run, to be removed): `<reason> <stack>/<cluster> <kind> <name>`. */
export function formatReap(report: ReapReport, json: boolean): string {
  if (json) return `${JSON.stringify(report, null, 2)}\n`;
  return report.reaped.flatMap((c) => [
    ...c.objects.map((o) => `${c.reason} ${c.stack}/${c.cluster} ${o.kind} ${o.name}\n`),
    ...(c.error ? [`failed ${c.stack}/${c.cluster}: ${c.error}\n`] : []),
  ]).join("");
}
