/**
 * The lab every L3+ suite on stand-in guests sets up the same way: this run's id, a private scratch
 * folder (HOME and TMPDIR of the provider host), the stand-in guest's disk image and a storage pool
 * of its own. `useStandInLab` installs the Jest hooks (`beforeRemove` runs first in afterAll: what
 * the suite made in the pool goes before the pool); `openStandInLab` is the same for benchmarks.
 */
import { buildStandInGuest } from "../fixtures/standin-guest/build";
import { privateTempDir } from "./dynamic-provider-host";
import { LOCAL, createTestPool, ensureLibvirtd, runId } from "../providers/libvirt/env";

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

/** An open lab; `close()` removes the pool (failing when volumes are left in it) and the scratch folder. */
export interface OpenStandInLab extends StandInLab {
  close(): Promise<void>;
}

/** Sets up a lab now (for benchmarks and scripts; Jest suites use useStandInLab). */
export function openStandInLab(id: string, scratchPrefix: string): Promise<OpenStandInLab> {
  return openIn(id, privateTempDir(scratchPrefix));
}

async function openIn(id: string, scratch: { dir: string; remove(): void }): Promise<OpenStandInLab> {
  try {
    await ensureLibvirtd();
    const guestDisk = (await buildStandInGuest()).diskImage;
    const pool = await createTestPool(LOCAL, `${id}-pool`);
    return {
      id, scratch: scratch.dir, pool: pool.name, guestDisk,
      async close() {
        try {
          await pool.remove();
        } finally {
          scratch.remove();
        }
      },
    };
  } catch (e) {
    scratch.remove();
    throw e;
  }
}

export function useStandInLab(scratchPrefix: string, o: { beforeRemove?: () => Promise<void>; removeTimeoutMs?: number } = {}): StandInLab {
  const id = runId();
  // Made now: suites name paths in it at load time.
  const scratch = privateTempDir(scratchPrefix);
  let lab: OpenStandInLab | undefined;
  beforeAll(async () => {
    lab = await openIn(id, scratch);
  }, 300_000);
  afterAll(async () => {
    try {
      // The suite's own tests assert a clean destroy; here it is only what is left of a failed one.
      await o.beforeRemove?.().catch(() => undefined);
      await lab?.close(); // fails the suite when volumes are left in the pool
    } finally {
      scratch.remove();
    }
  }, o.removeTimeoutMs ?? 600_000);
  const setUp = (): OpenStandInLab => {
    if (!lab) throw new Error("the stand-in lab is not set up (beforeAll failed)");
    return lab;
  };
  return {
    id,
    scratch: scratch.dir,
    get pool() { return setUp().pool; },
    get guestDisk() { return setUp().guestDisk; },
  };
}
