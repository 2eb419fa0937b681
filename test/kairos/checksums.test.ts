import { parseSha256Sums } from "../../kairos/checksums";

const D = "2d126227e6297682231984bfa0ee8d5084a621967f3c5afe8edeea77fcc46c3f";
const ISO = "kairos-hadron-v0.5.1-standard-amd64-generic-v4.3.0-k3sv1.36.4+k3s1.iso";

describe("parseSha256Sums", () => {
  test.each([
    ["as Kairos releases publish it (artifacts/ prefix)", `${D}  artifacts/${ISO}\n`],
    ["bare name", `${D}  ${ISO}`],
    ["binary-mode marker", `${D} *${ISO}\n`],
    ["upper-case digest", `${D.toUpperCase()}  artifacts/${ISO}\n`],
    ["digest alone", `${D}\n`],
    ["several files", `${"a".repeat(64)}  artifacts/other.iso\n${D}  artifacts/${ISO}\n`],
    ["CRLF", `${D}  artifacts/${ISO}\r\n`],
  ])("reads the digest: %s", (_what, text) => {
    expect(parseSha256Sums(text, `/kairos-io/kairos/releases/download/v4.3.0/${encodeURIComponent(ISO)}`)).toBe(D);
  });

  test("refuses another file's digest, naming both", () => {
    expect(() => parseSha256Sums(`${D}  artifacts/other.iso\n`, ISO)).toThrow(
      `checksum file names other.iso but not ${ISO}; refusing to verify ${ISO} against another file's digest`,
    );
  });

  test.each([[""], ["404: Not Found\n"], ["<html>nope</html>"], [`${D.slice(0, 10)}  ${ISO}`]])("refuses a body that is no checksum file: %j", (text) => {
    expect(() => parseSha256Sums(text, ISO)).toThrow(`checksum file has no "<sha256>  <name>" line; expected the sha256sum output for ${ISO}`);
  });
});
