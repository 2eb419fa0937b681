/** L0: the commands of an upgrade over SSH, and reading back what the node runs afterwards. */
import {
  BOOT_STATE_COMMAND, K3S_VERSION_COMMAND, KAIROS_RELEASE_COMMAND, expectedRelease, parseBootState, parseK3sVersion,
  parseKairosImageRef, parseKairosRelease, releaseMismatch, upgradeCommand,
} from "../../../kairos/upgrade";

const HADRON = "quay.io/kairos/hadron:v0.5.1-standard-amd64-generic-v4.2.0-k3s-v1.36.3-k3s1";

/** A release file as kairos-init writes it (KEY="value", keys sorted). */
const RELEASE = `KAIROS_ARCH="amd64"
KAIROS_FAMILY="hadron"
KAIROS_FLAVOR="hadron"
KAIROS_FLAVOR_RELEASE="v0.5.1"
KAIROS_ID="kairos"
KAIROS_MODEL="generic"
KAIROS_NAME="kairos-standard-hadron-v0.5.1"
KAIROS_RELEASE="v4.2.0"
KAIROS_SOFTWARE_VERSION="v1.36.3+k3s1"
KAIROS_SOFTWARE_VERSION_PREFIX="k3s"
KAIROS_TRUSTED_BOOT="false"
KAIROS_VARIANT="standard"
KAIROS_VERSION="v4.2.0"
`;

describe("fixed commands", () => {
  test("reads the release file without root", () => expect(KAIROS_RELEASE_COMMAND).toBe("cat /etc/kairos-release"));
  test("asks kairos-agent for the boot state through sudo", () => expect(BOOT_STATE_COMMAND).toBe("sudo kairos-agent state get boot"));
  test("asks k3s for its version", () => expect(K3S_VERSION_COMMAND).toBe("k3s --version"));
});

describe("upgradeCommand", () => {
  test.each([
    [{ image: HADRON }, `sudo kairos-agent upgrade --source oci:${HADRON}`],
    [{ image: HADRON, recovery: false }, `sudo kairos-agent upgrade --source oci:${HADRON}`],
    [{ image: HADRON, recovery: true }, `sudo kairos-agent upgrade --source oci:${HADRON} --recovery`],
    [{ image: `quay.io/kairos/hadron@sha256:${"ab".repeat(32)}` }, `sudo kairos-agent upgrade --source oci:quay.io/kairos/hadron@sha256:${"ab".repeat(32)}`],
    [{ image: "localhost:5000/team/kairos:24.04" }, "sudo kairos-agent upgrade --source oci:localhost:5000/team/kairos:24.04"],
  ])("%j -> %s", (o, cmd) => {
    expect(upgradeCommand(o)).toBe(cmd);
  });

  test("refuses what is no OCI reference before it reaches a shell, naming it", () => {
    expect(() => upgradeCommand({ image: "quay.io/kairos/hadron:v1;reboot" })).toThrow(
      'image: "quay.io/kairos/hadron:v1;reboot" is not an OCI image reference: it does not follow the reference grammar',
    );
    expect(() => upgradeCommand({ image: `oci:${HADRON}` })).toThrow('it starts with the transport prefix "oci:"');
  });
});

describe("parseKairosRelease", () => {
  test("reads the file kairos-init writes", () => {
    const r = parseKairosRelease(RELEASE);
    expect(r.KAIROS_VERSION).toBe("v4.2.0");
    expect(r.KAIROS_SOFTWARE_VERSION).toBe("v1.36.3+k3s1");
    expect(r.KAIROS_SOFTWARE_VERSION_PREFIX).toBe("k3s");
    expect(Object.keys(r)).toHaveLength(13);
  });

  test.each([
    ['K="v"', "v"],
    ["K=v", "v"],
    ["K='a \"b\" $c'", 'a "b" $c'],
    ['K="a \\"b\\" \\$c \\\\ \\`d\\`"', 'a "b" $c \\ `d`'],
    ['K="keep \\n as is"', "keep \\n as is"],
    ['K=""', ""],
    ["K=", ""],
    ['export K="v"', "v"],
    ['  K="v"  # comment', "v"],
    ["K=v # comment", "v"],
    ['K="unterminated', "unterminated"],
  ])("reads %s as %j", (line, value) => {
    expect(parseKairosRelease(line)).toEqual({ K: value });
  });

  test("skips blanks, comments and non-assignments; CRLF is fine; the last assignment wins", () => {
    expect(parseKairosRelease('# header\r\n\r\nnot an assignment\r\nA="1"\r\nB=2\r\nA="3"\r\n')).toEqual({ A: "3", B: "2" });
  });

  test("reads nothing from no file", () => {
    expect(parseKairosRelease("")).toEqual({});
    expect(parseKairosRelease("cat: /etc/kairos-release: No such file or directory\n")).toEqual({});
  });
});

