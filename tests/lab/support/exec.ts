/** A helper command that failed; carries what an operator needs to see why. */
export class CommandError extends Error {
  readonly argv: string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(argv: string[], exitCode: number | null, stderr: string) {
    const status = exitCode === null ? "was killed (timeout?)" : `exited with ${exitCode}`;
    super(`${argv.join(" ")} ${status}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
    this.name = "CommandError";
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface RunOptions {
  /** Written to the command's stdin (default: nothing, stdin closed). */
  input?: string;
  /** Kill the command after this long; default 30 s (everything is slow under emulation). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Runs a command to completion and returns its stdout; throws CommandError unless it exits 0. */
export function run(argv: string[], options: RunOptions = {}): string {
  const result = Bun.spawnSync(argv, {
    stdin: options.input === undefined ? "ignore" : Buffer.from(options.input),
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) throw new CommandError(argv, result.exitCode, result.stderr.toString());
  return result.stdout.toString();
}

/** Like run, for cleanup steps: a failure (already gone, never created) is not an error. */
export function runQuietly(argv: string[]): void {
  Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore", timeout: DEFAULT_TIMEOUT_MS });
}
