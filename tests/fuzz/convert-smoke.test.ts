/** The converters' fuzz smoke for CI (2,000 inputs each; `bun tests/fuzz/convert-fuzz.ts` runs 100,000). */

import { expect, test } from "bun:test";
import { fuzz, type Kind } from "./convert-mutate.ts";

for (const kind of ["nginx", "keepalived"] as Kind[]) {
  test(`convert ${kind}: 2,000 mutated inputs, no crash, none over 1 s, every refusal located`, () => {
    const report = fuzz(kind, 2000, 20261203);
    expect(report.problems.map((p) => p.problem.split("\n")[0])).toEqual([]);
    // Positive signs that the run exercised both outcomes.
    expect(report.converted).toBeGreaterThan(100);
    expect(report.refused).toBeGreaterThan(100);
  }, 120_000);
}
