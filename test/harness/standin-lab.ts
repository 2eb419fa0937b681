/**
 * The lab every L3+ suite on stand-in guests sets up the same way: this run's id, a private scratch
 * folder (HOME and TMPDIR of the provider host), the stand-in guest's disk image and a storage pool
 * of its own. `useStandInLab` installs the Jest hooks; `beforeRemove` runs first in afterAll (what
 * the suite made in the pool goes before the pool).
 */
import { buildStandInGuest } from "../fixtures/standin-guest/build";
import { privateTempDir } from "./dynamic-provider-host";
import { LOCAL, createTestPool, ensureLibvirtd, runId, type TestPool } from "../providers/libvirt/env";

export interface StandInLab {
  /** This run's id: the prefix of every object the suite names. */
  readonly id: string;
  /** Private (0700) scratch folder, removed after the suite. */
  readonly scratch: string;
  /** The storage pool's name (after beforeAll). */
  readonly pool: string;
  /** The stand-in guest's disk image (after beforeAll). */
  readonly guestDisk: string;
}

export function useStandInLab(scratchPrefix: string, o: { beforeRemove?: () => Promise<void>; removeTimeoutMs?: number } = {}): StandInLab {
  const id = runId();
  const scratch = privateTempDir(scratchPrefix);
  let pool: TestPool | undefined;
  let guestDisk: string | undefined;
  beforeAll(async () => {
    await ensureLibvirtd();
    guestDisk = (await buildStandInGuest()).diskImage;
    pool = await createTestPool(LOCAL, `${id}-pool`);
  }, 300_000);
  afterAll(async () => {
    try {
      // The suite's own tests assert a clean destroy; here it is only what is left of a failed one.
      await o.beforeRemove?.().catch(() => undefined);
      await pool?.remove(); // fails the suite when volumes are left in it
    } finally {
      scratch.remove();
    }
  }, o.removeTimeoutMs ?? 600_000);
  const setUp = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the stand-in lab's ${what} is not set up (beforeAll failed)`);
    return v;
  };
  return {
    id,
    scratch: scratch.dir,
    get pool() { return setUp(pool, "pool").name; },
    get guestDisk() { return setUp(guestDisk, "guest disk"); },
  };
}
