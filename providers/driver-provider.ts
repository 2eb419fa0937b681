/**
 * The one way a dynamic resource reaches its driver: by package path.
 *
 * Pulumi keeps, with every dynamic resource's state, the text of its provider (`__provider`);
 * Pulumi's dynamic-provider host (a plain `node` process started in the program folder) loads that
 * text with `require-from-string` and calls its `handler()` for every later check, diff, update,
 * read and delete: possibly months later, from another checkout, with another version of this
 * package (@pulumi/pulumi cmd/dynamic-provider `getProvider`). So the text must hold no absolute
 * path and no code of ours beyond a forwarder:
 *
 *   require("pulumi-kairos/drivers/<family>")[<kind>].<method>(...)
 *
 * In the host, `require` resolves from the program folder's node_modules (`Module._nodeModulePaths`
 * of the working directory), where the program's own copy of this package lives. The subpath export
 * `./drivers/*` (package.json) maps to `dist/providers/<family>/impl.js`; this repository reaches
 * itself by name through its `pulumi-kairos: file:.` self-link, exactly as a user program does.
 *
 * The text is written here rather than produced by Pulumi's closure serializer
 * (`pulumi.dynamic.Resource`): it is then the same for every SDK version (a changed text makes every
 * resource's diff report a state rewrite, ./state-schema.ts), and registering a resource costs no
 * serialization at all (the serializer loads the TypeScript parser and a V8 inspector session:
 * bench `plan`). The resource is an ordinary CustomResource of the `pulumi-nodejs:dynamic/...` type,
 * which is all `pulumi.dynamic.Resource` registers.
 *
 * The contract between state and package is therefore: every later version keeps exporting
 * `drivers/<family>` with the same kinds and methods, and reads every earlier state schema.
 */
import * as pulumi from "@pulumi/pulumi";

/** Provider families: each is `providers/<family>/impl.ts`, exported as `pulumi-kairos/drivers/<family>`. */
export type DriverFamily = "libvirt" | "secrets" | "readiness" | "baremetal" | "media" | "image" | "lifecycle";

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
 * The provider text for one kind, as Pulumi keeps it in state: a CommonJS module whose `handler()`
 * returns the provider. Change it only with care: every resource's next diff sees the new text.
 */
export function providerText(family: DriverFamily, kind: string): string {
  const specifier = JSON.stringify(`pulumi-kairos/drivers/${family}`);
  const name = JSON.stringify(kind);
  return `"use strict";
// pulumi-kairos dynamic provider ${family}/${kind}: forwards to the driver, loaded by package path
// from the program folder's node_modules (pulumi-kairos providers/driver-provider.ts).
exports.handler = function () {
  function ops() {
    var mod;
    try {
      mod = require(${specifier});
    } catch (e) {
      var cause = String(e && e.message).split("\\n")[0];
      throw new Error("cannot load " + ${specifier} + " from " + process.cwd() + " (" + cause + "); install pulumi-kairos in the program folder (npm install pulumi-kairos), the version that wrote this state or later");
    }
    if (!mod[${name}]) throw new Error(${specifier} + " has no driver '" + ${name} + "'; this state was written by a newer pulumi-kairos: install that version or later");
    return mod[${name}];
  }
  return {
    check: function (olds, news) { return ops().check(olds, news); },
    diff: function (id, olds, news) { return ops().diff(id, olds, news); },
    create: function (inputs) { return ops().create(inputs); },
    read: function (id, props) { return ops().read(id, props); },
    update: function (id, olds, news) { return ops().update(id, olds, news); },
    delete: function (id, props) { return ops().delete(id, props); },
  };
};
`;
}

/** Which driver a resource class forwards to, and its type token `pulumi-nodejs:dynamic/<module>:<type>`. */
export interface DriverKind {
  family: DriverFamily;
  kind: string;
  module: string;
  type: string;
}

/**
 * A dynamic resource whose provider is {@link providerText}: what `pulumi.dynamic.Resource`
 * registers (the type token and the `__provider` property), without the closure serializer.
 */
export abstract class DriverResource extends pulumi.CustomResource {
  protected constructor(driver: DriverKind, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    if ("__provider" in props) throw new Error("A dynamic resource must not define the __provider key");
    super(`pulumi-nodejs:dynamic/${driver.module}:${driver.type}`, name, { ...props, __provider: providerText(driver.family, driver.kind) }, opts);
  }
}
