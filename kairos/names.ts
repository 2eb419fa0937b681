/**
 * Physical names for everything the project creates outside Pulumi (libvirt domains, volumes,
 * networks, files). Same inputs, same name, every run.
 *
 * Rule: parts are lower-cased, anything outside [a-z0-9-] becomes "-", runs of "-" collapse, parts
 * are joined with "-", then "-" and an 8-hex-char hash of the *unabridged* parts is appended. When the
 * result would exceed `maxLength` (default 63, a DNS label), the *first* parts are trimmed, since the
 * last ones (cluster, node) carry the meaning. The hash keeps trimmed names unique.
 */
import { createHash } from "crypto";

export function physicalName(parts: readonly string[], maxLength = 63): string {
  if (parts.length === 0) throw new Error("physicalName: no parts");
  const hash = createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 8);
  const clean = parts
    .map((p) => p.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, ""))
    .filter((p) => p.length > 0);
  const budget = maxLength - hash.length - 1;
  if (budget < 1) throw new Error(`physicalName: maxLength ${maxLength} leaves no room for a name`);
  let body = clean.join("-");
  if (body.length > budget) body = body.slice(body.length - budget).replace(/^-+/, "");
  return body ? `${body}-${hash}` : hash;
}

/** Namespace of the metadata element/labels stamped on every libvirt object, for sweeping leftovers. */
export const METADATA_NAMESPACE = "https://github.com/pulumi-kairos/pulumi-kairos/1";
