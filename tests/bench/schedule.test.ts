import { expect, test } from "bun:test";
import { scheduleShare } from "../../bench/schedule.ts";

test("on time is over the probes that should have run: skipped and never-started ones count against it", () => {
  // 10,000 targets at 1 s for 40 s: 400,000 due. 396,000 finished, all on time; 3,000 skipped; 1,000 never started.
  const share = scheduleShare({ targets: 10_000, windowMs: 40_000, intervalMs: 1000, finished: 396_000, onTime: 396_000, skipped: 3000 });
  expect(share).toEqual({ scheduled: 400_000, missing: 1000, onTimePct: 99, finishedPct: 99 });
});

test("a window a little longer than the finished count needs rounds to the probes due", () => {
  const share = scheduleShare({ targets: 1000, windowMs: 5034.2, intervalMs: 1000, finished: 5040, onTime: 5040, skipped: 0 });
  expect(share.scheduled).toBe(5034);
  expect(share.missing).toBe(0);
  expect(share.onTimePct).toBe(100);
});

test("an empty window or interval is refused", () => {
  expect(() => scheduleShare({ targets: 1, windowMs: 0, intervalMs: 1000, finished: 0, onTime: 0, skipped: 0 })).toThrow(RangeError);
  expect(() => scheduleShare({ targets: 1, windowMs: 10, intervalMs: 0, finished: 0, onTime: 0, skipped: 0 })).toThrow(RangeError);
});
