/** Shared helpers for benchmarks: timing of whole processes, medians, CPU accounting, result lines. */

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { type BenchResult, formatResultLine } from "./results.ts";

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

/** Prints the machine-readable line of one figure (bench/results.ts), which bench/run.ts collects. */
export function report(result: BenchResult): void {
  console.log(formatResultLine(result));
}

/**
 * CPU ticks of the whole host outside idle and I/O wait (/proc/stat). With a process's own ticks it tells how much
 * other work ran during a measurement.
 */
export function hostBusyTicks(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/**
 * Waits until the machine is idle (under 10 % of its CPUs busy over 300 ms), at most `maxMs`; returns how long it
 * waited. A network namespace closed with 20,000 IPVS destinations is torn down by the kernel in the background, on
 * another CPU: two measurements compared with each other start only once that work is done, so neither pays for it.
 */
export async function settleCpus(maxMs = 15_000): Promise<number> {
  const cpus = Math.max(1, availableParallelism());
  const started = performance.now();
  while (performance.now() - started < maxMs) {
    const before = hostBusyTicks();
    await Bun.sleep(300);
    const busyShare = (hostBusyTicks() - before) / (0.3 * TICKS_PER_SECOND * cpus);
    if (busyShare < 0.1) break;
  }
  return performance.now() - started;
}

/** utime + stime of these processes, in ticks (USER_HZ, 100 a second on Linux). */
export function processTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

export const TICKS_PER_SECOND = 100;

/** Other processes' CPU, in % of one core, above which a host figure is marked as taken on a loaded machine. */
export const LOADED_HOST_PCT = 20;

/**
 * How much CPU other work on the host took while a measurement ran: start it before, call it after. This process
 * and its waited-for children (the processes it timed) are not "other".
 */
export function startLoadMeter(): () => { othersPct: number; loaded: boolean } {
  const ownTicks = () => {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  };
  const hostBefore = hostBusyTicks();
  const ownBefore = ownTicks();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const othersPct = Math.max(0, ((hostBusyTicks() - hostBefore - (ownTicks() - ownBefore)) / TICKS_PER_SECOND / seconds) * 100);
    return { othersPct, loaded: othersPct > LOADED_HOST_PCT };
  };
}

/** The line that says how busy the host was, printed by host benches under their figures. */
export function loadLine(othersPct: number): string {
  const note = othersPct > LOADED_HOST_PCT ? ": the host was busy, the figures above are doubtful" : "";
  return `INFO  CPU used by other processes of the host during the run: ${othersPct.toFixed(0)} % of one core${note}`;
}
