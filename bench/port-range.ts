/**
 * C1 (host): one UDP service of 60,000 ports × 4 backends (an RTP range) beside 100 TCP services × 50 ports × 4,
 * through every stage from config to plan: load and validate (in-process and `lbctl validate` as a process), the
 * desired state, and the plan against an empty kernel table and against one that already holds everything.
 * Each stage must be linear in ports × backends: the same stages at a quarter of the range must cost about a
 * quarter (the ratio is printed; a quadratic stage shows ~16).
 * Stages are timed in CPU time, best of BENCH_RUNS (default 5); the process figure is wall time, median.
 * The same config in the kernel lab: bench/port-range-kernel.ts.
 * Run: npm run bench -- port-range (or bun bench/port-range.ts).
 */

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/model.ts";
import type { KernelServiceEntry } from "../src/ipvs/types.ts";
import { desiredServices, type DesiredService } from "../src/plan/desired.ts";
import { planChanges } from "../src/plan/diff.ts";
import { RANGE_PORTS, VIP, writePortRangeConfig as writeConfig } from "./port-range-config.ts";
import { median, medianOf, report, row, startLoadMeter } from "./support.ts";

const root = join(import.meta.dir, "..");
const binary = join(root, "build/lbctl");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** CPU time of this process (other processes on a shared machine inflate wall time, not this). */
function timeIt<T>(work: () => T): { ms: number; result: T } {
  // The garbage of earlier runs is collected first, not by this one: its collector's threads count in cpuUsage,
  // and a stage of 60,000 ports allocates enough to make a run's cost depend on what ran before it.
  Bun.gc(true);
  const before = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(before);
  return { ms: (used.user + used.system) / 1000, result };
}

/** The best of RUNS: noise only ever adds time. */
function bestMs<T>(work: () => T): { ms: number; result: T } {
  const runs = Array.from({ length: RUNS }, () => timeIt(work));
  return { ms: Math.min(...runs.map((run) => run.ms)), result: runs.at(-1)!.result };
}

function asKernel(desired: readonly DesiredService[]): KernelServiceEntry[] {
  return desired.map((service) => ({
    service: { ...service, fwmark: 0 },
    destinations: service.destinations.map((d) => ({ ...d, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 })),
  }));
}

interface Stages {
  load: number;
  desired: number;
  planEmpty: number;
  planFull: number;
  destinations: number;
}

function stages(rangePorts: number, withWeb: boolean): Stages {
  const { dir, main } = writeConfig(rangePorts, withWeb);
  try {
    const load = bestMs(() => loadConfig(main, { env: {} }));
    if (!load.result.ok) throw new Error(`the benchmark config is invalid: ${JSON.stringify(load.result.issues.slice(0, 3))}`);
    const config: Config = load.result.config;
    const desired = bestMs(() => desiredServices(config));
    const kernel = asKernel(desired.result);
    const isManagedVip = (address: string) => address === VIP;
    const planEmpty = bestMs(() => planChanges(desired.result, [], { isManagedVip }));
    const planFull = bestMs(() => planChanges(desired.result, kernel, { isManagedVip }));
    if (planFull.result.changes.length !== 0) throw new Error(`a full kernel should need no change, got ${planFull.result.changes.length}`);
    const destinations = desired.result.reduce((sum, service) => sum + service.destinations.length, 0);
    return { load: load.ms, desired: desired.ms, planEmpty: planEmpty.ms, planFull: planFull.ms, destinations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const meter = startLoadMeter();
stages(RANGE_PORTS / 4, false); // warm the JIT
const full = stages(RANGE_PORTS, true);
// The scaling check uses the range service alone, so that the fixed 100 × 50 part does not hide its growth.
const rangeOnly = stages(RANGE_PORTS, false);
const quarter = stages(RANGE_PORTS / 4, false);
const ratio = (name: keyof Stages) => rangeOnly[name] / quarter[name];

console.log(`port range (host, CPU time, best of ${RUNS} runs): ${RANGE_PORTS.toLocaleString("en")} UDP ports × 4 beside 100 × 50 × 4 TCP (${full.destinations.toLocaleString("en")} destinations)`);
const what = `one service of ${RANGE_PORTS.toLocaleString("en")} ports × 4 backends beside 100 services × 50 ports × 4 (CPU time, best of ${RUNS})`;
const stage = (name: string, key: Exclude<keyof Stages, "destinations">, target: number) => {
  const measured = `${full[key].toFixed(0)} ms (range alone ×${ratio(key).toFixed(1)} for 4× ports)`;
  const ok = full[key] <= target && ratio(key) < 8;
  console.log(row(name, measured, `≤ ${target} ms, ratio < 8`, ok));
  report({ id: "C1", what, name, target: `≤ ${target} ms, ×4 ports → ×< 8`, measured, value: full[key], unit: "ms", ok, where: "host", bench: "port-range", loaded: meter().loaded });
};
stage("load + validate (in-process)", "load", 1000);
stage("desired state", "desired", 1000);
stage("plan against an empty kernel", "planEmpty", 2000);
stage("plan against a full kernel (no change)", "planFull", 1000);
if (existsSync(binary)) {
  const { dir, main } = writeConfig(RANGE_PORTS);
  try {
    const command = [binary, "validate", "--quiet", "--config", main];
    const validate = medianOf(RUNS, command);
    // Its CPU time beside: on a loaded host the wall time is mostly waiting for a core.
    const cpu = median(
      Array.from({ length: RUNS }, () => {
        const { user, system } = Bun.spawnSync(command, { stdout: "ignore", stderr: "ignore" }).resourceUsage.cpuTime;
        return Number(user + system) / 1000;
      }),
    );
    const measured = `${validate.toFixed(0)} ms median (${cpu.toFixed(0)} ms of CPU)`;
    console.log(row("lbctl validate --quiet (process)", measured, "≤ 1000 ms", validate <= 1000));
    report({ id: "C1", what, name: "lbctl validate --quiet, start to exit (process)", target: "≤ 1000 ms", measured, value: validate, unit: "ms", ok: validate <= 1000, where: "host", bench: "port-range", loaded: meter().loaded });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.log("MISS  lbctl validate --quiet (process): build/lbctl is missing (npm run build)");
}
