import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guestEnvironment, renderJobScript } from "./job.ts";
import { repoRoot } from "./paths.ts";

const workDir = mkdtempSync(join(tmpdir(), "lbctl-job-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs a rendered job.sh the way the guest does: sh, empty environment. */
function runJob(command: string[], env: Record<string, string> = { PATH: "/usr/bin:/bin" }): string {
  const script = join(workDir, "job.sh");
  writeFileSync(script, renderJobScript({ command, cwd: workDir, env }));
  const result = Bun.spawnSync(["env", "-i", "/bin/sh", script]);
  expect(result.exitCode).toBe(0);
  return result.stdout.toString();
}

test("arguments reach the command unchanged, whatever they contain", () => {
  const awkward = ["it's", 'say "hi"', "$HOME `id` $(id)", "two\nlines", " spaced ", "*", ""];
  const printed = runJob(["printf", "[%s]", ...awkward]);
  expect(printed).toBe(awkward.map((word) => `[${word}]`).join(""));
});

test("the command runs in the requested directory with exactly the given environment", () => {
  const printed = runJob(["sh", "-c", "pwd; printenv | sort"], { PATH: "/usr/bin:/bin", ODD: "a 'b' $c" });
  expect(printed.split("\n")).toEqual(expect.arrayContaining([workDir, "ODD=a 'b' $c", "PATH=/usr/bin:/bin"]));
});

test("an invalid variable name is refused", () => {
  expect(() => renderJobScript({ command: ["true"], cwd: "/", env: { "A-B": "x" } })).toThrow("environment variable");
});

test("the guest environment passes selected host variables and marks the lab", () => {
  const env = guestEnvironment(
    { PATH: "/opt/bin", HOME: "/home/ci", CI: "true", LBCTL_BIN: "/x/lbctl", BENCH_N: "5", SECRET: "no", LBCTL_LAB: "0" },
    { extra: { EXTRA: "yes" } },
  );
  expect(env).toMatchObject({ HOME: "/home/ci", CI: "true", LBCTL_BIN: "/x/lbctl", BENCH_N: "5", EXTRA: "yes", LBCTL_LAB: "1" });
  expect(env.SECRET).toBeUndefined();
  expect(env.PATH!.split(":")).toEqual(expect.arrayContaining([join(repoRoot, "node_modules/.bin"), "/opt/bin", "/usr/sbin"]));
});
