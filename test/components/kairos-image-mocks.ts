/**
 * Mock monitor for KairosImage L1 tests: records each registration as the engine would receive it:
 * type, name, parent URN, dependencies and the raw wire object (so secretness is the wire's secret
 * signature, not a guess). Dynamic builds answer with plausible outputs.
 */
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Registration {
  type: string;
  name: string;
  parent: string;
  dependencies: string[];
  /** The wire object (secrets as `{ 4dabf18193072939515e22adb298388d: SECRET_SIG, value }`). */
  wire: Record<string, unknown>;
  inputs: Record<string, unknown>;
}

export const registrations: Registration[] = [];

export async function installMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type.startsWith("pulumi-nodejs:dynamic/kairos-image")) {
          Object.assign(state, {
            contentKey: "c".repeat(64),
            imageRef: "kairos-custom/ubuntu:tag",
            imageDigest: `sha256:${"d".repeat(64)}`,
            kairosVersion: (args.inputs.spec as { version: string }).version,
            dockerfile: "FROM x",
            artifacts: [{ kind: "qcow2", path: "/o/a.qcow2", size: 1, sha256: "e".repeat(64) }],
          });
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "pulumi-kairos",
    "test",
    false,
  );
  const mon = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => unknown };
  const orig = mon.registerResource.bind(mon);
  mon.registerResource = (req: any, cb: any) => {
    const wire = req.getObject()?.toJavaScript() ?? {};
    registrations.push({
      type: req.getType(), name: req.getName(), parent: req.getParent(), dependencies: req.getDependenciesList(), wire, inputs: wire,
    });
    return orig(req, cb);
  };
}

export const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));

/** Waits until a registration named `name` appears (bounded). */
export async function registration(name: string, timeoutMs = 10_000): Promise<Registration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = registrations.find((x) => x.name === name);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`no resource named ${name} registered within ${timeoutMs} ms; saw ${registrations.map((x) => x.name).join(", ")}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

export const isWireSecret = (v: unknown): boolean =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === SECRET_SIG;
