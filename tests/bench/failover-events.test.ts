import { describe, expect, test } from "bun:test";
import { pairFailovers, spread } from "../../bench/failover-events.ts";

describe("pairing P3's failures", () => {
  const observations = [
    { t: 900, total: 2, zero: 0 },
    { t: 1320, total: 2, zero: 1 },
    { t: 1330, since: 1318, total: 2, zero: 2 },
    { t: 1500, total: 2, zero: 0 }, // recovered
    { t: 2410, total: 2, zero: 2 },
  ];

  test("each stop gets the next verdict and the first full weight 0 after it; recoveries and start-up do not count", () => {
    const report = pairFailovers({
      stops: [1000, 2000.5],
      verdicts: [1300, 2380],
      reconciles: [
        { t: 1325, durationMs: 24 },
        { t: 2405, durationMs: 20 },
      ],
      observations,
      destinations: 2,
    });
    expect(report.unexpectedVerdicts).toBe(0);
    expect(report.failovers.map((f) => [f.stopToVerdictMs, f.verdictToKernelMs, f.verdictToKernelAtLeastMs, f.stopToKernelMs, f.daemonMs])).toEqual([
      [300, 30, 18, 330, 24],
      [379.5, 30, 30, 409.5, 20],
    ]);
  });

  test("a verdict in the same millisecond as the stop still follows it; a read begun before the verdict bounds at 0", () => {
    const report = pairFailovers({ stops: [1000.7], verdicts: [1000], reconciles: [], observations: [{ t: 1010, since: 990, total: 1, zero: 1 }], destinations: 1 });
    expect(report.failovers[0]!.verdictToKernelMs).toBe(10);
    expect(report.failovers[0]!.verdictToKernelAtLeastMs).toBe(0);
    expect(report.failovers[0]!.daemonMs).toBeUndefined();
  });

  test("a verdict that followed no stop is a flap, counted apart", () => {
    const report = pairFailovers({ stops: [1000], verdicts: [500, 1300], reconciles: [], observations, destinations: 2 });
    expect(report.unexpectedVerdicts).toBe(1);
    expect(report.failovers).toHaveLength(1);
  });

  test("a failure with no verdict or no observed weight 0 is an error naming it", () => {
    expect(() => pairFailovers({ stops: [1000, 2000], verdicts: [1300], reconciles: [], observations, destinations: 2 })).toThrow(/Failure 2: the daemon logged no unhealthy verdict/);
    expect(() => pairFailovers({ stops: [1000], verdicts: [1300], reconciles: [], observations: observations.slice(0, 2), destinations: 2 })).toThrow(
      /Failure 1: the observer never saw weight 0 on all 2/,
    );
  });
});

test("spread gives the median and the worst", () => {
  expect(spread([30, 10, 20])).toEqual({ median: 20, worst: 30 });
  expect(spread([10, 20, 30, 40])).toEqual({ median: 25, worst: 40 });
});
