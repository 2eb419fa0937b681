import { K3S_TOKEN_LENGTH, generateK3sToken, isValidK3sToken } from "../../../providers/secrets/k3s-token";
import { randomString } from "../../../providers/secrets/random";

describe("k3s token", () => {
  it("is generated as 48 characters of [a-z0-9] and passes its own validation", () => {
    for (let i = 0; i < 20; i++) {
      const t = generateK3sToken();
      expect(t).toMatch(/^[a-z0-9]{48}$/);
      expect(t.length).toBe(K3S_TOKEN_LENGTH);
      expect(isValidK3sToken(t)).toBe(true);
    }
  });

  it("differs between calls", () => {
    expect(new Set(Array.from({ length: 10 }, () => generateK3sToken())).size).toBe(10);
  });

  it.each([
    ["a bare password of 16 safe characters", "abcdefgh.1234_-X", true],
    ["a full K10 token", `K10${"a".repeat(64)}::server:${"p".repeat(32)}`, true],
    ["15 characters", "abcdefghijklmno", false],
    ["257 characters", "a".repeat(257), false],
    ["a space", "abcdefgh 12345678", false],
    ["a quote", 'abcdefgh"12345678', false],
    ["a bare value starting with K10 (k3s would parse it as a full token)", "K10abcdefghijklmnop", false],
    ["a K10 token with a short CA hash", `K10abc::server:${"p".repeat(32)}`, false],
  ])("accepts or refuses %s", (_what, token, ok) => {
    expect(isValidK3sToken(token)).toBe(ok);
  });
});

describe("randomString", () => {
  it("uses only the alphabet and rejects bytes that would bias it", () => {
    // 255 is above the largest multiple of 36 (252) and must be skipped, not folded.
    let calls = 0;
    const source = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (calls++ === 0 && i === 0 ? 255 : 1)));
    expect(randomString(4, "abcdefghijklmnopqrstuvwxyz0123456789", source)).toBe("bbbb");
  });

  it("fails instead of looping when the source yields no usable bytes", () => {
    expect(() => randomString(4, "abc", (n) => Buffer.alloc(n, 255))).toThrow(
      "randomString: the random source returned too few usable bytes (64 rounds); is it a real CSPRNG?");
  });
});
