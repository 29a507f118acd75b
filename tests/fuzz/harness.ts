/**
 * The fuzzing loop: take a seed config, mutate one of its files, write the tree to a scratch folder, and run
 * `validate --json` on it in-process (loadConfig + the command's own report) and, every `binaryEvery` inputs, as
 * the built binary; check the properties (properties.ts) and keep every failing input for replay.
 */

import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { exitCodeOf, jsonReport } from "../../src/cli/validate.ts";
import { loadSeeds, type Seed } from "./corpus.ts";
import { mutate } from "./mutators.ts";
import { seededRandom } from "./prng.ts";
import { MEMORY_LIMIT_BYTES, type Report, reportProblems, TIME_LIMIT_MS } from "./properties.ts";

export interface FuzzOptions {
  count: number;
  seed: number;
  /** The lbctl command line (binary, or bun + main.ts); undefined runs in-process only. */
  binary?: string[];
  /** Run the binary on every n-th input (1: every input). */
  binaryEvery: number;
  /** Scratch folder for the inputs; failing inputs are copied to `findings/` inside it. */
  workDir: string;
  /** Told of progress every so often. */
  progress?: (done: number, failures: number) => void;
}

export interface Finding {
  index: number;
  seedName: string;
  mutations: string[];
  target: "in-process" | "binary";
  problems: string[];
  /** Where the input was kept. */
  saved: string;
}

export interface FuzzSummary {
  seed: number;
  inputs: number;
  binaryRuns: number;
  verdicts: { valid: number; invalid: number; unreadable: number };
  slowestMs: { inProcess: number; binary: number };
  maxRssBytes: { inProcess: number; binary: number };
  findings: Finding[];
}

interface Case {
  seed: Seed;
  files: Map<string, string>;
  mutations: string[];
}

function makeCase(seeds: readonly Seed[], donors: readonly string[], random: ReturnType<typeof seededRandom>): Case {
  const seed = random.pick(seeds);
  const files = new Map(seed.files);
  const target = random.pick([...files.keys()]);
  const { text, applied } = mutate(files.get(target)!, random, donors);
  files.set(target, text);
  return { seed, files, mutations: applied.map((name) => `${target}: ${name}`) };
}

function writeCase(dir: string, files: ReadonlyMap<string, string>): Map<string, number> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "config.d"), { recursive: true });
  const lines = new Map<string, number>();
  for (const [relative, text] of files) {
    const path = join(dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    lines.set(path, text.split("\n").length);
  }
  return lines;
}

function envOf(seed: Seed): Record<string, string> {
  return { NO_COLOR: "1", HOME: "/nonexistent-lbctl-fuzz-home", ...seed.env };
}

interface Outcome {
  exitCode: number;
  report?: Report;
  problems: string[];
  ms: number;
  rss: number;
}

/**
 * Time is CPU time (user + system), not wall time: the machines that run this are shared, and a busy neighbour
 * must not turn into a finding. A hang still shows: the binary is killed after BINARY_KILL_MS of wall time.
 */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function runInProcess(main: string, env: Record<string, string>, lines: ReadonlyMap<string, number>): Outcome {
  const started = process.cpuUsage();
  let result;
  try {
    result = loadConfig(main, { env });
  } catch (error) {
    const ms = cpuMsSince(started);
    return { exitCode: -1, problems: [`loadConfig threw: ${error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error)}`], ms, rss: process.memoryUsage().rss };
  }
  const ms = cpuMsSince(started);
  const exitCode = exitCodeOf(result);
  const problems: string[] = [];
  let report: Report | undefined;
  try {
    report = JSON.parse(JSON.stringify(jsonReport(result))) as Report;
    problems.push(...reportProblems(exitCode, report, lines));
  } catch (error) {
    problems.push(`the report is not JSON: ${(error as Error).message}`);
  }
  if (ms > TIME_LIMIT_MS) problems.push(`took ${Math.round(ms)} ms (limit ${TIME_LIMIT_MS})`);
  const rss = process.memoryUsage().rss;
  if (rss > MEMORY_LIMIT_BYTES) problems.push(`resident memory ${Math.round(rss / 2 ** 20)} MiB (limit ${MEMORY_LIMIT_BYTES / 2 ** 20})`);
  return { exitCode, report, problems, ms, rss };
}

/** Kill a binary run after this long: a hang is a finding, not a stuck harness. */
const BINARY_KILL_MS = 10_000;

