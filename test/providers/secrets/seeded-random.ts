/** Test helper shared by the secrets tests. */
import { createHash } from "crypto";

/** A deterministic byte source: SHA-256 in counter mode over a label. */
export function seededRandom(label: string): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const chunks: Buffer[] = [];
    let len = 0;
    while (len < n) {
      const c = createHash("sha256").update(`${label}:${counter++}`).digest();
      chunks.push(c);
      len += c.length;
    }
    return Buffer.concat(chunks).subarray(0, n);
  };
}
