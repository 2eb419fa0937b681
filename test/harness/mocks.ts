/** Helpers shared by the tests that run components under `pulumi.runtime.setMocks` (L1, L3+). */
import * as pulumi from "@pulumi/pulumi";

/** The resolved value of an Output (secret or not), as a promise. */
export const outputValue = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));

/**
 * Waits until no resource has been registered for 3 s (bounded: 60 s), then disconnects the mocks.
 * Providers of resources no test awaited may still be serializing; jest must not tear the module
 * registry down under them.
 */
export async function settleThenDisconnect(lastRegistration: () => number): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() - lastRegistration() < 3000 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  await pulumi.runtime.disconnect();
}

/**
 * Records, from the registration requests the mock monitor receives, each resource's dependencies
 * (names of the resources it depends on: `dependsOn` and the resources behind its input Outputs).
 * Call after `setMocks`; the mocks' own `newResource` is not given them.
 */
export function recordDependencies(): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: { getName(): string; getDependenciesList(): string[] }, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    deps.set(req.getName(), req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)));
    return original(req, cb);
  };
  return deps;
}
