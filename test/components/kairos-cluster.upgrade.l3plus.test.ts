/**
 * L3+ OS upgrades (issue 10): one KairosCluster of STAND-IN GUESTS (1 server + 2 agents; test
 * fixtures that behave like Kairos here: `kairos-agent upgrade --source oci:IMG` records the image on
 * the node's own disk without rebooting, the next boot runs it from the active system with the old
 * one kept as passive, /etc/kairos-release and `k3s --version` report the running image, and per-node
 * switches make an upgrade fail or the new image fall back to the passive one), changed through
 * `osImage` with the engine's semantics over saved state (a failed run keeps what the engine saves).
 *
 * - Created with the image the nodes run: nothing is upgraded; nodeOs reports what runs.
 * - A new image upgrades every node in place, one at a time, servers first: each is cordoned,
 *   upgraded, rebooted, Ready on the new release and uncordoned before the next starts; no VM,
 *   disk or cidata volume changes; a no-op up afterwards changes nothing.
 * - A k3s minor skip is refused at preview, before any node is touched.
 * - A node that stays NotReady (its VM paused) stops the upgrade before anything is touched, once
 *   the rollout has waited for it to come back.
 * - A failure on the second node stops the rollout there: the first stays upgraded, the third is
 *   untouched, the error names the node, the step and what kairos-agent printed.
 * - A node that boots back into its previous image (A/B fallback) is a failure, reported as such.
 * - Once the cause is gone, the next up finishes the rollout.
 */
import { run as exec } from "../../providers/exec";
import { Day2Cluster, useDay2Cluster } from "../harness/day2-cluster";
import { FailedRun, ProgramRun } from "../harness/dynamic-provider-host";
import { outputValue as value } from "../harness/mocks";
import { LOCAL } from "../providers/libvirt/env";

/** The stand-in's first image, then two newer ones (k3s one minor up, then a patch) and a skip. */
const V420 = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";
const V430 = "quay.io/kairos/hadron:v0.5.2-standard-amd64-generic-v4.3.0-k3s-v1.37.1-k3s1";
const V440 = "quay.io/kairos/hadron:v0.5.3-standard-amd64-generic-v4.4.0-k3s-v1.37.2-k3s1";
const SKIP = "quay.io/kairos/hadron:v0.5.3-standard-amd64-generic-v4.4.0-k3s-v1.39.0-k3s1";

const lab = useDay2Cluster("kairos-upgrade-");
let c: Day2Cluster;
let names: string[];
beforeAll(() => {
  c = lab();
  names = c.names;
});
const addr = (i: number) => `${c.prefix}${10 + i}`;

const changedSteps = (r: ProgramRun) => r.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
const bootsNow = () => names.map((n) => c.consoleOf(n).boots);
const runningImage = (n: string) => c.consoleOf(n).os;

/** Runs an up that must fail; returns its error (a FailedRun: the engine saved what completed). */
async function failingUp(osImage: string): Promise<FailedRun> {
  const e = await c.up({ osImage }).then(() => undefined, (err: Error) => err);
  expect(e).toBeInstanceOf(FailedRun);
  return e as FailedRun;
}

