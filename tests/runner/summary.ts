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
  /** "file > describe > test" of each failed test, named again at the end so CI's last lines say which. */
  failedTests?: string[];
  /** The start of each failure's error, repeated at the end for the same reason. */
  failureReasons?: string[];
  /** Sentences for the end of the run: why this suite failed. */
  problems: string[];
}

const count = (output: string, word: string) => [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}$`, "gm"))].reduce((sum, m) => sum + Number(m[1]), 0);

/** Tests named by `bun test`'s "(skip) ..." or "(fail) ..." lines, each prefixed with the file it is in, once each. */
function markedTestNames(output: string, mark: "skip" | "fail"): string[] {
  const names = new Set<string>();
  const seen = new Set<string>();
  const pattern = new RegExp(`^\\(${mark}\\) (.+?)(?: \\[[\\d.]+m?s\\])?$`);
  let file = "";
  for (const line of output.split("\n")) {
    const header = /^(\S+\.test\.[cm]?[jt]sx?):$/.exec(line);
    if (header) file = header[1]!;
    const marked = pattern.exec(line);
    // bun names a failure again in a recap after the last file's header: a test is listed once, with its own file.
    if (marked && !seen.has(marked[1]!)) {
      seen.add(marked[1]!);
      names.add(file ? `${file} > ${marked[1]}` : marked[1]!);
    }
  }
  return [...names];
}

export const skippedTestNames = (output: string): string[] => markedTestNames(output, "skip");
export const failedTestNames = (output: string): string[] => markedTestNames(output, "fail");

/**
 * The first lines of the error bun printed above each "(fail)" line, so the end of a CI log says why, not only which
 * (the log's middle may not be kept).
 */
export function failureReasons(output: string, linesPerFailure = 4): string[] {
  const lines = output.split("\n");
  const reasons: string[] = [];
  lines.forEach((line, index) => {
    if (!line.startsWith("(fail) ")) return;
    for (let back = index - 1; back >= Math.max(0, index - 60); back--) {
      if (lines[back]!.startsWith("(pass) ") || lines[back]!.startsWith("(fail) ")) break;
      if (!/^(error|\w*Error):/.test(lines[back]!)) continue;
      const excerpt = lines.slice(back, Math.min(index, back + linesPerFailure)).map((l) => l.trimEnd()).filter((l) => l.length > 0);
      reasons.push(`${line.replace(/ \[[\d.]+m?s\]$/, "")}: ${excerpt.join(" | ")}`);
      return;
    }
  });
  return [...new Set(reasons)];
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
    failedTests: failedTestNames(output),
    failureReasons: failureReasons(output),
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
