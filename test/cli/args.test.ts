/** L0: the CLI's argument parsing: every command into its typed form, every bad argument into one line naming the option and value. */
import { COMMANDS, UsageError, parseCommand, usage } from "../../cli/args";
import { parseDuration } from "../../testing/duration";

const parse = (...argv: string[]) => parseCommand(argv, parseDuration);
const usageError = (argv: string[]): string => {
  try {
    parse(...argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
};

describe("every command parses", () => {
  test("up with only --image takes the documented defaults", () => {
    expect(parse("up", "--image", "kairos.qcow2")).toEqual({
      kind: "up", image: { kind: "disk", path: "kairos.qcow2" }, servers: 1, agents: 0, ttlSeconds: 7200, uri: "qemu:///system", pool: "default",
      networkPool: "10.213.0.0/16", vcpus: 2, memoryMiB: 4096, diskGiB: 40, domainType: "auto", json: false,
    });
  });

  test("up with every option", () => {
    expect(parse("up", "--image=/i/kairos.iso", "--servers", "3", "--agents", "2", "--name", "ci-42", "--ttl", "1h30m", "--uri", "qemu+ssh://root@h/system",
      "--pool", "fast", "--network-pool", "10.9.0.0/16", "--vcpus", "4", "--memory", "8192", "--disk", "60", "--domain-type", "qemu", "--json")).toEqual({
      kind: "up", image: { kind: "iso", path: "/i/kairos.iso" }, servers: 3, agents: 2, name: "ci-42", ttlSeconds: 5400, uri: "qemu+ssh://root@h/system",
      pool: "fast", networkPool: "10.9.0.0/16", vcpus: 4, memoryMiB: 8192, diskGiB: 60, domainType: "qemu", json: true,
    });
  });

  test("an image URL takes its checksum, and --image-kind overrides the guess from the extension", () => {
    const sha = "a".repeat(64);
    expect(parse("up", "--image", "https://x/k.iso", "--image-sha256", sha)).toMatchObject({ image: { kind: "iso", url: "https://x/k.iso", sha256: sha } });
    expect(parse("up", "--image", "https://x/k.raw", "--image-checksum-url", "https://x/sums", "--image-kind", "disk"))
      .toMatchObject({ image: { kind: "disk", url: "https://x/k.raw", checksumUrl: "https://x/sums" } });
    expect(parse("up", "--image", "k.img", "--image-kind", "iso")).toMatchObject({ image: { kind: "iso", path: "k.img" } });
  });

  test.each([
    [["list"], { kind: "list", json: false }],
    [["list", "--json"], { kind: "list", json: true }],
    [["kubeconfig", "c1"], { kind: "kubeconfig", name: "c1" }],
    [["down", "c1"], { kind: "down", name: "c1" }],
    [["reap"], { kind: "reap", dryRun: false, json: false }],
    [["reap", "--uri", "qemu:///session", "--dry-run", "--older-than", "2h", "--json"], { kind: "reap", uri: "qemu:///session", dryRun: true, olderThanSeconds: 7200, json: true }],
    [[], { kind: "help" }],
    [["help"], { kind: "help" }],
    [["--help"], { kind: "help" }],
    [["-h"], { kind: "help" }],
    [["up", "--help"], { kind: "help" }],
    [["--version"], { kind: "version" }],
  ])("%j", (argv, expected) => {
    expect(parse(...argv)).toEqual(expected);
  });
});

describe("bad arguments are one line naming the option, the value and what is accepted", () => {
  test.each([
    [["deploy"], /^unknown command "deploy"; expected one of up, list, kubeconfig, down, reap$/],
    [["--bogus"], /^unknown option --bogus; expected a command first/],
    [["up", "--image", "k.qcow2", "--bogus"], /^unknown option --bogus for up; accepted: --image, --image-kind, .*--json$/],
    [["list", "--all"], /^unknown option --all for list; accepted: --json$/],
    [["kubeconfig", "c1", "--json"], /^unknown option --json for kubeconfig; accepted: no options$/],
    [["up"], /^up needs --image <path\|url>/],
    [["up", "--image"], /^--image needs a value: <path\|url>$/],
    [["up", "--image", "--json"], /^--image needs a value: <path\|url>$/],
    [["up", "--image", "k", "--servers", "two"], /^--servers "two" is not accepted; expected a whole number from 1 to 99$/],
    [["up", "--image", "k", "--servers", "1.5"], /^--servers "1.5" is not accepted; expected a whole number/],
    [["up", "--image", "k", "--servers", "0"], /^--servers "0" is not accepted; expected a whole number from 1 to 99$/],
    [["up", "--image", "k", "--agents", "-1"], /^--agents "-1" is not accepted; expected a whole number from 0 to 99$/],
    [["up", "--image", "k", "--memory", "64"], /^--memory "64" is not accepted; expected a whole number from 128/],
    [["up", "--image", "k", "--ttl", "soon"], /^--ttl "soon" is not a duration; expected a positive number with a unit, e.g. 90s, 30m, 2h or 1d$/],
    [["up", "--image", "k", "--ttl", "0s"], /^--ttl "0s" is not a duration/],
    [["reap", "--older-than", "2 hours"], /^--older-than "2 hours" is not a duration/],
    [["up", "--image", "k", "--name", "My_Cluster"], /^--name "My_Cluster" is not a valid cluster name; expected a DNS label: lower-case letters, digits and '-'.*at most 40 characters$/],
    [["up", "--image", "k", "--name", "a".repeat(41)], /^--name "a{41}" is not a valid cluster name/],
    [["down", "-x-"], /^unknown option -x- for down; accepted: no options$/],
    [["down", "Bad"], /^<name> "Bad" is not a valid cluster name/],
    [["down"], /^down takes exactly one cluster name; got none$/],
    [["kubeconfig", "a", "b"], /^kubeconfig takes exactly one cluster name; got "a" "b"$/],
    [["list", "extra"], /^list takes no arguments besides options; got "extra"$/],
    [["up", "--image", "k", "--domain-type", "xen"], /^--domain-type "xen" is not accepted; expected auto or kvm or qemu$/],
    [["up", "--image", "k", "--image-kind", "vmdk"], /^--image-kind "vmdk" is not accepted; expected disk or iso$/],
    [["up", "--image", "k", "--uri", "localhost"], /^--uri "localhost" is not a libvirt URI/],
    [["up", "--image", "k", "--network-pool", "10.0.0.0/28"], /^--network-pool "10.0.0.0\/28" is not accepted; expected an IPv4 subnet from \/8 to \/24/],
    [["up", "--image", "k", "--network-pool", "10.213.0.1/16"], /^--network-pool "10.213.0.1\/16" is not accepted; expected an IPv4 subnet from \/8 to \/24/],
    [["up", "--image", "https://x/k.iso"], /^--image "https:\/\/x\/k.iso" is a URL; give exactly one of --image-sha256 <hex> and --image-checksum-url <url>$/],
    [["up", "--image", "k", "--image-sha256", "ab"], /^--image-sha256 applies only to an --image URL/],
    [["up", "--image", "https://x/k", "--image-sha256", "xyz"], /^--image-sha256 "xyz" is not accepted; expected 64 hex digits$/],
    [["list", "--json=yes"], /^--json takes no value; got "yes"$/],
    [["up", "--image", "a", "--image", "b"], /^--image is given twice; give it once$/],
  ])("%j", (argv, message) => {
    const m = usageError(argv);
    expect(m).toMatch(message);
    expect(m.split("\n")).toHaveLength(1);
  });
});

test("the help text lists every command and every option", () => {
  const text = usage();
  for (const [name, c] of Object.entries(COMMANDS)) {
    expect(text).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    for (const opt of Object.keys(c.options)) expect(text).toContain(`--${opt}`);
  }
  expect(text).toContain("--version");
});
