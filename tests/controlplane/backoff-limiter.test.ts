import { expect, test } from "bun:test";
import { backoffDelayMs } from "../../src/controlplane/backoff.ts";
import { SlidingWindowLimiter } from "../../src/controlplane/rate-limiter.ts";

test("backoff doubles up to the cap, jittered within [cap/2, cap]", () => {
  const policy = { baseMs: 100, maxMs: 1000 };
  expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
  expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
  expect(backoffDelayMs(10_000, policy, () => 0.5)).toBe(750);
});

test("the limiter admits `limit` events per sliding window per key, on the injected clock", () => {
  const limiter = new SlidingWindowLimiter(3, 60_000);
  expect([0, 1, 2, 3].map((t) => limiter.allow("a", t))).toEqual([true, true, true, false]);
  expect(limiter.allow("b", 3)).toBe(true); // keys are independent
  expect(limiter.allow("a", 59_999)).toBe(false);
  expect(limiter.allow("a", 60_000)).toBe(true); // the event at 0 left the window
  expect(limiter.allow("a", 60_001)).toBe(true);
  expect(limiter.allow("a", 60_002)).toBe(true);
  expect(limiter.allow("a", 60_003)).toBe(false);
  limiter.prune(200_000);
  expect(limiter.size).toBe(0);
});
