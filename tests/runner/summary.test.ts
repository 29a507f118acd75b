import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { failedTestNames, failureReasons, skippedTestNames, SUMMARY_PATTERN, summaryLine, tallyBunTest } from "./summary.ts";

const output = `bun test v1.4.5 (a7733435c)

tests/a.test.ts:
(pass) ok [0.01ms]
(skip) needs promtool

tests/b/c.test.ts:
(skip) grp > inner
(fail) broken [3.00ms]

 1 pass
 2 skip
 1 fail
Ran 4 tests across 2 files. [5.00ms]
`;

describe("npm test's tally of a bun test run", () => {
  test("counts passes, failures and skips, and names each skipped test with its file", () => {
    expect(tallyBunTest("unit tests", 1, output)).toEqual({
      passed: 1,
      failed: 1,
      skipped: 2,
      skippedTests: ["tests/a.test.ts > needs promtool", "tests/b/c.test.ts > grp > inner"],
      failedTests: ["tests/b/c.test.ts > broken"],
      failureReasons: [],
      problems: ["unit tests: 1 failed"],
    });
  });

  test("a run without a summary, or a non-zero exit without a failed test, is one failure", () => {
    expect(tallyBunTest("lab", 125, "The guest stopped\n")).toMatchObject({ failed: 1, problems: ["lab: exited with status 125 without a test summary"] });
    expect(tallyBunTest("lab", 1, " 3 pass\n 0 fail\n")).toMatchObject({ passed: 3, failed: 1 });
  });

  test("a run where everything skipped is not a missing summary", () => {
    expect(tallyBunTest("unit tests", 0, "x.test.ts:\n(skip) a\n 0 pass\n 1 skip\n 0 fail\n")).toMatchObject({ passed: 0, failed: 0, skipped: 1, problems: [] });
  });

  test("a skipped test whose name ends in brackets keeps them; only bun's timing is cut", () => {
    expect(skippedTestNames("(skip) handles [v6] [2.00ms]\n(skip) handles [v4]\n")).toEqual(["handles [v6]", "handles [v4]"]);
  });

  test("a failed test bun names twice (in its file and in the recap) is listed once", () => {
    expect(failedTestNames("t.test.ts:\n(fail) a > b [1.00ms]\n\nu.test.ts:\n(pass) c\n\n1 tests failed:\n(fail) a > b [1.00ms]\n")).toEqual(["t.test.ts > a > b"]);
  });

  test("the start of each failure's error is kept for the end of the log", () => {
    const log = "(pass) a\nerror: expect(received).toBe(expected)\n\nExpected: 1\nReceived: 2\n      at x (t.ts:1)\n(fail) g > b [5.00ms]\n";
    expect(failureReasons(log)).toEqual(["(fail) g > b: error: expect(received).toBe(expected) | Expected: 1 | Received: 2"]);
  });

  test("the summary line, which .ci/run greps for", () => {
    expect(summaryLine({ passed: 1056, failed: 0, skipped: 3 })).toBe("1056 passed, 0 failed, 3 skipped");
    expect(SUMMARY_PATTERN.test(summaryLine({ passed: 1, failed: 2, skipped: 0 }))).toBe(true);
  });

  test(".ci/run greps the same format as the last line", async () => {
    const ci = await Bun.file(join(import.meta.dir, "../../.ci/run")).text();
    expect(ci).toContain(`grep -E '${SUMMARY_PATTERN.source}'`);
  });
});
