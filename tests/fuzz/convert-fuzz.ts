#!/usr/bin/env bun
/**
 * The converters' long fuzz run, kept out of CI's time budget: `bun tests/fuzz/convert-fuzz.ts [INPUTS] [SEED]`
 * (default 100,000 per converter). Exit 1 on any crash, unlocated error or input over 1 s; the offending inputs
 * are written to a temporary folder.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzz, type Kind } from "./convert-mutate.ts";

const inputs = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
let failed = false;
for (const kind of ["nginx", "keepalived"] as Kind[]) {
  const started = performance.now();
  const report = fuzz(kind, inputs, seed);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`convert ${kind}: ${report.inputs} inputs (seed ${seed}) in ${seconds} s: ${report.converted} converted, ${report.refused} refused with a located error, slowest ${report.slowestMs.toFixed(1)} ms, ${report.problems.length} problems\n`);
  if (report.problems.length > 0) {
    failed = true;
    const dir = mkdtempSync(join(tmpdir(), `lbctl-fuzz-${kind}-`));
    report.problems.slice(0, 50).forEach((p, i) => writeFileSync(join(dir, `${i}.conf`), `${p.input}\n# problem: ${p.problem.split("\n")[0]}\n`));
    process.stdout.write(`  first problem: ${report.problems[0]!.problem.split("\n")[0]}\n  inputs written to ${dir}\n`);
  }
}
process.exit(failed ? 1 : 0);
