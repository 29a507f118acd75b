/**
 * `npm run bench`: every benchmark, out of CI. Host benchmarks run here; the kernel ones run in one kernel-lab guest
 * boot. Each prints its figures beside their targets (and a peer measured in the same run where there is one) and
 * one `BENCH {json}` line per figure (bench/results.ts), which this collects into the results file; bench/summary.ts
 * turns that file into the summary table of docs/performance.md.
 *
 *   bun bench/run.ts [--no-fail] [--results FILE] [NAME...]
 *
 * Exits 1 when a target is missed, a bench fails or prints no result, or the lab cannot run; with --no-fail (for
 * exploring) missed targets are reported but do not change the exit status. The results of the benches that ran
 * replace their earlier lines in the results file (default bench/results.jsonl); the others are kept.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/system/atomic-file.ts";
import { labAvailability } from "../tests/lab/launch.ts";
import { loadLine, startLoadMeter } from "./support.ts";
import { type BenchResult, formatResultsFile, mergeResults, orderResults, parseResultsFile, resultsOfRun, runExitStatus } from "./results.ts";

interface Bench {
  /** bench/NAME.ts */
  name: string;
  /** host: run here; lab: run in the kernel lab's guest. */
  where: "host" | "lab";
}

// One line per bench, in the order they run.
const BENCHES: Bench[] = [
  { name: "validate", where: "host" },
  { name: "ipvs-encode", where: "host" },
  { name: "metrics-scrape", where: "host" },
  { name: "health-scheduler", where: "host" },
  { name: "udp-echo", where: "host" },
  { name: "port-range", where: "host" },
  { name: "controlplane", where: "host" },
  { name: "ipvs-apply", where: "lab" },
  { name: "failover-latency", where: "lab" },
  { name: "health-keepalived", where: "lab" },
  { name: "daemon-start", where: "lab" },
  { name: "controlplane-lab", where: "lab" },
  { name: "port-range-kernel", where: "lab" },
  { name: "bgp-failover", where: "lab" },
];

const USAGE = `Usage: bun bench/run.ts [--no-fail] [--results FILE] [NAME...]
Benches: ${BENCHES.map((b) => b.name).join(", ")}`;

const root = join(import.meta.dir, "..");
const bun = process.execPath;

function parseArgs(argv: string[]): { noFail: boolean; resultsFile: string; names: string[] } {
  const parsed = { noFail: false, resultsFile: join(root, "bench/results.jsonl"), names: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--no-fail") parsed.noFail = true;
    else if (arg === "--results" && argv[i + 1]) parsed.resultsFile = argv[++i]!;
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith("-") || !BENCHES.some((b) => b.name === arg)) {
      console.error(`Unknown bench or option: ${arg}\n${USAGE}`);
      process.exit(64);
    } else parsed.names.push(arg);
  }
  return parsed;
}

/** Runs a command, echoing its output live, and returns its exit code and what it printed on stdout. */
async function runEchoed(command: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string }> {
  const proc = Bun.spawn(command, { cwd: root, env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const decoder = new TextDecoder();
  let stdout = "";
  for await (const chunk of proc.stdout) {
    process.stdout.write(chunk);
    stdout += decoder.decode(chunk, { stream: true });
  }
  return { exitCode: await proc.exited, stdout };
}

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: root, stdout: "pipe", stderr: "ignore" });
  const commit = result.stdout.toString().trim();
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root, stdout: "pipe", stderr: "ignore" }).stdout.toString().trim();
  return commit ? `${commit}${dirty ? "+dirty" : ""}` : "unknown";
}

const { noFail, resultsFile, names } = parseArgs(process.argv.slice(2));
const selected = BENCHES.filter((b) => names.length === 0 || names.includes(b.name));
const stamp = { at: new Date().toISOString(), commit: gitCommit() };
const problems: string[] = [];
const fresh: BenchResult[] = [];

/**
 * Takes the results a bench printed; a bench that printed none measured nothing. `hostLoaded` marks them all as taken
 * on a loaded machine (the lab's benches cannot see the host from inside the guest).
 */
function collect(benches: Bench[], exitCode: number, stdout: string, label: string, hostLoaded = false): void {
  if (exitCode !== 0) problems.push(`${label} exited with status ${exitCode}`);
  const run = resultsOfRun(benches.map((b) => b.name), stdout);
  problems.push(...run.problems);
  fresh.push(...run.results.map((r) => ({ ...r, ...(hostLoaded ? { loaded: true } : {}), ...stamp })));
}

const build = Bun.spawnSync([bun, join(root, "build.ts")], { cwd: root, stdout: "ignore", stderr: "inherit" });
if (build.exitCode !== 0) problems.push("the build failed");

for (const bench of selected.filter((b) => b.where === "host")) {
  console.log(`\n=== ${bench.name} (host) ===`);
  const { exitCode, stdout } = await runEchoed([bun, join(root, "bench", `${bench.name}.ts`)]);
  collect([bench], exitCode, stdout, bench.name);
}

const lab = selected.filter((b) => b.where === "lab");
if (lab.length > 0) {
  console.log(`\n=== ${lab.map((b) => b.name).join(", ")} (kernel lab guest) ===`);
  const availability = labAvailability();
  if (!availability.ok) problems.push(`the kernel lab cannot run here (${availability.reason}): ${lab.map((b) => b.name).join(", ")} did not run`);
  else {
    // Each lab bench runs even when one before it failed; the guest's status is then the last failure's.
    const script = `status=0; ${lab.map((b) => `${bun} ${join(root, "bench", `${b.name}.ts`)} || status=$?`).join("; ")}; exit $status`;
    const launch = [bun, join(root, "tests/lab/launch.ts"), "--timeout", "3600", "--", "sh", "-c", script];
    // The guest's vCPUs are threads of qemu, a child of this process: other work on the host slows them down unseen.
    const meter = startLoadMeter();
    const { exitCode, stdout } = await runEchoed(launch, { LBCTL_BIN: join(root, "build/lbctl") });
    const { othersPct, loaded } = meter();
    console.log(loadLine(othersPct));
    collect(lab, exitCode, stdout, "the kernel lab run", loaded);
  }
}

if (fresh.length > 0) {
  const earlier = existsSync(resultsFile) ? parseResultsFile(readFileSync(resultsFile, "utf8")) : [];
  const merged = orderResults(mergeResults(earlier, fresh), BENCHES.map((b) => b.name));
  writeFileAtomic(resultsFile, formatResultsFile(merged));
}

const missed = fresh.filter((r) => !r.ok);
console.log(`\n=== summary: ${fresh.length} figures from ${selected.length} benches, ${missed.length} targets missed ===`);
for (const r of missed) console.log(`MISSED ${r.id} ${r.name}: ${r.measured} (target ${r.target})`);
for (const problem of problems) console.log(`FAILED ${problem}`);
if (fresh.length > 0) console.log(`Results in ${resultsFile}; bun bench/summary.ts rewrites the table of docs/performance.md from them.`);
if (missed.length > 0 && noFail) console.log("--no-fail: missed targets do not change the exit status");
process.exit(runExitStatus(fresh, problems, noFail));
