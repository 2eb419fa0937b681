/** L0: what the CLI prints on stdout for list, up and reap: aligned tables for people, JSON for scripts. */
import { formatList, formatReap, formatUp, shortTime, table, type ReapReport } from "../../cli/format";
import type { ClusterRecord } from "../../cli/store";

const now = new Date("2026-12-02T12:00:00.000Z");
const record = (name: string, createdAt: string, expiresAt: string, extra: Partial<ClusterRecord> = {}): ClusterRecord => ({
  name, createdAt, expiresAt, uri: "qemu:///system", servers: 1, agents: 2, apiEndpoint: "https://10.213.4.10:6443",
  nodes: [{ name: `${name}-server-0`, role: "server", address: "10.213.4.10" }], ...extra,
});

describe("list", () => {
  const records = [
    record("old", "2026-12-02T08:00:00.000Z", "2026-12-02T10:00:00.000Z"),
    record("ci-1234", "2026-12-02T11:30:00.500Z", "2026-12-02T13:30:00.500Z", { servers: 3, agents: 0 }),
    record("half", "2026-12-02T11:59:00.000Z", "2026-12-02T13:59:00.000Z", { apiEndpoint: "", nodes: [] }),
  ];

  test("a table with aligned columns, times to the second in UTC, 'expired' when past and '-' for an API not yet known", () => {
    expect(formatList(records, now, false)).toBe([
      "NAME     SERVERS  AGENTS  API                       CREATED               EXPIRES",
      "old      1        2       https://10.213.4.10:6443  2026-12-02T08:00:00Z  expired",
      "ci-1234  3        0       https://10.213.4.10:6443  2026-12-02T11:30:00Z  2026-12-02T13:30:00Z",
      "half     1        2       -                         2026-12-02T11:59:00Z  2026-12-02T13:59:00Z",
      "",
    ].join("\n"));
  });

  test("an empty list is the header alone, or [] as JSON", () => {
    expect(formatList([], now, false)).toBe("NAME  SERVERS  AGENTS  API  CREATED  EXPIRES\n");
    expect(formatList([], now, true)).toBe("[]\n");
  });

  test("JSON is the records as stored", () => {
    expect(JSON.parse(formatList(records, now, true))).toEqual(records);
  });
});

describe("up", () => {
  const result = {
    name: "c1", kubeconfigPath: "/s/clusters/c1/kubeconfig", apiEndpoint: "https://10.213.4.10:6443",
    nodes: [{ name: "c1-server-0", role: "server", address: "10.213.4.10" }], createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T13:00:00.000Z",
  };

  test("stdout is the kubeconfig path and a newline, nothing else", () => {
    expect(formatUp(result, false)).toBe("/s/clusters/c1/kubeconfig\n");
  });

  test("--json is one object with name, kubeconfigPath, apiEndpoint, nodes, createdAt and expiresAt", () => {
    const out = formatUp(result, true);
    expect(JSON.parse(out)).toEqual(result);
    expect(Object.keys(JSON.parse(out))).toEqual(["name", "kubeconfigPath", "apiEndpoint", "nodes", "createdAt", "expiresAt"]);
    expect(out.endsWith("}\n")).toBe(true);
  });
});

describe("reap", () => {
  const report: ReapReport = {
    dryRun: false,
    reaped: [
      { stack: "eph-1", cluster: "eph-1", reason: "expired", expiresAt: "2026-12-02T10:00:00Z", objects: [
        { kind: "domain", name: "eph-1-server-0" }, { kind: "volume", name: "eph-1-server-0.qcow2", pool: "default" }, { kind: "network", name: "eph-1" },
      ] },
      { stack: "dev", cluster: "lab", reason: "orphaned", objects: [{ kind: "domain", name: "lab-agent-0" }] },
    ],
    kept: [{ stack: "eph-2", cluster: "eph-2" }],
  };

  test("one line per object: reason, stack/cluster, kind, name", () => {
    expect(formatReap(report, false)).toBe([
      "expired eph-1/eph-1 domain eph-1-server-0",
      "expired eph-1/eph-1 volume eph-1-server-0.qcow2",
      "expired eph-1/eph-1 network eph-1",
      "orphaned dev/lab domain lab-agent-0",
      "",
    ].join("\n"));
  });

  test("nothing reaped prints nothing; --json prints the report", () => {
    expect(formatReap({ dryRun: false, reaped: [], kept: [] }, false)).toBe("");
    expect(JSON.parse(formatReap(report, true))).toEqual(report);
  });
});

test("table and shortTime", () => {
  expect(table(["A", "LONG"], [["xyz", "1"]])).toBe("A    LONG\nxyz  1\n");
  expect(shortTime("2026-12-02T11:30:00.500Z")).toBe("2026-12-02T11:30:00Z");
  expect(shortTime("")).toBe("-");
});
