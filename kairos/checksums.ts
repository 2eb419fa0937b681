/**
 * Reads the digest of one file out of a `sha256sum`-style checksum file, as Kairos releases publish
 * next to each ISO (`<iso>.sha256`). The published line names the path the release job hashed, e.g.
 * `<hex>  artifacts/kairos-hadron-…iso`, so names are compared by their last path segment; a leading
 * `*` marks binary mode. A file naming only other artifacts is an error, never a silent first match.
 */
export function parseSha256Sums(text: string, fileName: string): string {
  const want = baseName(fileName);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (lines.length === 1 && /^[0-9a-fA-F]{64}$/.test(lines[0])) return lines[0].toLowerCase(); // digest alone
  const named: string[] = [];
  for (const line of lines) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (!m) continue;
    named.push(baseName(m[2]));
    if (baseName(m[2]) === want) return m[1].toLowerCase();
  }
  if (named.length === 0) throw new Error(`checksum file has no "<sha256>  <name>" line; expected the sha256sum output for ${want}`);
  throw new Error(`checksum file names ${named.join(", ")} but not ${want}; refusing to verify ${want} against another file's digest`);
}

function baseName(p: string): string {
  const last = p.trim().split("/").pop() ?? p;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