describe("expectedRelease and releaseMismatch", () => {
  test("an image tag promises the Kairos and Kubernetes versions", () => {
    expect(expectedRelease(parseKairosImageRef(HADRON))).toEqual({ KAIROS_VERSION: "v4.2.0", KAIROS_SOFTWARE_VERSION: "v1.36.3+k3s1" });
    expect(expectedRelease(parseKairosImageRef("quay.io/kairos/hadron:v0.5.1-core-amd64-generic-v4.2.0"))).toEqual({ KAIROS_VERSION: "v4.2.0" });
  });

  test("an unreadable reference promises nothing, so nothing mismatches", () => {
    const e = expectedRelease(parseKairosImageRef("registry.local/my-os:1.2"));
    expect(e).toEqual({});
    expect(releaseMismatch(e, {})).toBeUndefined();
  });

  test("a node running the image matches", () => {
    expect(releaseMismatch(expectedRelease(parseKairosImageRef(HADRON)), parseKairosRelease(RELEASE))).toBeUndefined();
  });

  test("the tag spelling of the k3s version (- for +) matches the release file's", () => {
    expect(releaseMismatch({ KAIROS_SOFTWARE_VERSION: "v1.36.3+k3s1" }, { KAIROS_SOFTWARE_VERSION: "v1.36.3-k3s1" })).toBeUndefined();
  });

  test("a node still on the old image (GRUB fell back) says what differs, with exact text", () => {
    const old = parseKairosRelease(RELEASE.replace(/v4\.2\.0/g, "v4.1.2").replace("v1.36.3+k3s1", "v1.35.2+k3s1"));
    expect(releaseMismatch(expectedRelease(parseKairosImageRef(HADRON)), old)).toBe(
      '/etc/kairos-release: KAIROS_VERSION is "v4.1.2", expected "v4.2.0"; KAIROS_SOFTWARE_VERSION is "v1.35.2+k3s1", expected "v1.36.3+k3s1"',
    );
  });

  test("a missing key is a mismatch", () => {
    expect(releaseMismatch({ KAIROS_VERSION: "v4.2.0", KAIROS_SOFTWARE_VERSION: "v1.36.3+k3s1" }, { KAIROS_VERSION: "v4.2.0" })).toBe(
      '/etc/kairos-release: KAIROS_SOFTWARE_VERSION is absent, expected "v1.36.3+k3s1"',
    );
  });

  test("another k3s build of the same version is a mismatch", () => {
    expect(releaseMismatch({ KAIROS_SOFTWARE_VERSION: "v1.36.3+k3s2" }, { KAIROS_SOFTWARE_VERSION: "v1.36.3+k3s1" })).toBe(
      '/etc/kairos-release: KAIROS_SOFTWARE_VERSION is "v1.36.3+k3s1", expected "v1.36.3+k3s2"',
    );
  });
});

describe("parseK3sVersion", () => {
  test.each([
    ["k3s version v1.32.4+k3s1 (c3d4e5f6)\ngo version go1.23.6\n", "v1.32.4+k3s1"],
    ["k3s version v1.36.3+k3s1 (0123abcd)\r\ngo version go1.25.1\r\n", "v1.36.3+k3s1"],
    ["\nk3s version v1.33.0-rc1+k3s1 (deadbeef)\n", "v1.33.0-rc1+k3s1"],
    ["k3s version v1.31.1+k3s1", "v1.31.1+k3s1"],
  ])("reads %j", (stdout, version) => {
    expect(parseK3sVersion(stdout)).toBe(version);
  });

  test.each([[""], ["sh: k3s: not found\n"], ["go version go1.23.6\nk3s version v1.32.4+k3s1 (x)\n"], ["k3s version v1.32.4 (x)\n"]])("reads nothing from %j", (stdout) => {
    expect(parseK3sVersion(stdout)).toBeUndefined();
  });
});

describe("parseBootState", () => {
  test.each([
    ["active_boot\n", "active_boot"],
    ["passive_boot\n", "passive_boot"],
    ["  recovery_boot  ", "recovery_boot"],
    ["livecd_boot", "livecd_boot"],
    ["autoreset_boot", "autoreset_boot"],
    ["unknown\n", "unknown"],
  ])("reads %j", (stdout, state) => {
    expect(parseBootState(stdout)).toBe(state);
  });

  test.each([[""], ["active"], ["sudo: kairos-agent: command not found\n"]])("reads nothing from %j", (stdout) => {
    expect(parseBootState(stdout)).toBeUndefined();
  });
});
