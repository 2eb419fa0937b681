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
