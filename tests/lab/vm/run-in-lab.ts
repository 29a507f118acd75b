import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireLabHost } from "./availability.ts";
import { LabError, LabGuestError, LabTimeoutError } from "./errors.ts";
import { type GuestOutcome, superviseGuest } from "./guest-process.ts";
import { ensureInitramfs } from "./initramfs.ts";
import { guestEnvironment, renderJobScript, SETUP_ERROR_FILE } from "./job.ts";
import { ensureUncompressedKernel } from "./kernel-image.ts";
import { cacheDir } from "./paths.ts";
import { KERNEL_LOG_FILE } from "./qemu.ts";

export interface RunInLabOptions {
  /** Working directory of the command in the guest (the same path as on the host); default: process.cwd(). */
  cwd?: string;
  /** Added to (and overriding) the environment the command gets; see guestEnvironment. */
  env?: Record<string, string>;
  /** Stop the guest after this long; default 1800. */
  timeoutSeconds?: number;
  /** Show the kernel log and boot step timings on stderr. */
  verbose?: boolean;
}

export const DEFAULT_TIMEOUT_SECONDS = 1800;
const KERNEL_LOG_TAIL_LINES = 30;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

function log(message: string): void {
  process.stderr.write(`lbctl lab: ${message}\n`);
}

function readIfPresent(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

function printKernelLogTail(jobDir: string): void {
  const lines = (readIfPresent(join(jobDir, KERNEL_LOG_FILE)) ?? "").trimEnd().split("\n").filter(Boolean);
  if (lines.length === 0) return;
  log("last lines of the guest kernel log:");
  process.stderr.write(`${lines.slice(-KERNEL_LOG_TAIL_LINES).join("\n")}\n`);
}

/** The command's exit status from the job share, or the LabError that explains why there is none. */
function commandStatus(jobDir: string, outcome: GuestOutcome, timeoutSeconds: number): number {
  if (outcome.stoppedBy === "timeout") throw new LabTimeoutError(timeoutSeconds);
  if (outcome.stoppedBy) {
    throw new LabError(`Interrupted by ${outcome.stoppedBy}; the guest was stopped`, SIGNAL_EXIT[outcome.stoppedBy]);
  }
  const setupError = readIfPresent(join(jobDir, SETUP_ERROR_FILE));
  if (setupError) throw new LabGuestError(`Could not start the command: ${setupError.trim()}`);
  const status = readIfPresent(join(jobDir, "status"));
  if (status !== undefined && /^\d+\s*$/.test(status)) return Number.parseInt(status, 10);
  printKernelLogTail(jobDir);
  const when = outcome.commandStarted ? "while the command was running" : "before the command started";
  throw new LabGuestError(
    `The guest stopped ${when} without reporting an exit status (qemu exited with ${outcome.qemuExitCode}); ` +
      "run with --verbose to see its boot",
  );
}

/** Boots the guest once, runs the command, and returns its exit status; lab failures throw a LabError. */
async function bootAndRun(command: string[], options: RunInLabOptions): Promise<number> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0)) throw new RangeError(`The timeout must be a positive number of seconds, not ${timeoutSeconds}`);
  const verbose = options.verbose ?? false;
  const host = requireLabHost();
  mkdirSync(cacheDir, { recursive: true });
  const kernelImage = ensureUncompressedKernel(host.kernel, cacheDir);
  const initramfs = ensureInitramfs(host.kernel, cacheDir);

  const jobDir = mkdtempSync(join(tmpdir(), "lbctl-lab-"));
  try {
    const env = guestEnvironment(process.env, { extra: options.env, colors: process.stdout.isTTY === true });
    writeFileSync(join(jobDir, "job.sh"), renderJobScript({ command, cwd: options.cwd ?? process.cwd(), env }));
    const nonce = crypto.randomUUID().replaceAll("-", "");
    const stderrSocket = join(jobDir, "stderr.sock");
    const boot = { qemu: host.qemu, kernelImage, initramfs, jobDir, nonce, stderrSocket, verbose };
    const started = performance.now();
    const outcome = await superviseGuest(boot, {
      timeoutSeconds,
      onCommandStarted: (seconds) => verbose && log(`the command started ${seconds.toFixed(2)} s after qemu`),
    });
    const status = commandStatus(jobDir, outcome, timeoutSeconds);
    if (verbose) log(`the guest ran for ${((performance.now() - started) / 1000).toFixed(2)} s in all`);
    return status;
  } finally {
    rmSync(jobDir, { recursive: true, force: true });
  }
}

/**
 * Runs `command` as root inside a freshly booted guest whose kernel has IPVS, with the host's filesystem as its
 * root, and streams its stdout and stderr. Resolves with the command's exit status, or with a LAB_EXIT status
 * (after one sentence on stderr) when the lab could not run it: unavailable 2, timeout 124, guest failure 125.
 */
export async function runInLab(command: string[], options: RunInLabOptions = {}): Promise<number> {
  try {
    return await bootAndRun(command, options);
  } catch (error) {
    if (!(error instanceof LabError)) throw error;
    log(error.message);
    return error.exitCode;
  }
}
