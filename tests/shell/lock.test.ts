import { describe, expect, test } from "bun:test";
import { describeLock, formatLock, judgeLock, parseLock } from "../../src/shell/lock.ts";

const me = { host: "lb-a", pid: 100 };
const record = (pid: number, host = "lb-a") => formatLock({ user: "alice", host, pid, since: "2026-12-03T09:00:00.000Z", tool: "shell" });

describe("configuration lock rules", () => {
  test("free, mine, held by a live process, held on another host", () => {
    expect(judgeLock(undefined, me, () => true)).toEqual({ state: "free" });
    expect(judgeLock(record(100), me, () => true).state).toBe("mine");
    expect(judgeLock(record(200), me, (pid) => pid === 200).state).toBe("held");
    // Another host's pid cannot be checked from here: held, whatever runs locally under that number.
    expect(judgeLock(record(200, "lb-b"), me, () => false).state).toBe("held");
  });

  test("stale: a dead pid on this host, or a file that holds no record", () => {
    expect(judgeLock(record(200), me, () => false)).toMatchObject({ state: "stale", reason: "process 200 no longer runs on lb-a" });
    expect(judgeLock("garbage", me, () => true)).toMatchObject({ state: "stale", info: undefined });
    expect(judgeLock(record(0), me, () => true).state).toBe("stale");
  });

  test("round trip and the sentence for the operator", () => {
    expect(parseLock(record(5))).toEqual({ user: "alice", host: "lb-a", pid: 5, since: "2026-12-03T09:00:00.000Z", tool: "shell" });
    expect(parseLock('{"user":"a"}')).toBeUndefined();
    expect(describeLock(parseLock(record(5))!, new Date("2026-12-03T09:05:30Z"))).toBe(
      "configuration locked by alice@lb-a (pid 5, lbctl shell) since 2026-12-03T09:00:00.000Z, 5m30s ago",
    );
  });
});
