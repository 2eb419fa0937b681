/**
 * A Jest test against a real, throwaway Kairos cluster: created before the test body runs, Ready
 * when it does, destroyed when the block ends (`await using`), whether the test passes or fails.
 * Needs the Pulumi CLI, libvirt on this machine, and a Kairos disk image in KAIROS_IMAGE.
 */
import { createEphemeralCluster } from "pulumi-kairos/testing";

const image = process.env.KAIROS_IMAGE ?? "/var/lib/kairos/kairos-ubuntu-24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1+k3s1.qcow2";

test("a Deployment becomes available on a 1+1 Kairos cluster", async () => {
  await using cluster = await createEphemeralCluster({
    image: { kind: "disk", path: image },
    target: { kind: "libvirt", memoryMiB: 4096 },
    servers: 1,
    agents: 1,
    log: (line) => console.error(line),
  });

  const nodes = await cluster.kubectl("get", "nodes", "-o", "name");
  expect(nodes.trim().split("\n")).toHaveLength(2);

  await cluster.kubectl("create", "deployment", "hello", "--image=registry.k8s.io/pause:3.10");
  await cluster.kubectl("rollout", "status", "deployment/hello", "--timeout=300s");
  // cluster.kubeconfigPath works with any other tool (helm, kubectl on this machine, a client library).
}, 45 * 60_000);
