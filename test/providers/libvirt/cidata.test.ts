import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildCidataIso, genisoimageArgv, xorrisoArgv } from "../../../providers/cidata";
import { readIso, requireTool, tmpEntries } from "./tools";

describe("buildCidataIso (real xorriso)", () => {
  let out: string;
  beforeAll(() => {
    requireTool("xorriso");
    out = fs.mkdtempSync(path.join(os.tmpdir(), "cidata-test-"));
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test("argv builders label the volume cidata and read one directory", () => {
    expect(xorrisoArgv("/o.iso", "/d")).toEqual(["xorriso", "-as", "mkisofs", "-quiet", "-output", "/o.iso", "-volid", "cidata", "-joliet", "-rock", "/d"]);
    expect(genisoimageArgv("/o.iso", "/d")).toEqual(["genisoimage", "-quiet", "-output", "/o.iso", "-volid", "cidata", "-joliet", "-rock", "/d"]);
  });

  test("the ISO is labelled cidata, holds user-data and meta-data, is 0600, and no staging files remain", async () => {
    const before = tmpEntries("kairos-cidata-");
    const iso = path.join(out, "seed.iso");
    const userData = "#cloud-config\nusers:\n- name: kairos\n  passwd: s3cret\n";
    const size = await buildCidataIso(iso, { userData, instanceId: "node-1", hostname: "cp1" });
    expect(size).toBeGreaterThan(0);
    expect(fs.statSync(iso).mode & 0o777).toBe(0o600);
    const back = await readIso(iso, ["user-data", "meta-data"]);
    expect(back.volumeId).toBe("cidata");
    expect(back.files["user-data"]).toBe(userData);
    expect(back.files["meta-data"]).toBe("instance-id: node-1\nlocal-hostname: cp1\n");
    expect(tmpEntries("kairos-cidata-")).toEqual(before);
  });

  test("empty user-data is refused naming the field", async () => {
    await expect(buildCidataIso(path.join(out, "x.iso"), { userData: "" })).rejects.toThrow(
      "cidata.userData: empty is not valid; expected the rendered cloud-config text",
    );
    expect(fs.existsSync(path.join(out, "x.iso"))).toBe(false);
  });
});
