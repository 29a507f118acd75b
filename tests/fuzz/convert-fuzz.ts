#!/usr/bin/env bun
/**
 * The converters' long fuzz run, kept out of CI's time budget:
 * `bun tests/fuzz/convert-fuzz.ts [INPUTS] [SEED] [--binary build/lbctl] [--binary-every N]` (default 100,000 per
 * converter; with --binary, every N-th input (default 100) also goes through `lbctl convert KIND --dry-run --json`,
 * which must exit 0, or 1 (2 for an unreadable include) with a located error). Exit 1 on any crash, unlocated error
 * or input over 1 s; the offending inputs are written to a temporary folder.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzz, type Kind, type Sample } from "./convert-mutate.ts";

const flags = new Map<string, string>();
const positional: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]!;
  if (arg.startsWith("--")) flags.set(arg, process.argv[++i] ?? "");
  else positional.push(arg);
}
const inputs = Number(positional[0] ?? 100_000);
const seed = Number(positional[1] ?? Date.now() % 1_000_000);
const binary = flags.get("--binary");
const sample: Sample | undefined = binary ? { every: Number(flags.get("--binary-every") ?? 100), check: binaryCheck(binary) } : undefined;

/** One input through the built binary: the exit code and the JSON it prints must keep the CLI contract. */
function binaryCheck(path: string): Sample["check"] {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-fuzz-binary-"));
  mkdirSync(join(dir, "conf.d"));
  return (kind, input) => {
    const file = join(dir, `${kind}.conf`);
    writeFileSync(file, input);
    const run = Bun.spawnSync([path, "convert", kind, "--input", file, "--dry-run", "--json"], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
    const stderr = run.stderr.toString().trim();
    if (run.exitCode === null) return "no exit within 10 s";
    let out: { services?: unknown[]; error?: { code?: string; message?: string; line?: number } };
    try {
      out = JSON.parse(run.stdout.toString()) as typeof out;
    } catch {
      return `exit ${run.exitCode} without one JSON object on stdout; stderr: ${stderr.split("\n")[0]}`;
    }
    if (run.exitCode === 0) return (out.services?.length ?? 0) > 0 ? undefined : "exit 0 without a service";
    const error = out.error;
    if (!error?.message) return `exit ${run.exitCode} without an error message`;
    if (run.exitCode === 1 && error.line === undefined && error.code !== "nothing" && !/^--strict/.test(error.message)) return `exit 1 with an unlocated ${error.code} error: ${error.message}`;
    if (run.exitCode === 2 && error.code !== "unreadable") return `exit 2 for a ${error.code} error: ${error.message}`;
    if (run.exitCode !== 1 && run.exitCode !== 2) return `exit ${run.exitCode}: ${stderr.split("\n")[0]}`;
    return undefined;
  };
}

let failed = false;
for (const kind of ["nginx", "keepalived"] as Kind[]) {
  const started = performance.now();
  const report = fuzz(kind, inputs, seed, sample);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`convert ${kind}: ${report.inputs} inputs (seed ${seed}) in ${seconds} s: ${report.converted} converted, ${report.refused} refused with a located error, slowest ${report.slowestMs.toFixed(1)} ms, ${report.sampled} also through the binary, ${report.problems.length} problems\n`);
  if (report.problems.length > 0) {
    failed = true;
    const dir = mkdtempSync(join(tmpdir(), `lbctl-fuzz-${kind}-`));
    report.problems.slice(0, 50).forEach((p, i) => writeFileSync(join(dir, `${i}.conf`), `${p.input}\n# problem: ${p.problem.split("\n")[0]}\n`));
    process.stdout.write(`  first problem: ${report.problems[0]!.problem.split("\n")[0]}\n  inputs written to ${dir}\n`);
  }
}
process.exit(failed ? 1 : 0);
