import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, parseResultsFile } from "../../bench/results.ts";
import { BEGIN_MARKER, END_MARKER, renderSummaryTable, replaceSummary } from "../../bench/summary-table.ts";

const base: BenchResult = {
  id: "P4",
  what: "10,000 TCP targets",
  name: "CPU of the probing process",
  target: "< 50 % of one core",
  measured: "79 %",
  value: 79,
  unit: "%",
  ok: false,
  where: "host",
  bench: "health-scheduler",
  at: "2026-12-03T07:00:00.000Z",
  commit: "900bf94abcdef",
  loaded: true,
};

describe("the summary table", () => {
  test("a missed target says so; a figure without a target shows a dash; the run and the command are given", () => {
    const table = renderSummaryTable([base, { ...base, name: "peer | floor", target: undefined, measured: "61 %", ok: true, loaded: false }]);
    const [, , missed, context] = table.split("\n");
    expect(missed).toBe("| P4 | 10,000 TCP targets (host): CPU of the probing process | < 50 % of one core | **79 %: missed** | 2026-12-03 900bf94 loaded host | `npm run bench -- health-scheduler` |");
    expect(context).toBe("| P4 | peer \\| floor | - | 61 % | 2026-12-03 900bf94 | `npm run bench -- health-scheduler` |");
  });

  test("only what lies between the markers is replaced", () => {
    const doc = `# Performance\n\nintro\n\n${BEGIN_MARKER}\nold table\n${END_MARKER}\n\n## After\n`;
    expect(replaceSummary(doc, "NEW")).toBe(`# Performance\n\nintro\n\n${BEGIN_MARKER}\nNEW\n${END_MARKER}\n\n## After\n`);
  });

  test("missing, reversed or repeated markers are refused", () => {
    expect(() => replaceSummary("no markers", "x")).toThrow(/markers/);
    expect(() => replaceSummary(`${END_MARKER}\n${BEGIN_MARKER}`, "x")).toThrow(/in that order/);
    expect(() => replaceSummary(`${BEGIN_MARKER}\n${END_MARKER}\n${BEGIN_MARKER}`, "x")).toThrow(/more than once/);
  });
});

test("rows are grouped by id; only the first of a group repeats the scenario", () => {
  const m1 = { ...base, id: "M1", what: "a stats cycle", name: "checks off", bench: "metrics-scrape" };
  const m2 = { ...base, id: "M2", what: "a scrape", name: "scrape", bench: "metrics-scrape" };
  const lines = renderSummaryTable([m1, m2, { ...m1, name: "checks on" }]).split("\n").slice(2);
  expect(lines.map((l) => l.split(" | ").slice(0, 2).join(" | "))).toEqual(["| M1 | a stats cycle (host): checks off", "| M1 | checks on", "| M2 | a scrape (host): scrape"]);
});

test("the table in docs/performance.md is the one bench/results.jsonl gives (regenerate: bun bench/summary.ts)", () => {
  const root = join(import.meta.dir, "../..");
  const results = parseResultsFile(readFileSync(join(root, "bench/results.jsonl"), "utf8"));
  expect(results.length).toBeGreaterThan(0);
  const doc = readFileSync(join(root, "docs/performance.md"), "utf8");
  expect(doc).toBe(replaceSummary(doc, renderSummaryTable(results)));
});

test("docs/performance.md names every bench bench/run.ts runs, and where it runs", () => {
  const root = join(import.meta.dir, "../..");
  const runner = readFileSync(join(root, "bench/run.ts"), "utf8");
  const benches = [...runner.matchAll(/\{ name: "([a-z-]+)", where: "(host|lab)" \}/g)].map((m) => ({ name: m[1]!, where: m[2]! }));
  expect(benches.length).toBeGreaterThan(5);
  const intro = readFileSync(join(root, "docs/performance.md"), "utf8").split("\n\n")[1]!.replace(/\n/g, " ");
  const [host, lab] = intro.split(" on the host;");
  expect({ host: benches.filter((b) => b.where === "host" && !host!.includes(`\`${b.name}\``)), lab: benches.filter((b) => b.where === "lab" && !lab!.includes(`\`${b.name}\``)) }).toEqual({ host: [], lab: [] });
});