async function runBinary(command: string[], main: string, env: Record<string, string>, lines: ReadonlyMap<string, number>, startupMs: number): Promise<Outcome> {
  const started = performance.now();
  const proc = Bun.spawn([...command, "validate", "--json", "--config", main], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: BINARY_KILL_MS, killSignal: "SIGKILL" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const wallMs = performance.now() - started;
  const usage = proc.resourceUsage();
  // cpuTime is in microseconds.
  const ms = usage ? Number(usage.cpuTime.total) / 1000 : wallMs;
  const rss = usage?.maxRSS ?? 0;
  const problems: string[] = [];
  if (proc.signalCode) problems.push(`killed by ${proc.signalCode} after ${Math.round(wallMs)} ms`);
  if (stderr !== "") problems.push(`wrote on stderr: ${stderr.slice(0, 300)}`);
  let report: Report | undefined;
  try {
    report = JSON.parse(stdout) as Report;
    problems.push(...reportProblems(exitCode, report, lines));
  } catch {
    problems.push(`stdout is not one JSON object (${stdout.length} bytes, exit ${exitCode}): ${stdout.slice(0, 200)}`);
  }
  // The binary's own start-up (measured on an unmutated seed, in CPU time too) is not the validation's time.
  if (ms - startupMs > TIME_LIMIT_MS) problems.push(`took ${Math.round(ms)} ms, ${Math.round(ms - startupMs)} ms over start-up (limit ${TIME_LIMIT_MS})`);
  // Bun reports maxRSS in bytes (Node's is in kilobytes).
  const rssBytes = rss;
  if (rssBytes > MEMORY_LIMIT_BYTES) problems.push(`peak resident memory ${Math.round(rssBytes / 2 ** 20)} MiB (limit ${MEMORY_LIMIT_BYTES / 2 ** 20})`);
  return { exitCode, report, problems, ms, rss: rssBytes };
}

function disagreement(inProcess: Outcome, binary: Outcome): string[] {
  if (!inProcess.report || !binary.report) return [];
  if (inProcess.exitCode !== binary.exitCode) return [`exit ${binary.exitCode} from the binary, ${inProcess.exitCode} in-process`];
  if (JSON.stringify(inProcess.report.errors) !== JSON.stringify(binary.report.errors)) return ["the binary and the in-process run report different errors"];
  return [];
}

function save(workDir: string, caseDir: string, finding: Omit<Finding, "saved">, seed: number): string {
  const saved = join(workDir, "findings", `${seed}-${finding.index}-${finding.target}`);
  rmSync(saved, { recursive: true, force: true });
  cpSync(caseDir, saved, { recursive: true });
  writeFileSync(join(saved, "finding.json"), `${JSON.stringify({ ...finding, runSeed: seed }, null, 2)}\n`);
  return saved;
}

export async function fuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const random = seededRandom(options.seed);
  const seeds = loadSeeds();
  const donors = seeds.flatMap((seed) => [...seed.files.values()]);
  const caseDir = join(options.workDir, "case");
  const summary: FuzzSummary = {
    seed: options.seed,
    inputs: 0,
    binaryRuns: 0,
    verdicts: { valid: 0, invalid: 0, unreadable: 0 },
    slowestMs: { inProcess: 0, binary: 0 },
    maxRssBytes: { inProcess: 0, binary: 0 },
    findings: [],
  };
  const startupMs = options.binary ? await binaryStartup(options.binary, seeds[0]!, caseDir) : 0;
  for (let index = 0; index < options.count; index++) {
    const input = makeCase(seeds, donors, random);
    const lines = writeCase(caseDir, input.files);
    const main = join(caseDir, "config.yaml");
    const env = envOf(input.seed);
    const inProcess = runInProcess(main, env, lines);
    summary.inputs++;
    summary.slowestMs.inProcess = Math.max(summary.slowestMs.inProcess, inProcess.ms);
    summary.maxRssBytes.inProcess = Math.max(summary.maxRssBytes.inProcess, inProcess.rss);
    if (inProcess.exitCode === 0) summary.verdicts.valid++;
    else if (inProcess.exitCode === 1) summary.verdicts.invalid++;
    else if (inProcess.exitCode === 2) summary.verdicts.unreadable++;
    const record = (target: Finding["target"], problems: string[]) => {
      const finding = { index, seedName: input.seed.name, mutations: input.mutations, target, problems };
      summary.findings.push({ ...finding, saved: save(options.workDir, caseDir, finding, options.seed) });
    };
    if (inProcess.problems.length > 0) record("in-process", inProcess.problems);
    if (options.binary && index % options.binaryEvery === 0) {
      const binary = await runBinary(options.binary, main, env, lines, startupMs);
      summary.binaryRuns++;
      summary.slowestMs.binary = Math.max(summary.slowestMs.binary, binary.ms);
      summary.maxRssBytes.binary = Math.max(summary.maxRssBytes.binary, binary.rss);
      const problems = [...binary.problems, ...disagreement(inProcess, binary)];
      if (problems.length > 0) record("binary", problems);
    }
    if (options.progress && (index + 1) % 1000 === 0) options.progress(index + 1, summary.findings.length);
  }
  rmSync(caseDir, { recursive: true, force: true });
  return summary;
}

/** The binary's time to start and validate an unmutated seed: the best of three. */
async function binaryStartup(command: string[], seed: Seed, caseDir: string): Promise<number> {
  const lines = writeCase(caseDir, seed.files);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const outcome = await runBinary(command, join(caseDir, "config.yaml"), envOf(seed), lines, 0);
    best = Math.min(best, outcome.ms);
  }
  return best;
}

/** Re-runs one kept input (a findings/ folder) and returns the problems found now. */
export async function replay(saved: string, binary: string[] | undefined): Promise<{ inProcess: string[]; binary: string[] }> {
  const files = new Map<string, number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name !== "finding.json") files.set(path, readFileSync(path, "utf8").split("\n").length);
    }
  };
  walk(saved);
  const finding = JSON.parse(readFileSync(join(saved, "finding.json"), "utf8")) as { seedName: string };
  const seed = loadSeeds().find((s) => s.name === finding.seedName);
  const env = { NO_COLOR: "1", HOME: "/nonexistent-lbctl-fuzz-home", ...(seed?.env ?? {}) };
  const main = join(saved, "config.yaml");
  const inProcess = runInProcess(main, env, files).problems;
  const fromBinary = binary ? (await runBinary(binary, main, env, files, 0)).problems : [];
  return { inProcess, binary: fromBinary };
}
