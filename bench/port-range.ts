/**
 * P4 (host): one UDP service of 60,000 ports × 4 backends (an RTP range) beside 100 TCP services × 50 ports × 4,
 * through every stage from config to plan: load and validate (in-process and `lbctl validate` as a process), the
 * desired state, and the plan against an empty kernel table and against one that already holds everything.
 * Each stage must be linear in ports × backends: the same stages at a quarter of the range must cost about a
 * quarter (the ratio is printed; a quadratic stage shows ~16).
 * Stages are timed in CPU time, best of BENCH_RUNS (default 5); the process figure is wall time, median.
 * Run: npm run bench (or bun bench/port-range.ts).
 *
 * With --kernel, inside the kernel lab guest (real IPVS, emulated CPU: only ratios mean much): `lbctl apply` of
 * the same config into an empty table and again with nothing to change, beside one `ipvsadm -Sn` of the result,
 * with the table checked line by line against the config. Run:
 *   bun tests/lab/launch.ts --timeout 3600 -- bun bench/port-range.ts --kernel
 */

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/model.ts";
import type { KernelServiceEntry } from "../src/ipvs/types.ts";
import { desiredServices, type DesiredService } from "../src/plan/desired.ts";
import { planChanges } from "../src/plan/diff.ts";
import { medianOf, report, row, startLoadMeter } from "./support.ts";

const root = join(import.meta.dir, "..");
const binary = join(root, "build/lbctl");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RANGE_PORTS = 60_000;
const VIP = "10.220.0.1";

function writeConfig(rangePorts: number, withWeb = true): { dir: string; main: string } {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-ports-"));
  const backends = (s: number) => Array.from({ length: 4 }, (_, b) => ({ address: `10.${30 + b}.${s >> 8}.${(s & 255) + 1}`, weight: 1 + b }));
  const rtp = { name: "rtp", protocol: "udp", ports: [`2000-${2000 + rangePorts - 1}`], backends: backends(200) };
  const web = Array.from({ length: withWeb ? 100 : 0 }, (_, s) => ({ name: `svc${s}`, ports: [`${10000 + s * 50}-${10000 + s * 50 + 49}`], backends: backends(s) }));
  const main = join(dir, "config.yaml");
  mkdirSync(join(dir, "config.d"));
  writeFileSync(main, stringify({ node: { name: "bench" }, network: { frontend: { vip: VIP } } }));
  writeFileSync(join(dir, "config.d/rtp.yaml"), stringify({ services: [rtp] }));
  writeFileSync(join(dir, "config.d/web.yaml"), stringify({ services: web }));
  return { dir, main };
}

/** CPU time of this process (other processes on a shared machine inflate wall time, not this). */
function timeIt<T>(work: () => T): { ms: number; result: T } {
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

if (process.argv.includes("--kernel")) {
  kernelBench();
  process.exit(0);
}

const meter = startLoadMeter();
stages(RANGE_PORTS / 4, false); // warm the JIT
const full = stages(RANGE_PORTS, true);
// The scaling check uses the range service alone, so that the fixed 100 × 50 part does not hide its growth.
const rangeOnly = stages(RANGE_PORTS, false);
const quarter = stages(RANGE_PORTS / 4, false);
const ratio = (name: keyof Stages) => rangeOnly[name] / quarter[name];

console.log(`port range (host, CPU time, best of ${RUNS} runs): ${RANGE_PORTS.toLocaleString("en")} UDP ports × 4 beside 100 × 50 × 4 TCP (${full.destinations.toLocaleString("en")} destinations)`);
const what = `one service of ${RANGE_PORTS.toLocaleString("en")} ports × 4 backends beside 100 services × 50 ports × 4 (host, CPU time, best of ${RUNS})`;
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
    const validate = medianOf(RUNS, [binary, "validate", "--quiet", "--config", main]);
    console.log(row("lbctl validate --quiet (process)", `${validate.toFixed(0)} ms median`, "≤ 1000 ms", validate <= 1000));
    report({ id: "C1", what, name: "lbctl validate --quiet, start to exit (process)", target: "≤ 1000 ms", measured: `${validate.toFixed(0)} ms median`, value: validate, unit: "ms", ok: validate <= 1000, where: "host", bench: "port-range", loaded: meter().loaded });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.log("MISS  lbctl validate --quiet (process): build/lbctl is missing (npm run build)");
}

