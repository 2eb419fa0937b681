/**
 * Loads `impl.ts` inside a dynamic provider method, in whatever process runs the provider.
 *
 * Pulumi serializes each provider object with its captured variables into the `__provider` text
 * that its dynamic-provider host (a fresh, plain `node` process) loads with require-from-string.
 * A relative `require` would resolve from the host, so the path is absolute, computed here and
 * captured as a string. From source (`.ts`: this repo's own `pulumi up`, the L3 tests) the host has
 * no TypeScript loader, so ts-node is registered first; from the built package it is a plain require
 * (both done by `loadDriverModule`, ../load-driver.ts).
 */
import * as path from "path";
import { loadDriverModule } from "../load-driver";
import type * as Impl from "./impl";

const IMPL_MODULE = path.join(__dirname, "impl");

export function loadLibvirtImpl(): typeof Impl {
  return loadDriverModule<typeof Impl>(IMPL_MODULE);
}

export type LibvirtResourceKind = "baseImage" | "nodeDisk" | "cidata" | "network" | "domain";

/**
 * The dynamic provider object for one resource kind: every method loads `impl.ts` and delegates,
 * so the serialized text holds only these few lines, `loadLibvirtImpl`, `loadDriverModule`, `IMPL_MODULE`
 * and `kind`.
 */
export function libvirtProvider(kind: LibvirtResourceKind): import("@pulumi/pulumi").dynamic.ResourceProvider {
  return {
    check: (olds, news) => loadLibvirtImpl()[kind].check(olds, news),
    diff: (id, olds, news) => loadLibvirtImpl()[kind].diff(id, olds, news),
    create: (inputs) => loadLibvirtImpl()[kind].create(inputs),
    read: (id, props) => loadLibvirtImpl()[kind].read(id, props),
    update: (id, olds, news) => {
      const impl = loadLibvirtImpl().domain;
      if (kind !== "domain") throw new Error(`${kind}: every change replaces; update is never called`);
      return impl.update(id, olds, news);
    },
    delete: (id, props) => loadLibvirtImpl()[kind].delete(id, props),
  };
}
