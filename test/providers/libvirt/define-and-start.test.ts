/**
 * L2: `defineAndStart` (providers/libvirt/virsh.ts), behind createNetwork and createDomain, against the
 * real libvirtd: an existing object is refused by name, and a start that fails removes the fresh
 * definition again and rethrows virsh's own error. Shown with networks (cheap to define and start).
 */
import { createNetwork, readNetwork, deleteNetwork } from "../../../providers/libvirt/driver";
import { LOCAL, createTestNetwork, ensureLibvirtd, runId } from "./env";

const id = runId();
const first = `${id}-das-a`;
const clash = `${id}-das-b`;
let cidr = "";

beforeAll(async () => {
  await ensureLibvirtd();
  cidr = (await createTestNetwork(LOCAL, first)).cidr;
}, 120_000);
afterAll(async () => {
  for (const n of [clash, first]) await deleteNetwork(LOCAL, n).catch(() => undefined);
  expect(await readNetwork(LOCAL, first)).toBeUndefined();
  expect(await readNetwork(LOCAL, clash)).toBeUndefined();
}, 120_000);

describe("defineAndStart through createNetwork", () => {
  test("an existing network is refused, naming it, the connection and the way out", async () => {
    await expect(createNetwork(LOCAL, { name: first, mode: "isolated", cidr, owner: { stack: "test", cluster: first } })).rejects.toThrow(
      `network '${first}' already exists on qemu:///system; delete it or choose another name`,
    );
    expect((await readNetwork(LOCAL, first))?.active).toBe(true);
  }, 120_000);

  test("a failed net-start (same subnet as an active network) leaves no definition behind and rethrows virsh's error", async () => {
    await expect(createNetwork(LOCAL, { name: clash, mode: "isolated", cidr, owner: { stack: "test", cluster: clash } })).rejects.toThrow(
      new RegExp(`^failed with exit code 1: virsh -q -c qemu:///system net-start ${clash}`),
    );
    expect(await readNetwork(LOCAL, clash)).toBeUndefined();
  }, 120_000);
});
