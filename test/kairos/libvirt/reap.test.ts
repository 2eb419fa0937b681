import { reapReason } from "../../../kairos/libvirt/reap";

const now = new Date("2026-12-02T12:00:00Z");
const exists = () => true;
const gone = () => false;
const HOUR = 3600_000;
const host = "ci-runner-1";

describe("reapReason", () => {
  test("a cluster without the ephemeral mark is never chosen, whatever its age or the policy", () => {
    const old = { createdAt: "2020-01-01T00:00:00Z" };
    expect(reapReason(old, { now, stateExists: gone, host })).toBeUndefined();
    expect(reapReason(old, { now, olderThanMs: 0, stateExists: gone, host })).toBeUndefined();
    expect(reapReason({}, { now, olderThanMs: 0, stateExists: gone, host })).toBeUndefined();
  });

  test("expired when expiresAt is now or past; kept while it is in the future", () => {
    expect(reapReason({ expiresAt: "2026-12-02T12:00:00Z" }, { now, stateExists: exists, host })).toBe("expired");
    expect(reapReason({ expiresAt: "2026-12-02T11:00:00Z" }, { now, stateExists: exists, host })).toBe("expired");
    expect(reapReason({ expiresAt: "2026-12-02T12:00:01Z" }, { now, stateExists: exists, host })).toBeUndefined();
  });

  test("orphaned when statePath is set and gone; kept while it exists", () => {
    const seen: string[] = [];
    expect(reapReason({ statePath: "/s/c1", stateHost: host }, { now, stateExists: (p) => (seen.push(p), false), host })).toBe("orphaned");
    expect(seen).toEqual(["/s/c1"]);
    expect(reapReason({ statePath: "/s/c1", expiresAt: "2026-12-03T00:00:00Z" }, { now, stateExists: exists, host })).toBeUndefined();
  });

  test("a state folder is judged only on the machine that made it: elsewhere a missing folder proves nothing", () => {
    expect(reapReason({ statePath: "/s/c1", stateHost: "laptop" }, { now, stateExists: gone, host })).toBeUndefined();
    expect(reapReason({ statePath: "/s/c1" }, { now, stateExists: gone, host })).toBeUndefined();
    expect(reapReason({ statePath: "/s/c1", stateHost: host }, { now, stateExists: gone, host })).toBe("orphaned");
  });

  test("an expired cluster is reported as expired even when its state folder is gone too", () => {
    expect(reapReason({ statePath: "/s", expiresAt: "2026-12-01T00:00:00Z" }, { now, stateExists: gone, host })).toBe("expired");
  });

  test("older-than chooses a live ephemeral cluster only when it was created at least that long ago", () => {
    const live = { createdAt: "2026-12-02T10:00:00Z", expiresAt: "2026-12-03T00:00:00Z" };
    expect(reapReason(live, { now, stateExists: exists, host })).toBeUndefined();
    expect(reapReason(live, { now, olderThanMs: 2 * HOUR, stateExists: exists, host })).toBe("older-than");
    expect(reapReason(live, { now, olderThanMs: 3 * HOUR, stateExists: exists, host })).toBeUndefined();
    expect(reapReason({ expiresAt: live.expiresAt }, { now, olderThanMs: 0, stateExists: exists, host })).toBeUndefined(); // no createdAt: age unknown
  });
});
