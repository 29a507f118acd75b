/** Shared helpers for benchmarks: timing of whole processes and medians. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Wall time of one run of `command` from spawn to exit, in milliseconds. */
export function timeProcess(command: string[], env?: Record<string, string>): number {
  const started = Bun.nanoseconds();
  const result = Bun.spawnSync(command, { stdout: "ignore", stderr: "pipe", env: env ? { ...process.env, ...env } : process.env });
  const elapsed = (Bun.nanoseconds() - started) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr.toString().trim()}`);
  return elapsed;
}

export function medianOf(runs: number, command: string[], env?: Record<string, string>): number {
  timeProcess(command, env); // warm the page cache
  return median(Array.from({ length: runs }, () => timeProcess(command, env)));
}

export function row(name: string, value: string, target: string, ok: boolean): string {
  return `${ok ? "PASS" : "MISS"}  ${name.padEnd(44)} ${value.padEnd(28)} target ${target}`;
}
