/**
 * Script mode (stdin not a terminal) against golden transcripts: each tests/shell/golden/NAME.script runs through
 * `lbctl shell` on the same config tree, and its exit code, stdout, stderr and the service files afterwards must be
 * those of NAME.golden (the tree's folder written as $DIR). UPDATE_GOLDEN=1 rewrites the goldens: review the diff.
 */

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runLbctl } from "../support/run-lbctl.ts";
import { shellTree } from "./support/fixture.ts";

const GOLDEN = join(import.meta.dir, "golden");
const scripts = readdirSync(GOLDEN).filter((f) => f.endsWith(".script")).sort();

describe("lbctl shell script mode (golden transcripts)", () => {
  for (const script of scripts) {
    const name = script.replace(/\.script$/, "");
    test(name, async () => {
      const tree = shellTree();
      try {
        const input = readFileSync(join(GOLDEN, script), "utf8");
        const run = await runLbctl(["shell", "--config", tree.main], {}, input);
        const files = readdirSync(tree.path("config.d")).sort().map((f) => `--- config.d/${f}\n${readFileSync(tree.path(`config.d/${f}`), "utf8")}`);
        const transcript = [`exit ${run.exitCode}`, "--- stdout", run.stdout, "--- stderr", run.stderr, ...files].join("\n").replaceAll(tree.dir, "$DIR");
        const golden = join(GOLDEN, `${name}.golden`);
        if (process.env.UPDATE_GOLDEN === "1") writeFileSync(golden, transcript);
        expect(transcript).toBe(readFileSync(golden, "utf8"));
        // Whatever happened, the session let go of the lock.
        expect(existsSync(tree.lock)).toBe(false);
      } finally {
        tree.remove();
      }
    });
  }

  test("lbctl with no command and a stdin that is not a terminal: usage, exit 2", async () => {
    const run = await runLbctl([], {}, "show status\n");
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("lbctl: name a command (validate, schema, apply");
    expect(run.stderr).toContain("shell");
    expect(run.stderr).not.toContain("__complete");
    expect(run.stdout).toBe("");
  });
});
