/**
 * One loader for every dynamic provider's driver.
 *
 * Pulumi serializes a dynamic provider object, with what its methods capture, into the `__provider`
 * text that its dynamic-provider host (a fresh, plain `node` process) loads with require-from-string.
 * So the methods `require()` their driver inside their bodies, by an absolute path computed at module
 * load and captured as a string: a relative `require` would resolve from the host, and a captured
 * module object would be serialized by value (@pulumi/pulumi runtime/closure/createClosure.js
 * `captureModuleAsync`: local modules are serialized by value). This function itself is captured by
 * value too (it is a local module's export), which is why it touches nothing outside its body but
 * `require`, which the serializer leaves as is (runtime/closure/parseFunction.js: `require` is never
 * captured).
 *
 * From source (`.ts`: this repo's own `pulumi up`, the L3 tests) the host has no TypeScript loader, so
 * ts-node is registered first (transpile-only, resolved from the driver's folder); from the built
 * package (`.js`) it is a plain require. Under jest (whose `require.extensions` is an empty object)
 * nothing is registered: jest compiles `.ts` itself.
 */

/**
 * Loads a driver module in whatever process runs the provider.
 * @param absolutePathWithoutExt absolute path of the module without its extension, e.g.
 *   `path.join(__dirname, "driver")`; `.js` wins over `.ts` when both exist.
 * @returns the module's exports (Node's module cache makes later calls cheap).
 */
export function loadDriverModule<T>(absolutePathWithoutExt: string): T {
  const fs = require("fs") as typeof import("fs");
  const pathMod = require("path") as typeof import("path");
  if (!pathMod.isAbsolute(absolutePathWithoutExt)) {
    throw new Error(`loadDriverModule: "${absolutePathWithoutExt}" is not valid; expected an absolute module path (e.g. path.join(__dirname, "driver"))`);
  }
  const exts = require.extensions as Record<string, unknown> | undefined;
  // Plain node knows ".js"; jest's require has no handlers; a registered ts-node knows ".ts".
  const needsTsLoader = exts !== undefined && exts[".js"] !== undefined && exts[".ts"] === undefined;
  if (needsTsLoader && !fs.existsSync(`${absolutePathWithoutExt}.js`) && fs.existsSync(`${absolutePathWithoutExt}.ts`)) {
    const dir = pathMod.dirname(absolutePathWithoutExt);
    const tsNode = require(require.resolve("ts-node", { paths: [dir] })) as typeof import("ts-node");
    tsNode.register({ transpileOnly: true, dir });
  }
  return require(absolutePathWithoutExt) as T;
}
