import { describe, expect, test } from "bun:test";
import { type BenchResult, formatResultLine, formatResultsFile, mergeResults, orderResults, parseResultLines, parseResultsFile, resultsOfRun, runExitStatus } from "../../bench/results.ts";

const result = (over: Partial<BenchResult> = {}): BenchResult => ({
  id: "P3",
  what: "a backend fails",
  name: "verdict → weight 0",
  target: "≤ 100 ms",
  measured: "26 ms median",
  value: 26,
  unit: "ms",
  ok: true,
  where: "guest",
  bench: "failover-latency",
  ...over,
});

describe("bench result lines", () => {
  test("a printed line is read back among other output", () => {
    const output = ["PASS  something   26 ms", formatResultLine(result()), "INFO  noise", formatResultLine(result({ id: "P4", bench: "health-scheduler" }))].join("\n");
    expect(parseResultLines(output)).toEqual([result(), result({ id: "P4", bench: "health-scheduler" })]);
  });

  test("a BENCH line that is not JSON, or lacks a field, is an error naming it", () => {
    expect(() => parseResultLines("BENCH {oops")).toThrow(/Not JSON/);
    const { value: _value, ...withoutValue } = result();
    expect(() => parseResultLines(`BENCH ${JSON.stringify(withoutValue)}`)).toThrow(/"value"/);
    expect(() => parseResultLines(`BENCH ${JSON.stringify({ ...result(), where: "moon" })}`)).toThrow(/host or guest/);
  });

  test("a results file round-trips and names the bad line", () => {
    const results = [result(), result({ id: "B0", bench: "validate", target: undefined })];
    expect(parseResultsFile(formatResultsFile(results))).toEqual(JSON.parse(JSON.stringify(results)));
    expect(() => parseResultsFile(`${JSON.stringify(result())}\n{"id":1}\n`)).toThrow(/Line 2/);
  });
});

describe("merging a run into earlier results", () => {
  test("a bench that ran replaces all its earlier rows in place; the others stay", () => {
    const earlier = [
      result({ id: "B0", bench: "validate", value: 30 }),
      result({ id: "P3", value: 1 }),
      result({ id: "P3", value: 2, name: "second" }),
      result({ id: "M1", bench: "metrics-scrape" }),
    ];
    const fresh = [result({ id: "P3", value: 9 })];
    expect(mergeResults(earlier, fresh).map((r) => [r.id, r.value])).toEqual([
      ["B0", 30],
      ["P3", 9],
      ["M1", 26],
    ]);
  });

  test("a bench new to the file goes at the end", () => {
    const merged = mergeResults([result({ id: "B0", bench: "validate" })], [result({ id: "P9", bench: "port-range" })]);
    expect(merged.map((r) => r.bench)).toEqual(["validate", "port-range"]);
  });
});

test("results are ordered as the benches are listed, each bench's lines in their order, unknown benches last", () => {
  const results = [
    result({ id: "X", bench: "port-range" }),
    result({ id: "P3", value: 1 }),
    result({ id: "B0", bench: "validate" }),
    result({ id: "P3", value: 2 }),
  ];
  expect(orderResults(results, ["validate", "failover-latency"]).map((r) => [r.id, r.value])).toEqual([
    ["B0", 26],
    ["P3", 1],
    ["P3", 2],
    ["X", 26],
  ]);
});

describe("a run's verdict", () => {
  test("a bench that printed no result is a problem, whatever its exit status; other benches' lines are not taken", () => {
    const output = [formatResultLine(result()), formatResultLine(result({ bench: "stray" }))].join("\n");
    const run = resultsOfRun(["failover-latency", "ipvs-apply"], output);
    expect(run.results.map((r) => r.bench)).toEqual(["failover-latency"]);
    expect(run.problems).toEqual(["ipvs-apply printed no result"]);
    expect(resultsOfRun(["validate"], "BENCH nope").problems[0]).toMatch(/Not JSON/);
  });

  test("a missed target fails the run unless --no-fail; a problem fails it always", () => {
    const missed = [result(), result({ ok: false })];
    expect(runExitStatus(missed, [], false)).toBe(1);
    expect(runExitStatus(missed, [], true)).toBe(0);
    expect(runExitStatus([result()], [], false)).toBe(0);
    expect(runExitStatus([result()], ["validate printed no result"], true)).toBe(1);
  });
});