function kernelBench(): void {
  if (!existsSync("/proc/net/ip_vs")) throw new Error("No IPVS here: run this inside the kernel lab (see the header)");
  const lbctl = process.env.LBCTL_BIN ?? binary;
  if (!existsSync(lbctl)) throw new Error(`${lbctl} is missing: run npm run build first`);
  const { dir, main } = writeConfig(RANGE_PORTS, true);
  writeFileSync(
    main,
    stringify({ node: { name: "bench" }, network: { frontend: { vip: VIP } }, system: { state_dir: join(dir, "state") }, daemon: { socket: join(dir, "lbctl.sock") } }),
  );
  const run = (command: string[]): { ms: number; stdout: string; output: string } => {
    const started = Bun.nanoseconds();
    const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
    const ms = (Bun.nanoseconds() - started) / 1e6;
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr.toString().slice(0, 2000)}`);
    const stdout = result.stdout.toString();
    return { ms, stdout, output: stdout + result.stderr.toString() };
  };
  try {
    run(["ipvsadm", "-C"]);
    const fill = run([lbctl, "apply", "--force", "--config", main]);
    const save = run(["ipvsadm", "-Sn"]);
    const lines = save.stdout.trim().split("\n");
    const services = lines.filter((line) => line.startsWith("-A ")).length;
    const destinations = lines.filter((line) => line.startsWith("-a ")).length;
    const expectedServices = RANGE_PORTS + 100 * 50;
    const table = new Set(lines);
    const last = 2000 + RANGE_PORTS - 1;
    const samples = [`-A -u ${VIP}:2000 -s wlc`, `-A -u ${VIP}:${last} -s wlc`, `-a -u ${VIP}:${last} -r 10.33.0.201:${last} -m -w 4`, `-a -t ${VIP}:14999 -r 10.30.0.100:14999 -m -w 1`];
    const missing = samples.filter((line) => !table.has(line));
    if (services !== expectedServices || destinations !== 4 * expectedServices || missing.length > 0) {
      throw new Error(`the kernel table does not match the config: ${services} services, ${destinations} destinations, missing ${JSON.stringify(missing)}`);
    }
    const noop = run([lbctl, "apply", "--debug", "--config", main]);
    const phases = [...noop.output.matchAll(/Phase (\w+) took ([\d.]+) ms/g)].map(([, phase, ms]) => `${phase} ${(Number(ms) / 1000).toFixed(1)} s`);
    run(["ipvsadm", "-C"]);
    console.log(`port range (kernel lab guest, wall time, one run): ${expectedServices.toLocaleString("en")} virtual services × 4`);
    console.log(row("lbctl apply, empty table → full", `${(fill.ms / 1000).toFixed(1)} s`, "-", true));
    console.log(row("ipvsadm -Sn of the full table", `${(save.ms / 1000).toFixed(1)} s`, "-", true));
    console.log(row("lbctl apply, nothing to change", `${(noop.ms / 1000).toFixed(1)} s`, "-", true));
    console.log(`      phases of that apply: ${phases.join(", ") || "(not printed)"}`);
    console.log(row("ratio no-op apply / ipvsadm -Sn", (noop.ms / save.ms).toFixed(2), "≤ 1.5 (as P2)", noop.ms / save.ms <= 1.5));
  } finally {
    Bun.spawnSync(["ipvsadm", "-C"]);
    rmSync(dir, { recursive: true, force: true });
  }
}
