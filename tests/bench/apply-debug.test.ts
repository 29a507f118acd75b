import { describe, expect, test } from "bun:test";
import { formatBreakdown, medianBreakdown, parseApplyDebug } from "../../bench/apply-debug.ts";

const noop = `[debug] Start-up took 342.5 ms
[debug] Config loaded in 1764.0 ms
[debug] Phase open took 66.2 ms
[debug] Phase read took 18149.1 ms
[debug] Phase desired took 3676.0 ms
[debug] Phase plan took 8678.9 ms
[success] The kernel matches the config: nothing to do`;

describe("the breakdown of lbctl apply --debug", () => {
  test("reads every phase it printed, and leaves out the ones it did not", () => {
    expect(parseApplyDebug(noop)).toEqual({ "start-up": 342.5, config: 1764, open: 66.2, read: 18149.1, desired: 3676, plan: 8678.9 });
  });

  test("output without the debug lines is an error, not a breakdown of zeros", () => {
    expect(() => parseApplyDebug("[success] Applied: 5 services")).toThrow(/no start-up time/);
  });

  test("medians per phase, and other is what the wall time leaves", () => {
    const runs = [parseApplyDebug(noop), { ...parseApplyDebug(noop), read: 20000 }, { ...parseApplyDebug(noop), read: 10000 }];
    const parts = medianBreakdown(runs, 35000);
    expect(parts.read).toBe(18149.1);
    expect(parts.other).toBeCloseTo(35000 - (342.5 + 1764 + 66.2 + 18149.1 + 3676 + 8678.9), 6);
    expect(formatBreakdown(parts)).toBe("start-up 343, config 1764, open 66, read 18149, desired 3676, plan 8679, other 2323 ms");
  });
});
