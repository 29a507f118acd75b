/** The health state machine: every state × result × threshold, and the weights that follow. */

import { describe, expect, test } from "bun:test";
import { INITIAL_HEALTH, step } from "../../src/health/state-machine.ts";
import type { HealthState, TargetHealth } from "../../src/health/types.ts";

const h = (state: HealthState, consecutiveSuccesses = 0, consecutiveFailures = 0): TargetHealth => ({ state, consecutiveSuccesses, consecutiveFailures });

describe("step: written-out cases", () => {
  // [from, ok, failAfter, recoverAfter, expected next, changed]
  const cases: Array<[TargetHealth, boolean, number, number, TargetHealth, boolean]> = [
    [h("unknown"), true, 3, 2, h("healthy", 1, 0), true],
    [h("unknown"), false, 3, 2, h("unhealthy", 0, 1), true],
    // UNKNOWN decides on the first answer whatever the thresholds
    [h("unknown"), false, 100, 100, h("unhealthy", 0, 1), true],
    [h("unknown"), true, 100, 100, h("healthy", 1, 0), true],
    [h("healthy", 5, 0), true, 3, 2, h("healthy", 6, 0), false],
    [h("healthy", 5, 0), false, 3, 2, h("healthy", 0, 1), false],
    [h("healthy", 0, 1), false, 3, 2, h("healthy", 0, 2), false],
    [h("healthy", 0, 2), false, 3, 2, h("unhealthy", 0, 3), true],
    [h("healthy", 0, 2), true, 3, 2, h("healthy", 1, 0), false],
    [h("healthy", 3, 0), false, 1, 2, h("unhealthy", 0, 1), true],
    [h("unhealthy", 0, 4), false, 3, 2, h("unhealthy", 0, 5), false],
    [h("unhealthy", 0, 4), true, 3, 2, h("unhealthy", 1, 0), false],
    [h("unhealthy", 1, 0), true, 3, 2, h("healthy", 2, 0), true],
    [h("unhealthy", 1, 0), false, 3, 2, h("unhealthy", 0, 1), false],
    [h("unhealthy", 0, 1), true, 3, 1, h("healthy", 1, 0), true],
  ];
  test.each(cases)("%o ok=%p fail_after=%p recover_after=%p", (from, ok, failAfter, recoverAfter, next, changed) => {
    expect(step(from, ok, { failAfter, recoverAfter })).toEqual({ next, changed });
  });
});

describe("step: all states × results × thresholds", () => {
  const states: HealthState[] = ["unknown", "healthy", "unhealthy"];
  const combos: Array<[HealthState, boolean, number, number, number]> = [];
  for (const state of states)
    for (const ok of [true, false])
      for (const failAfter of [1, 2, 3])
        for (const recoverAfter of [1, 2, 3])
          for (const streak of [0, 1, 2, 3]) combos.push([state, ok, failAfter, recoverAfter, streak]);

  test.each(combos)("%s ok=%p fail_after=%p recover_after=%p streak=%p", (state, ok, failAfter, recoverAfter, streak) => {
    // `streak` is the length of the current run of the same result as `ok`, the other counter being 0.
    const from = ok ? h(state, streak, 0) : h(state, 0, streak);
    const { next, changed } = step(from, ok, { failAfter, recoverAfter });
    expect(next.consecutiveSuccesses).toBe(ok ? streak + 1 : 0);
    expect(next.consecutiveFailures).toBe(ok ? 0 : streak + 1);
    expect(changed).toBe(next.state !== state);
    const expected: Record<HealthState, HealthState> = {
      unknown: ok ? "healthy" : "unhealthy",
      healthy: !ok && streak + 1 >= failAfter ? "unhealthy" : "healthy",
      unhealthy: ok && streak + 1 >= recoverAfter ? "healthy" : "unhealthy",
    };
    expect(next.state).toBe(expected[state]);
  });

  test("a healthy target needs fail_after failures in a row; one success resets the count", () => {
    const thresholds = { failAfter: 3, recoverAfter: 2 };
    let current = step(INITIAL_HEALTH, true, thresholds).next;
    const states: HealthState[] = [];
    for (const ok of [false, false, true, false, false, false, true, false, true, true]) {
      current = step(current, ok, thresholds).next;
      states.push(current.state);
    }
    expect(states).toEqual(["healthy", "healthy", "healthy", "healthy", "healthy", "unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"]);
  });

  test.each([0, -1, 1.5, Number.NaN])("refuses threshold %p", (bad) => {
    expect(() => step(INITIAL_HEALTH, true, { failAfter: bad, recoverAfter: 1 })).toThrow(RangeError);
    expect(() => step(INITIAL_HEALTH, true, { failAfter: 1, recoverAfter: bad })).toThrow(/recoverAfter must be an integer of at least 1/);
  });

  test("the initial health is UNKNOWN and cannot be mutated", () => {
    expect(INITIAL_HEALTH).toEqual(h("unknown"));
    expect(Object.isFrozen(INITIAL_HEALTH)).toBe(true);
  });
});
