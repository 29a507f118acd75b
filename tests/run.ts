/**
 * `npm test`: installs the Debian packages the tests need when some are missing (as root; tests/lab/packages.txt),
 * builds lbctl, runs the unit tests on the host (the CLI ones against the built binary), then the kernel-lab suite
 * inside one guest boot. Each suite's duration is printed, and the last line is `N passed, N failed, N skipped`.
 *
 * Outside CI, what cannot run here (not root, no qemu, a package missing) is skipped loudly and counted as skipped;
 * the lab counts one skip per test file, as its tests are not known without running it. With CI=true a lab that
 * cannot run, a package that cannot be installed and any skipped test are failures.
 */

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureHostPackages } from "./lab/vm/packages.ts";
import { summaryLine, tallyBunTest, type SuiteResult } from "./runner/summary.ts";

const root = join(import.meta.dir, "..");
const bun = process.execPath;
const inCi = process.env.CI === "true" || process.env.CI === "1";

/** Runs a command, echoing its output live, and returns its exit code and everything it printed. */
async function runEchoed(command: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; output: string }> {
  const proc = Bun.spawn(command, { cwd: root, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const chunks: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      sink.write(chunk);
      chunks.push(decoder.decode(chunk, { stream: true }));
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
  return { exitCode: await proc.exited, output: chunks.join("") };
}

const emptyResult = (): SuiteResult => ({ passed: 0, failed: 0, skipped: 0, skippedTests: [], problems: [] });

function failure(problem: string): SuiteResult {
  return { ...emptyResult(), failed: 1, problems: [problem] };
}

interface Step {
  name: string;
  seconds: number;
  result: SuiteResult;
}

/** Runs one step under a banner and prints how long it took (the test budget stays visible). */
async function step(name: string, body: () => Promise<SuiteResult> | SuiteResult): Promise<Step> {
  process.stdout.write(`\n=== ${name} ===\n`);
  const started = performance.now();
  const result = await body();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`=== ${name}: ${seconds.toFixed(1)} s ===\n`);
  return { name, seconds, result };
}

function packages(): SuiteResult {
  const outcome = ensureHostPackages({ inCi });
  if (outcome.ok) return emptyResult();
  // Outside CI the tests that need a missing package skip themselves (bun counts those); under CI it is a failure.
  return inCi ? failure(`packages: ${outcome.problem} (CI=true: this is a failure)`) : { ...emptyResult(), problems: [`packages (warning): ${outcome.problem}`] };
}

async function build(): Promise<SuiteResult> {
  const { exitCode } = await runEchoed([bun, "build.ts"]);
  return exitCode === 0 ? emptyResult() : failure("build: bun build.ts failed");
}

/** Paths given on the command line restrict the unit tests (`bun tests/run.ts --no-lab tests/runner`). */
const unitPaths = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));

async function unitTests(built: boolean): Promise<SuiteResult> {
  // The launcher's own unit tests (tests/lab/vm) need no kernel: they run here with the rest.
  const env: Record<string, string> = built ? { LBCTL_BIN: join(root, "build/lbctl") } : {};
  const paths = unitPaths.length > 0 ? unitPaths : ["tests/"];
  const { exitCode, output } = await runEchoed([bun, "test", "--timeout=30000", "--path-ignore-patterns=tests/lab/*.test.ts", ...paths], env);
  return tallyBunTest("unit tests", exitCode, output);
}

function labTestFiles(): string[] {
  return readdirSync(join(root, "tests/lab")).filter((name) => name.endsWith(".test.ts")).sort().map((name) => `tests/lab/${name}`);
}

/** The lab cannot run: a failure under CI, else one loud skip per lab test file. */
function labSkipped(reason: string, hint = "Run `npm test` as root to run them."): SuiteResult {
  const message = `the kernel lab cannot run here: ${reason}`;
  if (inCi) {
    process.stderr.write(`FAIL: ${message}\n`);
    return failure(`${message} (CI=true: this is a failure)`);
  }
  const files = labTestFiles();
  process.stderr.write(
    `\n${"!".repeat(78)}\nSKIPPED: ${message}.\nThe IPVS tests did NOT run (${files.length} files, counted as ${files.length} skipped). ${hint}\n${"!".repeat(78)}\n\n`,
  );
  return { ...emptyResult(), skipped: files.length, skippedTests: files.map((file) => `${file} (whole file: ${reason})`) };
}

async function labTests(): Promise<SuiteResult> {
  if (process.argv.includes("--no-lab")) return labSkipped("--no-lab was given", "Run without --no-lab to run them.");
  const { labAvailability } = await import("./lab/launch.ts");
  const availability = labAvailability();
  if (!availability.ok) return labSkipped(availability.reason);
  const env: Record<string, string> = existsSync(join(root, "build/lbctl")) ? { LBCTL_BIN: join(root, "build/lbctl") } : {};
  const { exitCode, output } = await runEchoed([bun, "tests/lab/launch.ts", "--", bun, "test", "--timeout=180000", "--path-ignore-patterns=tests/lab/vm/**", "tests/lab"], env);
  return tallyBunTest("kernel-lab tests", exitCode, output);
}

const started = performance.now();
const steps: Step[] = [];
steps.push(await step("Debian packages (tests/lab/packages.txt)", packages));
const built = await step("build", build);
steps.push(built);
steps.push(await step("unit tests (host)", () => unitTests(built.result.failed === 0)));
steps.push(await step("kernel-lab tests (guest)", labTests));

const total = { passed: 0, failed: 0, skipped: 0 };
const problems: string[] = [];
const skippedTests: string[] = [];
const failedTests: string[] = [];
const reasons: string[] = [];
for (const { result } of steps) {
  total.passed += result.passed;
  total.failed += result.failed;
  total.skipped += result.skipped;
  problems.push(...result.problems);
  skippedTests.push(...result.skippedTests);
  failedTests.push(...(result.failedTests ?? []));
  reasons.push(...(result.failureReasons ?? []));
}
if (inCi && total.skipped > 0) {
  total.failed += 1;
  problems.push(`CI=true: ${total.skipped} skipped, and a skip is a failure here (see the list above)`);
}

const durations = steps.map((s) => `${s.name.replace(/ \(.*\)$/, "")} ${s.seconds.toFixed(1)} s`).join(", ");
process.stdout.write(
  `\n${skippedTests.map((name) => `skipped: ${name}\n`).join("")}` +
    `${reasons.map((reason) => `why: ${reason.slice(0, 400)}\n`).join("")}` +
    `${failedTests.map((name) => `failed: ${name}\n`).join("")}` +
    `${problems.map((p) => `problem: ${p}\n`).join("")}` +
    `durations: ${durations}; total ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
    `${summaryLine(total)}\n`,
);
process.exit(total.failed > 0 ? 1 : 0);
