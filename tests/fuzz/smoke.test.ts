/**
 * The short fuzzing run CI does on every change: a few hundred mutated configs from the shipped example and the
 * docs through `validate --json`, in-process and (every 20th) through lbctl, under the properties of
 * properties.ts. Seeded: the seed is printed, FUZZ_SEED=N repeats a run. The long run is `bun tests/fuzz/run.ts`.
 */

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lbctlCommandLine } from "../support/run-lbctl.ts";
import { fuzz } from "./harness.ts";
import { printSummary } from "./run.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const INPUTS = 300;
const workDir = mkdtempSync(join(tmpdir(), "lbctl-fuzz-smoke-"));

test(`${INPUTS} mutated configs through validate --json (seed ${SEED})`, async () => {
  const summary = await fuzz({ count: INPUTS, seed: SEED, binary: lbctlCommandLine(), binaryEvery: 20, workDir });
  const lines: string[] = [];
  printSummary(summary, (line) => lines.push(line));
  console.log(lines.join("\n"));
  // The mutators reach both verdicts, and the binary ran: a harness that checks nothing would not.
  expect(summary.inputs).toBe(INPUTS);
  expect(summary.verdicts.valid).toBeGreaterThan(0);
  expect(summary.verdicts.invalid).toBeGreaterThan(0);
  expect(summary.binaryRuns).toBe(Math.ceil(INPUTS / 20));
  // Each finding is kept in workDir for `bun tests/fuzz/run.ts --replay DIR`; the folder goes only when all is well.
  expect(summary.findings.map((f) => `${f.saved}: ${f.problems.join("; ")}`)).toEqual([]);
  rmSync(workDir, { recursive: true, force: true });
}, 120_000);
