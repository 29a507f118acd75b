/**
 * Rewrites the summary table of docs/performance.md from a results file written by bench/run.ts:
 *
 *   bun bench/summary.ts [--results bench/results.jsonl] [--doc docs/performance.md] [--check]
 *
 * With --check nothing is written: the exit status says whether the document's table is the one the results give.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/system/atomic-file.ts";
import { parseResultsFile } from "./results.ts";
import { renderSummaryTable, replaceSummary } from "./summary-table.ts";

const root = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
};
const resultsFile = option("--results", join(root, "bench/results.jsonl"));
const docFile = option("--doc", join(root, "docs/performance.md"));

const results = parseResultsFile(readFileSync(resultsFile, "utf8"));
if (results.length === 0) {
  console.error(`${resultsFile} holds no results: run npm run bench first`);
  process.exit(1);
}
const before = readFileSync(docFile, "utf8");
const after = replaceSummary(before, renderSummaryTable(results));
if (args.includes("--check")) {
  if (before !== after) {
    console.error(`The summary table of ${docFile} is not the one ${resultsFile} gives: run bun bench/summary.ts`);
    process.exit(1);
  }
  console.log(`${docFile}: the summary table matches ${resultsFile}`);
} else {
  writeFileAtomic(docFile, after);
  console.log(`${docFile}: summary table rewritten from ${results.length} results in ${resultsFile}`);
}
