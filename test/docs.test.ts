/**
 * Every pointer to the project's own docs resolves: a `docs/<file>.md` named in code, tests, the
 * README or generated text exists in the repository, and a cited section (`§3.4`) is a heading of
 * that file. (Comments used to cite files that were never in the repository.)
 */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";

const ROOT = path.resolve(__dirname, "..");
const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n")
  .filter((f) => /\.(ts|js|md|sh|yaml|Dockerfile)$|\/init$|\/kairos-agent$/.test(f) && fs.existsSync(path.join(ROOT, f)));
const CITATION = /docs\/([a-z0-9-]+\.md)(?: §([0-9]+(?:\.[0-9]+)?))?/g;

describe("citations of docs/", () => {
  const citations: Array<{ from: string; file: string; section?: string }> = [];
  for (const f of tracked) {
    for (const m of fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(CITATION)) citations.push({ from: f, file: m[1], section: m[2] });
  }

  test("there are citations to check", () => {
    expect(citations.length).toBeGreaterThan(50);
  });

  test("every cited file is in the repository and every cited section is one of its headings", () => {
    const broken = citations.filter(({ file, section }) => {
      const p = path.join(ROOT, "docs", file);
      if (!fs.existsSync(p)) return true;
      if (!section) return false;
      return !new RegExp(`^#{2,3} ${section.replace(".", "\\.")}\\.? `, "m").test(fs.readFileSync(p, "utf8"));
    }).map((c) => `${c.from}: docs/${c.file}${c.section ? ` §${c.section}` : ""}`);
    expect([...new Set(broken)]).toEqual([]);
  });
});
