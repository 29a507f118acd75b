/**
 * lbctl(8): generated from docs/cli.md (build.ts → dist/lbctl.8, embedded and installed by `lbctl setup files`),
 * rendered by groff without a warning, and naming every command of docs/cli.md.
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inline, markdownToMan } from "../../src/system/man-page.ts";

const repo = join(import.meta.dir, "../..");
const markdown = readFileSync(join(repo, "docs/cli.md"), "utf8");
const shipped = readFileSync(join(repo, "dist/lbctl.8"), "utf8");
const groff = Bun.which("groff");
const man = Bun.which("man");
const inCi = process.env.CI === "true" || process.env.CI === "1";

function render(argv: string[], input: string) {
  const run = Bun.spawnSync(argv, { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe", env: { ...process.env, MANWIDTH: "100", LANG: "C.UTF-8" } });
  return { exitCode: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** Text as it reads on a terminal: overstrike bold and underline removed. */
function plain(text: string): string {
  return text.replace(/.\x08/g, "");
}

const commands = [...markdown.matchAll(/^## (lbctl .*)$/gm)].map((m) => m[1]!);

describe("lbctl(8)", () => {
  test("dist/lbctl.8 is what build.ts makes from docs/cli.md now", () => {
    const { version, description } = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    const fresh = markdownToMan(markdown, { version, summary: description.replace(/^LibraFlux load balancer: /, "the LibraFlux load balancer: ") });
    expect(shipped).toBe(fresh);
  });

  test("inline markdown becomes roff fonts and escapes", () => {
    expect(inline("run `lbctl apply --dry-run` **now**")).toBe("run \\fBlbctl apply \\-\\-dry\\-run\\fR \\fBnow\\fR");
    expect(inline("see [ha.md](ha.md#frr)")).toBe("see ha.md (docs/ha.md)");
    expect(inline("a\\b → c")).toBe("a\\eb \\[u2192] c");
    // A line that starts with a period would be a roff request.
    expect(markdownToMan(".hidden text\n", { version: "1.0.0", summary: "s" })).toContain("\n\\&.hidden text\n");
  });

  test("there are commands to find", () => {
    expect(commands.length).toBeGreaterThanOrEqual(10);
  });

  test.skipIf(!groff && !inCi)("groff renders it with no warning, and it names every command of docs/cli.md", () => {
    const run = render([groff ?? "groff", "-man", "-Tutf8", "-ww"], shipped);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const text = plain(run.stdout).replace(/\s+/g, " ");
    for (const command of commands) expect(text).toContain(command);
    expect(text).toContain("EXIT CODES");
  });

  test.skipIf(!man && !inCi)("man -l shows it", () => {
    const run = render([man ?? "man", "-l", "-"], shipped);
    expect(run.exitCode).toBe(0);
    expect(plain(run.stdout).replace(/\s+/g, " ")).toContain("lbctl - the LibraFlux load balancer");
  });
});