describe("KairosCluster OS upgrades over SSH (L3+, stand-in guests, engine semantics over saved state)", () => {
  test("created with the image the nodes run: nothing is upgraded, nodeOs reports what runs", async () => {
    await c.up({ osImage: V420 });
    expect(bootsNow()).toEqual([1, 1, 1]);
    const os = await value(c.cluster.nodeOs);
    for (const n of names) expect(os[n]).toEqual({ kairosVersion: "v4.2.0", flavor: "hadron", softwareVersion: "v1.36.3+k3s1", bootState: "active_boot", k3sVersion: "v1.36.3+k3s1" });
  }, 900_000);

  test("a new image is rolled through in place: one node at a time, servers first, each Ready on the new release before the next", async () => {
    const uuids = c.of("Domain").map((e) => e.id).sort();
    const r = await c.up({ osImage: V430 });
    expect(changedSteps(r)).toEqual(names.map((n) => `update ${n}-config`));
    expect(c.of("Domain").map((e) => e.id).sort()).toEqual(uuids);
    expect(bootsNow()).toEqual([2, 2, 2]);
    for (const n of names) {
      expect(runningImage(n)).toEqual({ image: V430, boot: "active_boot" });
      expect(c.consoleOf(n).osHistory.map((o) => o.image)).toEqual([V420, V430]);
    }
    // No overlap: each node's upgrade is done (Ready, uncordoned) before the next one starts.
    const progress = r.host.output().split("\n").filter((l) => /kairos: \S+: (cordon and drain|kairos-agent upgrade to|done)/.test(l))
      .map((l) => l.replace(/^.*kairos: (\S+): (cordon and drain|kairos-agent upgrade|done).*$/, "$2 $1"));
    expect(progress).toEqual(names.flatMap((n) => [`cordon and drain ${n}`, `kairos-agent upgrade ${n}`, `done ${n}`]));
    expect((await c.serverCalls()).slice(-9)).toEqual(names.flatMap((n) => [`cordon ${n}`, `drain ${n}`, `uncordon ${n}`]));
    const os = await value(c.cluster.nodeOs);
    for (const n of names) expect(os[n]).toMatchObject({ kairosVersion: "v4.3.0", bootState: "active_boot", k3sVersion: "v1.37.1+k3s1" });
    expect(await c.ssh(addr(2), "cat /etc/kairos-release")).toContain('KAIROS_VERSION="v4.3.0"');
    for (const n of names) await c.untilListed(n, "Ready", 10_000);
  }, 1_200_000);

  test("a no-op up after the upgrade changes nothing", async () => {
    const r = await c.up({ osImage: V430 });
    expect(changedSteps(r)).toEqual([]);
    expect(bootsNow()).toEqual([2, 2, 2]);
  }, 600_000);

  test("a k3s minor skip is refused at preview, naming the field and both versions; no node is touched", async () => {
    const e = await failingUp(SKIP);
    expect(e.message).toContain("osImage");
    expect(e.message).toMatch(/v1\.37.*v1\.39|skip/);
    expect(e.steps.filter((s) => s.op !== "same")).toEqual([]);
    expect(bootsNow()).toEqual([2, 2, 2]);
  }, 600_000);

  test("a node that stays NotReady stops the upgrade before any node is touched, after waiting for it; the error names it", async () => {
    const agent = c.of("Domain").find((e) => e.name === names[2])!;
    const calls = (await c.serverCalls()).length;
    await exec(["virsh", "-c", LOCAL.uri, "suspend", agent.id]);
    try {
      await c.untilListed(names[2], "NotReady", 60_000);
      const started = Date.now();
      const e = await failingUp(V440);
      expect(e.message).toContain(`node ${names[0]}: upgrade preflight failed: osImage: not upgrading to ${V440} while ${names[2]} (NotReady) is not Ready (waited 60 s)`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(60_000);
      expect(e.message).toContain(`kairos: ${names[0]}: waiting up to 60 s for ${names[2]} (NotReady) to be Ready`); // from the host's output
    } finally {
      await exec(["virsh", "-c", LOCAL.uri, "resume", agent.id]);
    }
    await c.untilListed(names[2], "Ready", 60_000);
    expect(bootsNow()).toEqual([2, 2, 2]);
    expect((await c.serverCalls()).slice(calls)).toEqual([]);
  }, 900_000);

  test("a failure on the second node stops the rollout: the first stays upgraded, the third untouched, the error names node, step and output", async () => {
    await c.ssh(addr(1), "touch /run/disk/os/fail-upgrade");
    const e = await failingUp(V440);
    expect(e.message).toContain(`node ${names[1]}: kairos-agent upgrade failed`);
    expect(e.message).toContain("failed to pull");
    expect(e.message).toContain("still runs its previous image");
    expect(bootsNow()).toEqual([3, 2, 2]);
    expect(runningImage(names[0])).toEqual({ image: V440, boot: "active_boot" });
    expect(runningImage(names[1])).toEqual({ image: V430, boot: "active_boot" });
    expect(runningImage(names[2])).toEqual({ image: V430, boot: "active_boot" });
    // The failed node is left cordoned for inspection; the third was never cordoned.
    await c.untilListed(names[1], "Ready,SchedulingDisabled", 10_000);
    await c.untilListed(names[2], "Ready", 10_000);
    // What the engine saved: the first node's step completed, the others keep their old entries.
    const applied = (n: string) => c.of("NodeConfig").find((x) => x.name === `${n}-config`)!.outputs.appliedOsImage;
    expect(names.map(applied)).toEqual([V440, V430, V430]);
  }, 900_000);

  test("a node that boots back into its previous image (A/B fallback) fails the rollout, reported as such", async () => {
    await c.ssh(addr(1), "rm -f /run/disk/os/fail-upgrade && touch /run/disk/os/fallback");
    const e = await failingUp(V440);
    expect(e.message).toContain(`node ${names[1]}: checking the new image failed`);
    expect(e.message).toContain("fell back to the previous image");
    expect(runningImage(names[1])).toEqual({ image: V430, boot: "passive_boot" });
    expect(bootsNow()).toEqual([3, 3, 2]);
    expect(runningImage(names[2])).toEqual({ image: V430, boot: "active_boot" });
  }, 900_000);

  test("once the cause is gone, the next up finishes the rollout; then nothing is left to do", async () => {
    await c.ssh(addr(1), "rm -f /run/disk/os/fallback");
    const r = await c.up({ osImage: V440 });
    expect(changedSteps(r)).toEqual([`update ${names[1]}-config`, `update ${names[2]}-config`]);
    for (const n of names) expect(runningImage(n)).toEqual({ image: V440, boot: "active_boot" });
    const os = await value(c.cluster.nodeOs);
    for (const n of names) expect(os[n]).toMatchObject({ kairosVersion: "v4.4.0", bootState: "active_boot", k3sVersion: "v1.37.2+k3s1" });
    for (const n of names) await c.untilListed(n, "Ready", 10_000);
    expect(changedSteps(await c.up({ osImage: V440 }))).toEqual([]);
  }, 1_200_000);
});
