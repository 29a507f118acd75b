/**
 * Where one `lbctl apply --debug` spent its time, read from its debug lines ("Start-up took 812.3 ms", "Config loaded
 * in 40.1 ms", "Phase read took 901.0 ms", ...); "finish" is the managed-VIP and drain records and the report after
 * the kernel work; "other" is what the process's wall time leaves (the runtime's start before any code, exit).
 */

import { median } from "./support.ts";

export const PHASES = ["start-up", "config", "open", "read", "desired", "plan", "execute", "finish"] as const;
export type Phase = (typeof PHASES)[number];
export type ApplyBreakdown = Partial<Record<Phase, number>>;

const PATTERNS: Array<[Phase, RegExp]> = [
  ["start-up", /Start-up took ([\d.]+) ms/],
  ["config", /Config loaded in ([\d.]+) ms/],
  ["open", /Phase open took ([\d.]+) ms/],
  ["read", /Phase read took ([\d.]+) ms/],
  ["desired", /Phase desired took ([\d.]+) ms/],
  ["plan", /Phase plan took ([\d.]+) ms/],
  ["execute", /Phase execute took ([\d.]+) ms/],
  ["finish", /Phase finish took ([\d.]+) ms/],
];

/** The phases one run printed; throws when start-up, config or read is missing (not a debug run of apply). */
export function parseApplyDebug(output: string): ApplyBreakdown {
  const breakdown: ApplyBreakdown = {};
  for (const [phase, pattern] of PATTERNS) {
    const match = pattern.exec(output);
    if (match) breakdown[phase] = Number(match[1]);
  }
  for (const phase of ["start-up", "config", "read"] as const) {
    if (breakdown[phase] === undefined) throw new Error(`lbctl apply --debug printed no ${phase} time:\n${output.slice(0, 2000)}`);
  }
  return breakdown;
}

/** The median of each phase over runs (absent phases left out), and "other": the median wall time minus their sum. */
export function medianBreakdown(runs: readonly ApplyBreakdown[], wallMs: number): ApplyBreakdown & { other: number } {
  const result: ApplyBreakdown = {};
  for (const phase of PHASES) {
    const values = runs.map((run) => run[phase]).filter((v): v is number => v !== undefined);
    if (values.length > 0) result[phase] = median(values);
  }
  const accounted = PHASES.reduce((sum, phase) => sum + (result[phase] ?? 0), 0);
  return { ...result, other: Math.max(0, wallMs - accounted) };
}

export function formatBreakdown(breakdown: ApplyBreakdown & { other?: number }): string {
  const parts: string[] = [];
  for (const phase of [...PHASES, "other"] as const) {
    const ms = breakdown[phase as Phase] ?? (phase === "other" ? breakdown.other : undefined);
    if (ms !== undefined) parts.push(`${phase} ${ms.toFixed(0)}`);
  }
  return `${parts.join(", ")} ms`;
}
