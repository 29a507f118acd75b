/**
 * `npm test`: builds lbctl, runs the unit tests on the host (the CLI ones against the built binary), then the
 * kernel-lab suite inside one guest boot, and ends with one line `N passed, N failed`.
 *
 * Outside CI a lab that cannot run (not root, no qemu) is skipped loudly; with CI=true it is a failure.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bun = process.execPath;
const inCi = process.env.CI === "true" || process.env.CI === "1";

interface Tally {
  passed: number;
  failed: number;
}

const total: Tally = { passed: 0, failed: 0 };
const problems: string[] = [];

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

/** Adds the counts of a `bun test` summary (" 12 pass", " 0 fail"); a run that printed none counts as one failure. */
function tallyBunTest(suite: string, exitCode: number, output: string): void {
  const passed = [...output.matchAll(/^\s*(\d+) pass$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  const failed = [...output.matchAll(/^\s*(\d+) fail$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  total.passed += passed;
  total.failed += failed;
  if (passed + failed === 0 || (exitCode !== 0 && failed === 0)) {
    total.failed += 1;
    problems.push(`${suite}: exited with status ${exitCode} without a test summary`);
  } else if (failed > 0) {
    problems.push(`${suite}: ${failed} failed`);
  }
}

function banner(text: string): void {
  process.stdout.write(`\n=== ${text} ===\n`);
}

async function build(): Promise<boolean> {
  banner("build");
  const { exitCode } = await runEchoed([bun, "build.ts"]);
  if (exitCode !== 0) {
    total.failed += 1;
    problems.push("build: bun build.ts failed");
  }
  return exitCode === 0;
}

async function unitTests(built: boolean): Promise<void> {
  // The launcher's own unit tests (tests/lab/vm) need no kernel: they run here with the rest.
  banner("unit tests (host)");
  const env: Record<string, string> = built ? { LBCTL_BIN: join(root, "build/lbctl") } : {};
  const { exitCode, output } = await runEchoed([bun, "test", "--timeout=30000", "--path-ignore-patterns=tests/lab/*.test.ts", "tests/"], env);
  tallyBunTest("unit tests", exitCode, output);
}

async function labTests(): Promise<void> {
  banner("kernel-lab tests (guest)");
  const { labAvailability } = await import("./lab/launch.ts");
  const availability = labAvailability();
  if (!availability.ok) {
    const message = `the kernel lab cannot run here: ${availability.reason}`;
    if (inCi) {
      total.failed += 1;
      problems.push(`${message} (CI=true: this is a failure)`);
      process.stderr.write(`FAIL: ${message}\n`);
    } else {
      process.stderr.write(
        `\n${"!".repeat(78)}\nSKIPPED: ${message}.\nThe IPVS tests did NOT run. Run as root after tests/lab/setup.sh to run them.\n${"!".repeat(78)}\n\n`,
      );
    }
    return;
  }
  const env: Record<string, string> = existsSync(join(root, "build/lbctl")) ? { LBCTL_BIN: join(root, "build/lbctl") } : {};
  const { exitCode, output } = await runEchoed([bun, "tests/lab/launch.ts", "--", bun, "test", "--timeout=180000", "--path-ignore-patterns=tests/lab/vm/**", "tests/lab"], env);
  tallyBunTest("kernel-lab tests", exitCode, output);
}

const started = performance.now();
const built = await build();
await unitTests(built);
if (!process.argv.includes("--no-lab")) await labTests();

const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(`\n${problems.map((p) => `problem: ${p}\n`).join("")}tests took ${seconds} s\n`);
process.stdout.write(`${total.passed} passed, ${total.failed} failed\n`);
process.exit(total.failed > 0 ? 1 : 0);
