/** restartPollBounds: short connect bounds for polls of a restarting machine, raised by each stalled login. */
import { SshConnectTimeoutError, restartPollBounds } from "../../../providers/ssh";

const stall = (phase: "tcp" | "ssh") => new SshConnectTimeoutError("u@10.0.0.5:22", phase, 1);

test("starts short, is raised only by logins that stall, and stops at the wait's own bound", () => {
  const b = restartPollBounds(15_000);
  const seen = [b.next()];
  b.failed(stall("tcp")); // the machine is down: a fresh SYN next time, at the same bound
  seen.push(b.next());
  b.failed(new Error("cannot connect to u@10.0.0.5:22: ECONNREFUSED"));
  seen.push(b.next());
  for (let i = 0; i < 4; i++) {
    b.failed(stall("ssh")); // connected, no answer: maybe a slow machine, so the next login gets longer
    seen.push(b.next());
  }
  expect(seen.map((o) => o.connectTimeoutMs)).toEqual([5000, 5000, 5000, 10_000, 15_000, 15_000, 15_000]);
  expect(seen.every((o) => o.tcpConnectTimeoutMs === 3000)).toBe(true);
});

test("a wait bound below the first step is kept", () => {
  expect(restartPollBounds(2000).next()).toEqual({ tcpConnectTimeoutMs: 3000, connectTimeoutMs: 2000 });
});
