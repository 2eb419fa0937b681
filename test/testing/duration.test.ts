import { parseDuration } from "../../testing/duration";

describe("parseDuration", () => {
  test.each([["45s", 45], ["90m", 5400], ["2h", 7200], ["1d", 86400], [" 3h ", 10800], ["1h30m", 5400], ["1d2h", 93600]])("%s is %i seconds", (v, s) => {
    expect(parseDuration(v)).toBe(s);
  });

  test.each(["", "2", "2x", "1.5h", "-1h", "0m", "2 hours", "h", "1h 30m", "h1"])("%j is refused, naming the value and the accepted forms", (v) => {
    expect(() => parseDuration(v)).toThrow(`duration ${JSON.stringify(v)} is not valid; expected a whole number greater than 0 followed by s, m, h or d, or a sum of them (e.g. "45s", "90m", "2h", "1d", "1h30m")`);
  });
});
