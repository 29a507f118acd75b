/** install.sh stays shellcheck-clean (shellcheck comes with tests/lab/setup.sh; skipped loudly outside CI without it). */

import { expect, test } from "bun:test";
import { join } from "node:path";

const shellcheck = Bun.which("shellcheck");
const inCi = process.env.CI === "true" || process.env.CI === "1";

test.skipIf(!shellcheck && !inCi)("install.sh passes shellcheck", () => {
  expect(shellcheck).toBeTruthy();
  const run = Bun.spawnSync([shellcheck!, "--severity=style", "install.sh"], { cwd: join(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" });
  expect(run.stdout.toString()).toBe("");
  expect(run.exitCode).toBe(0);
});
