/** Golden-file helper: compares with the stored file; UPDATE_GOLDEN=1 rewrites it. */
import * as fs from "fs";
import * as path from "path";

export function expectGolden(name: string, actual: string): void {
  const file = path.join(__dirname, "golden", name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}
