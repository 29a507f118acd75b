#!/usr/bin/env bun
/**
 * The long fuzzing run, outside CI (tests/fuzz/smoke.test.ts is the short one CI runs):
 *
 *   bun tests/fuzz/run.ts --count 100000 [--seed N] [--binary build/lbctl] [--binary-every 10] [--work DIR]
 *   bun tests/fuzz/run.ts --replay DIR/findings/SEED-INDEX-TARGET
 *
 * Prints the seed first (the same seed gives the same inputs), a progress line every 1,000 inputs, then a summary
 * with the findings grouped by kind, each kept under WORK/findings/ for --replay. Exit 1 when anything was found.
 */

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzz, replay, type FuzzSummary } from "./harness.ts";
import { newSeed } from "./prng.ts";

const root = join(import.meta.dir, "../..");

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function binaryCommand(): string[] | undefined {
  if (process.argv.includes("--no-binary")) return undefined;
  const path = flag("binary") ?? process.env.LBCTL_BIN ?? join(root, "build/lbctl");
  if (!existsSync(path)) {
    process.stderr.write(`no binary at ${path}: build it (bun build.ts) or pass --binary PATH or --no-binary\n`);
    process.exit(2);
  }
  return [path];
}

/** "line 12 is past the end" and "line 3 is past the end" are one kind of finding. */
export function kindOf(problem: string): string {
  return problem
    .replace(/\/[^\s:]*\/(case|findings)\/[^\s:]*/g, "FILE")
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

export function printSummary(summary: FuzzSummary, write: (line: string) => void): void {
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  write(`seed ${summary.seed}: ${summary.inputs} inputs (${summary.verdicts.valid} valid, ${summary.verdicts.invalid} invalid, ${summary.verdicts.unreadable} unreadable), ${summary.binaryRuns} through the binary`);
  write(`slowest: ${summary.slowestMs.inProcess.toFixed(0)} ms in-process, ${summary.slowestMs.binary.toFixed(0)} ms binary; peak memory: ${mib(summary.maxRssBytes.inProcess)} in-process, ${mib(summary.maxRssBytes.binary)} binary`);
  if (summary.findings.length === 0) {
    write("no findings");
    return;
  }
  const kinds = new Map<string, typeof summary.findings>();
  for (const finding of summary.findings) {
    for (const problem of finding.problems) {
      const kind = kindOf(problem);
      kinds.set(kind, [...(kinds.get(kind) ?? []), finding]);
    }
  }
  write(`${summary.findings.length} findings, ${kinds.size} kinds:`);
  for (const [kind, findings] of [...kinds].sort((a, b) => b[1].length - a[1].length)) {
    const first = findings[0]!;
    write(`  ${findings.length} x ${kind}`);
    write(`      e.g. ${first.saved} (${first.seedName}; ${first.mutations.join(", ")})`);
  }
}

if (import.meta.main) {
  const replayDir = flag("replay");
  if (replayDir) {
    const result = await replay(replayDir, binaryCommand());
    process.stdout.write(`in-process: ${result.inProcess.join("; ") || "ok"}\nbinary: ${result.binary.join("; ") || "ok"}\n`);
    process.exitCode = result.inProcess.length + result.binary.length > 0 ? 1 : 0;
  } else {
    const seed = Number(flag("seed") ?? newSeed());
    const count = Number(flag("count") ?? 1000);
    const binaryEvery = Number(flag("binary-every") ?? 10);
    const workDir = flag("work") ?? mkdtempSync(join(tmpdir(), "lbctl-fuzz-"));
    process.stdout.write(`lbctl fuzz: seed ${seed}, ${count} inputs, the binary on every ${binaryEvery}th, work in ${workDir}\n`);
    const started = performance.now();
    const summary = await fuzz({
      count,
      seed,
      binary: binaryCommand(),
      binaryEvery,
      workDir,
      progress: (done, failures) => process.stdout.write(`  ${done} inputs, ${failures} findings, ${((performance.now() - started) / 1000).toFixed(0)} s\n`),
    });
    printSummary(summary, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    process.exitCode = summary.findings.length > 0 ? 1 : 0;
  }
}
