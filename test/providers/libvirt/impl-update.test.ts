/** L0: a domain redefinition (vCPUs, memory) keeps the create-time owner stamps; the driver is a stand-in. */
jest.mock("../../../providers/libvirt/driver");
import * as d from "../../../providers/libvirt/driver";
import { domain } from "../../../providers/libvirt/impl";
import { stamp } from "../../../providers/state-schema";

const driver = d as jest.Mocked<typeof d>;

test("a redefinition for new vCPUs stamps the old createdAt, expiresAt and statePath again, and keeps them in state whatever the new inputs say", async () => {
  driver.readDomain.mockResolvedValue({ name: "vm", state: "running", uuid: "0d7e2f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f" });
  driver.serialLogPath.mockImplementation((n: string) => `/var/log/libvirt/qemu/${n}-serial.log`);
  const mark = { createdAt: "2026-12-02T11:00:00.000Z", expiresAt: "2026-12-02T13:00:00Z", statePath: "/tmp/state", stateHost: "build-7" };
  const olds = stamp({
    uri: "qemu:///system", stack: "dev", cluster: "c1", node: "n", name: "vm", uuid: "0d7e2f3c-1b2a-4c5d-8e9f-0a1b2c3d4e5f", resolvedDomainType: "qemu",
    firmware: "bios", vcpus: 1, memoryMiB: 256, pool: "p", diskVolume: "d", network: "net", ...mark,
  });
  const r = await domain.update("vm", olds, { ...olds, vcpus: 2, expiresAt: "2027-01-01T00:00:00Z", statePath: "/elsewhere" });
  expect(driver.redefineDomain).toHaveBeenCalledTimes(1);
  expect(driver.redefineDomain.mock.calls[0][1].owner).toEqual({ stack: "dev", cluster: "c1", node: "n", ...mark });
  expect(r.outs).toMatchObject({ vcpus: 2, ...mark });
});
