/**
 * The one way a dynamic provider reaches its driver: by package path.
 *
 * Pulumi serializes a dynamic provider object, with what its methods capture, into the `__provider`
 * text kept in state; Pulumi's dynamic-provider host (a plain `node` process started in the program
 * folder) loads that text with `require-from-string` for every later check, diff, update, read and
 * delete, possibly months later, from another checkout, with another version of this package.
 * So the text must hold no absolute path and no module object, only:
 *
 *   require("pulumi-kairos/drivers/<family>")[<kind>].<method>(...)
 *
 * `require` is never captured by the serializer (@pulumi/pulumi runtime/closure/parseFunction.js
 * treats it as a module global) and in the host it resolves from the program folder's node_modules
 * (`Module._nodeModulePaths(cwd)`), where the program's own copy of this package lives. The subpath
 * export `./drivers/*` (package.json) maps to `dist/providers/<family>/impl.js`; this repository
 * reaches itself by name through its `pulumi-kairos: file:.` self-link, exactly as a user program does.
 *
 * The contract between state and package is therefore: every later version keeps exporting
 * `drivers/<family>` with the same kinds and methods, and reads every earlier state schema
 * (./state-schema.ts).
 *
 * One provider object per resource kind, made once at module load: @pulumi/pulumi serializes each
 * provider object once and reuses the text (dynamic/index.js `providerCache`, a WeakMap).
 */
import type * as pulumi from "@pulumi/pulumi";

/** Provider families: each is `providers/<family>/impl.ts`, exported as `pulumi-kairos/drivers/<family>`. */
export type DriverFamily = "libvirt" | "secrets" | "readiness" | "baremetal" | "media" | "image";

/** The methods every driver kind implements (plain values in, plain values out; no Pulumi import). */
export interface DriverOps {
  check(olds: Record<string, any>, news: Record<string, any>): Promise<{ inputs: Record<string, any>; failures: Array<{ property: string; reason: string }> }>;
  diff(id: string, olds: Record<string, any>, news: Record<string, any>): Promise<{ changes: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: Record<string, any>): Promise<{ id: string; outs: Record<string, any> }>;
  read(id: string, props: Record<string, any>): Promise<{ id: string; props: Record<string, any> }>;
  update(id: string, olds: Record<string, any>, news: Record<string, any>): Promise<{ outs: Record<string, any> }>;
  delete(id: string, props: Record<string, any>): Promise<void>;
}

/**
 * The provider object for one kind. What its methods capture (and so what Pulumi writes into state)
 * is the two strings and the `ops` arrow below, nothing else: keep it that way.
 */
export function driverProvider(family: DriverFamily, kind: string): pulumi.dynamic.ResourceProvider {
  const specifier = `pulumi-kairos/drivers/${family}`;
  const ops = (): DriverOps => {
    let mod: Record<string, DriverOps>;
    try {
      mod = require(specifier);
    } catch (e) {
      const cause = String((e as Error).message).split("\n")[0];
      throw new Error(`cannot load ${specifier} from ${process.cwd()} (${cause}); install pulumi-kairos in the program folder (npm install pulumi-kairos), the version that wrote this state or later`);
    }
    if (!mod[kind]) throw new Error(`${specifier} has no driver '${kind}'; this state was written by a newer pulumi-kairos: install that version or later`);
    return mod[kind];
  };
  return {
    check: (olds, news) => ops().check(olds, news),
    diff: (id, olds, news) => ops().diff(id, olds, news),
    create: (inputs) => ops().create(inputs),
    read: (id, props) => ops().read(id, props),
    update: (id, olds, news) => ops().update(id, olds, news),
    delete: (id, props) => ops().delete(id, props),
  };
}
