/**
 * What `npm test` (tests/run.ts) adds up: the counts `bun test` prints at its end (" 12 pass", " 2 skip", " 0 fail"),
 * the names of the tests it skipped ("(skip) describe > test" under the "file.test.ts:" line), and the summary line
 * `N passed, N failed, N skipped` that ends the run (and CI's output).
 */

export interface SuiteResult {
  passed: number;
  failed: number;
  skipped: number;
  /** "file > describe > test" of each skipped test, as bun printed them. */
  skippedTests: string[];
  /** Sentences for the end of the run: why this suite failed. */
  problems: string[];
}

const count = (output: string, word: string) => [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}$`, "gm"))].reduce((sum, m) => sum + Number(m[1]), 0);

/** Skipped tests named by `bun test`'s "(skip) ..." lines, each prefixed with the file it is in. */
export function skippedTestNames(output: string): string[] {
  const names: string[] = [];
  let file = "";
  for (const line of output.split("\n")) {
    const header = /^(\S+\.test\.[cm]?[jt]sx?):$/.exec(line);
    if (header) file = header[1]!;
    const skipped = /^\(skip\) (.+?)(?: \[[\d.]+m?s\])?$/.exec(line);
    if (skipped) names.push(file ? `${file} > ${skipped[1]}` : skipped[1]!);
  }
  return names;
}

/**
 * Adds up one `bun test` run. A run that printed no counts, or exited non-zero with no failed test (a crash, a
 * file that did not load), counts as one failure.
 */
export function tallyBunTest(suite: string, exitCode: number, output: string): SuiteResult {
  const result: SuiteResult = {
    passed: count(output, "pass"),
    failed: count(output, "fail"),
    skipped: count(output, "skip"),
    skippedTests: skippedTestNames(output),
    problems: [],
  };
  if (result.passed + result.failed + result.skipped === 0 || (exitCode !== 0 && result.failed === 0)) {
    result.failed += 1;
    result.problems.push(`${suite}: exited with status ${exitCode} without a test summary`);
  } else if (result.failed > 0) {
    result.problems.push(`${suite}: ${result.failed} failed`);
  }
  return result;
}

/** The last line of `npm test` and of CI. */
export function summaryLine(total: { passed: number; failed: number; skipped: number }): string {
  return `${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`;
}

export const SUMMARY_PATTERN = /^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/;
