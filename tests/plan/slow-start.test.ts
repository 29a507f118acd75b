/** The slow-start ramp, pure, on an injected clock: linear from 1, held per reconcile step, full weight at the end. */

import { describe, expect, test } from "bun:test";
import { rampDone, rampRemainingSeconds, slowStartWeight } from "../../src/plan/slow-start.ts";

const ramp = { startedAt: 10_000 };
const weightAt = (ms: number, target = 11, duration = 10_000, step = 1000) => slowStartWeight(target, ramp, ramp.startedAt + ms, duration, step);

describe("slowStartWeight", () => {
  test("1 at the start, linear, the target at and after the end", () => {
    expect([0, 1000, 2000, 5000, 9000, 9999, 10_000, 60_000].map((ms) => weightAt(ms))).toEqual([1, 2, 3, 6, 10, 10, 11, 11]);
  });

  test("held for a whole step: one value per reconcile interval, so at most duration/step + 1 SET_DEST", () => {
    expect(weightAt(1999)).toBe(weightAt(1000));
    const values = new Set<number>();
    for (let ms = 0; ms <= 10_000; ms += 7) values.add(weightAt(ms));
    expect(values.size).toBeLessThanOrEqual(10_000 / 1000 + 1);
    // Never decreasing along the way.
    let last = 0;
    for (let ms = 0; ms <= 10_000; ms += 7) {
      expect(weightAt(ms)).toBeGreaterThanOrEqual(last);
      last = weightAt(ms);
    }
  });

  test("large weights over a long ramp move in bounded steps", () => {
    const steps = new Set<number>();
    for (let ms = 0; ms <= 60_000; ms += 100) steps.add(weightAt(ms, 1000, 60_000, 2000));
    expect(steps.size).toBe(31);
    expect(Math.min(...steps)).toBe(1);
    expect(Math.max(...steps)).toBe(1000);
  });

  test("nothing to ramp: targets 0 and 1, slow start off, a clock before the start", () => {
    expect(weightAt(0, 0)).toBe(0);
    expect(weightAt(0, 1)).toBe(1);
    expect(weightAt(0, 11, 0)).toBe(11);
    expect(slowStartWeight(11, ramp, 0, 10_000, 1000)).toBe(1);
  });

  test("done and remaining", () => {
    expect(rampDone(ramp, 19_999, 10_000)).toBe(false);
    expect(rampDone(ramp, 20_000, 10_000)).toBe(true);
    expect(rampRemainingSeconds(ramp, 12_500, 10_000)).toBe(8);
    expect(rampRemainingSeconds(ramp, 30_000, 10_000)).toBe(0);
  });
});
