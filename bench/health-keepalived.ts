/**
 * P4 against its peer, in the kernel lab guest: the CPU lbctl's health checks need for N TCP targets probed every
 * second, divided by the CPU keepalived's checker needs for the same N real servers with TCP_CHECK and
 * `delay_loop 1`. Target ≤ 1.0. keepalived's checker refuses to start without IPVS (it programs its virtual servers
 * first), and the host's kernel has none: hence the guest. The guest is emulated, so absolute CPU figures there are
 * inflated; the two tools run alternately in the same guest run (lbctl, keepalived, keepalived, lbctl, ...) and only
 * their ratio is the result.
 *
 *   bun bench/health-keepalived.ts [--targets 50] [--seconds 20] [--rounds 4] [--listeners accept|defer]
 *                                  [--engine native|bun]
 *
 * `--engine bun` runs lbctl's TCP check on its Bun.connect fall-back instead of the native prober.
 *
 * N is 50 by default, not P4's 10,000: on the loaded development host (2 cores, ~7 agents) the emulated guest
 * carried only about 100 loopback connections a second, whichever tool made them (2026-12-03, same guest runs: with
 * 10,000 targets keepalived made 91-490 a second, lbctl 125-286; with 1,000, keepalived 59-99, lbctl 97). The CPU of
 * a tool that cannot keep up says nothing about its cost, so a round in which lbctl made fewer than 90 % of the
 * connections due is reported as saturated and the ratio as missed; raise --targets where the guest is faster.
 *
 * The ratio is of CPU per connection made: keepalived schedules a real server's next check `delay_loop` after the
 * last one ends, so where connections are slow (the guest) it makes fewer than one a second per target, while lbctl
 * keeps its fixed schedule. Both CPU shares and both rates are printed too.
 *
 * Both probe the same listeners of bench/health-scheduler.ts (separate processes, not counted). By default these
 * never accept (TCP_DEFER_ACCEPT, the kernel answers alone), so they take no vCPU time from the tool measured in a
 * guest of two emulated vCPUs; `--listeners accept` uses ordinary accepting listeners, which cost the guest a Bun
 * process' wake-up per connection. lbctl closes its probes with a reset, keepalived with a FIN.
 * lbctl runs its real monitor, scheduler and TCP check in a process of its own; keepalived runs with `--check` only
 * (parent and checker child both counted). Each tool's window starts once it is warm: lbctl after its first interval,
 * keepalived once every real server is in the kernel's table (`alpha`: a real server enters only after a successful
 * check). The guest's TCP ActiveOpens counter, read around each window, is an independent count of the probes made.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTcpChecker, type TcpEngine } from "../src/health/checks/tcp.ts";
import { HealthMonitor } from "../src/health/monitor.ts";
import { healthTargets } from "../src/health/targets.ts";
import { ADDRESSES, BASE_PORT, benchConfig, parseArgs, startListeners } from "./health-scheduler.ts";
import { median, processTicks, report, row, TICKS_PER_SECOND } from "./support.ts";
import { readLines } from "../tests/lab/support/lines.ts";

const ON_TIME_MS = 50;
const INTERVAL_MS = 1000;
const VIP = "10.255.0.1";
/**
 * Long enough for the emulated guest's JIT to settle (compiling the hot path is costly under emulation, and at a low
 * probe rate it happens late): steady state is what is compared.
 */
const LBCTL_WARMUP_MS = 45_000;

const args = parseArgs(process.argv.slice(2));
if (args.role === "lbctl") await runLbctl(Number(args.targets), args.engine === "bun" ? "bun" : undefined);
else await main();

interface Window {
  cpuPct: number;
  connectsPerSecond: number;
  /** lbctl only: probes finished ok and probes started ≤ 50 ms late, over those it scheduled in the window. */
  okPct?: number;
  onTimePct?: number;
  /** lbctl only: the TCP check's prober (tcp.ts). */
  engine?: TcpEngine;
  /** lbctl only: the scheduler's timer wake-ups a second. */
  wakeUpsPerSecond?: number;
}

async function main(): Promise<void> {
  const targetCount = Number(args.targets ?? 50);
  const seconds = Number(args.seconds ?? 20);
  // Four rounds (two ABBA pairs): one round's ratio moves by half its value with the host's load.
  const rounds = Number(args.rounds ?? 4);
  requirePeer();
  const listenerMode = args.listeners ?? "defer";
  if (listenerMode !== "accept" && listenerMode !== "defer") throw new Error("--listeners is accept or defer");
  const listeners = await startListeners(targetCount, listenerMode);
  const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-keepalived-"));
  const lbctl: Window[] = [];
  const keepalived: Window[] = [];
  let idle: Window | undefined;
  let floor: Window | undefined;
  try {
    writeFileSync(join(dir, "keepalived.conf"), keepalivedConfig(targetCount));
    // The same process with nothing to probe: the runtime's own share, which emulation inflates most.
    idle = await measureLbctl(0, seconds);
    process.stderr.write(`  lbctl with no targets: ${idle.cpuPct.toFixed(1)} % CPU\n`);
    floor = await measureFloor(targetCount, seconds);
    process.stderr.write(`  bare Bun.connect at the same rate: ${floor.cpuPct.toFixed(1)} % CPU, ${floor.connectsPerSecond.toFixed(0)} connects/s\n`);
    for (let round = 0; round < rounds; round++) {
      // ABBA order: a drift in the guest's speed during the run weighs on both tools alike.
      const order = round % 2 === 0 ? ["lbctl", "keepalived"] : ["keepalived", "lbctl"];
      for (const tool of order) {
        const window = tool === "lbctl" ? await measureLbctl(targetCount, seconds) : await measureKeepalived(targetCount, seconds, dir);
        (tool === "lbctl" ? lbctl : keepalived).push(window);
        process.stderr.write(`  round ${round + 1} ${tool}: ${window.cpuPct.toFixed(1)} % CPU, ${window.connectsPerSecond.toFixed(0)} connects/s\n`);
      }
    }
  } finally {
    for (const listener of listeners) listener.kill();
    rmSync(dir, { recursive: true, force: true });
  }

  // keepalived schedules a real server's next check delay_loop after the last one ends, so where checks are slow it
  // makes fewer than one a second per target while lbctl keeps its fixed schedule: CPU is compared per connection.
  const perProbe = (w: Window) => ((w.cpuPct / 100) * 1e6) / Math.max(1, w.connectsPerSecond);
  const ratios = lbctl.map((w, i) => perProbe(w) / perProbe(keepalived[i]!));
  const ratio = median(ratios);
  const shareRatios = lbctl.map((w, i) => w.cpuPct / keepalived[i]!.cpuPct);
  const due = (targetCount * 1000) / INTERVAL_MS;
  const saturated = lbctl.some((w) => w.connectsPerSecond < 0.9 * due);
  const verdict = saturated ? " (saturated: lbctl made < 90 % of the connections due, the ratio is void)" : "";
  const fmt = (ws: Window[]) => ws.map((w) => `${w.cpuPct.toFixed(1)} %`).join(", ");
  const rate = (ws: Window[]) => ws.map((w) => w.connectsPerSecond.toFixed(0)).join(", ");
  const lbctlOnTime = Math.min(...lbctl.map((w) => w.onTimePct ?? 0));
  const lbctlOk = Math.min(...lbctl.map((w) => w.okPct ?? 0));

  console.log(`health checks against keepalived: ${targetCount} TCP targets every ${INTERVAL_MS} ms, ${rounds} rounds of ${seconds} s each, alternated (kernel lab guest, emulated)`);
  const engines = [...new Set(lbctl.map((w) => w.engine))].join(", ");
  console.log(`  lbctl (${engines} prober): CPU ${fmt(lbctl)} of one core; connects/s ${rate(lbctl)}; on time ≥ ${lbctlOnTime.toFixed(2)} %, ok ≥ ${lbctlOk.toFixed(2)} %; scheduler wake-ups/s ${lbctl.map((w) => (w.wakeUpsPerSecond ?? 0).toFixed(1)).join(", ")}`);
  console.log(`  lbctl's process with no targets: ${idle?.cpuPct.toFixed(1)} % of one core; the guest's clock source: ${clockSource()}`);
  console.log(`  bare Bun.connect at the same rate, nothing else: ${floor?.cpuPct.toFixed(1)} % of one core, ${floor?.connectsPerSecond.toFixed(0)} connects/s`);
  console.log(`  keepalived (checker + parent): CPU ${fmt(keepalived)} of one core; connects/s ${rate(keepalived)}`);
  const ok = ratio <= 1 && !saturated;
  console.log(`  CPU share lbctl / keepalived (at their own rates): ${shareRatios.map((r) => r.toFixed(2)).join(", ")}`);
  console.log(row("lbctl / keepalived CPU a connection (median)", `${ratio.toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(", ")})${verdict}`, "≤ 1.0", ok));

  const listenerNote = listenerMode === "accept" ? "accepting" : "never-accepting";
  const common = { id: "P4", what: `${targetCount.toLocaleString("en")} TCP targets at ${INTERVAL_MS} ms on loopback, ${listenerNote} listeners, against keepalived's TCP_CHECK, alternated`, where: "guest" as const, bench: "health-keepalived" };
  report({ ...common, name: "lbctl's CPU / keepalived's CPU for the same probes (per connection made), same guest run", target: "≤ 1.0", measured: `${ratio.toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; CPU shares at their own rates: ${shareRatios.map((r) => r.toFixed(2)).join(", ")}; guest clock source ${clockSource()})${verdict}`, value: ratio, unit: "ratio", ok });
  report({ ...common, name: "lbctl: CPU, per probe, probes started ≤ 50 ms late", measured: `${engines} prober: ${fmt(lbctl)} of one core, ${median(lbctl.map(perProbe)).toFixed(0)} µs a connect, ≥ ${lbctlOnTime.toFixed(1)} % on time, ${median(lbctl.map((w) => w.wakeUpsPerSecond ?? 0)).toFixed(1)} scheduler wake-ups a second`, value: median(lbctl.map((w) => w.cpuPct)), unit: "%", ok: true });
  report({ ...common, name: "lbctl's process with no targets (the runtime alone)", measured: `${idle!.cpuPct.toFixed(1)} % of one core`, value: idle!.cpuPct, unit: "%", ok: true });
  report({ ...common, name: "floor: bare Bun.connect at the same rate in a process of its own", measured: `${floor!.cpuPct.toFixed(1)} % of one core, ${perProbe(floor!).toFixed(0)} µs a connect`, value: floor!.cpuPct, unit: "%", ok: true });
  report({ ...common, name: "peer: keepalived 2.2.7 --check (TCP_CHECK, delay_loop 1)", measured: `${fmt(keepalived)} of one core, ${median(keepalived.map(perProbe)).toFixed(0)} µs a connect`, value: median(keepalived.map((w) => w.cpuPct)), unit: "%", ok: true });
  if (ratios.some((r) => !Number.isFinite(r))) throw new Error("keepalived used no measurable CPU: the comparison is void");
}

function requirePeer(): void {
  if (Bun.which("keepalived") === null) throw new Error("keepalived is not installed (tests/lab/packages.txt lists it)");
  try {
    readFileSync("/proc/net/ip_vs");
  } catch {
    throw new Error("No IPVS in this kernel: keepalived's checker cannot start; run this bench in the kernel lab (bun bench/run.ts health-keepalived)");
  }
}

/** 100 virtual servers, each with the same real servers as lbctl's targets (benchConfig). */
function keepalivedConfig(targetCount: number): string {
  const blocks = ["global_defs {\n  router_id lbctl_bench\n}\n"];
  for (let s = 0; s * ADDRESSES < targetCount; s++) {
    const port = BASE_PORT + s;
    const reals: string[] = [];
    for (let b = 0; b < ADDRESSES && s * ADDRESSES + b < targetCount; b++) {
      reals.push(`  real_server 127.0.1.${b + 1} ${port} {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`);
    }
    blocks.push(`virtual_server ${VIP} ${port} {\n  delay_loop ${INTERVAL_MS / 1000}\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n  alpha\n${reals.join("\n")}\n}\n`);
  }
  return blocks.join("\n");
}

/** The guest's count of TCP connections opened (ActiveOpens): only the tool under test opens any. */
function activeOpens(): number {
  const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) => l.startsWith("Tcp:"));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf("ActiveOpens")]);
}

/** CPU of `pids` and connects made during `seconds`. */
async function window(pids: number[], seconds: number): Promise<{ cpuPct: number; connectsPerSecond: number }> {
  const ticks = processTicks(pids);
  const opens = activeOpens();
  const started = performance.now();
  await Bun.sleep(seconds * 1000);
  const wall = (performance.now() - started) / 1000;
  return { cpuPct: ((processTicks(pids) - ticks) / TICKS_PER_SECOND / wall) * 100, connectsPerSecond: (activeOpens() - opens) / wall };
}

async function measureKeepalived(targetCount: number, seconds: number, dir: string): Promise<Window> {
  const checkerPid = join(dir, "checkers.pid");
  rmSync(checkerPid, { force: true });
  const proc = Bun.spawn(["keepalived", "--dont-fork", "--check", "--log-console", "--no-syslog", "-f", join(dir, "keepalived.conf"), "-p", join(dir, "keepalived.pid"), "-c", checkerPid], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const log = new Response(proc.stderr).text();
  try {
    // Warm: every real server passed a check and is in the kernel's table.
    const deadline = performance.now() + 300_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`keepalived exited ${proc.exitCode} during warm-up: ${(await log).slice(-2000)}`);
      if (destinations() >= targetCount) break;
      if (performance.now() > deadline) throw new Error(`keepalived: ${destinations()} of ${targetCount} real servers up after 300 s`);
      await Bun.sleep(1000);
    }
    await Bun.sleep(5000);
    const pids = [proc.pid, Number(readFileSync(checkerPid, "utf8").trim())];
    const measured = await window(pids, seconds);
    // Still all up at the end: the checks kept succeeding through the window.
    const up = destinations();
    if (up < targetCount) throw new Error(`keepalived: ${up} of ${targetCount} real servers up at the end of the window`);
    return measured;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** The floor role of bench/health-scheduler.ts (bare Bun.connect, same rate, same listeners), measured from here. */
async function measureFloor(targetCount: number, seconds: number): Promise<Window> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "health-scheduler.ts"), "--role", "floor", "--targets", `${targetCount}`, "--interval", `${INTERVAL_MS}`, "--seconds", `${LBCTL_WARMUP_MS / 1000 + seconds + 10}`], {
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    await Bun.sleep(LBCTL_WARMUP_MS);
    return await window([proc.pid], seconds);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** Emulated guests often run on a clock source each read of which traps to the emulator: it weighs on a runtime. */
function clockSource(): string {
  try {
    return readFileSync("/sys/devices/system/clocksource/clocksource0/current_clocksource", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/**
 * keepalived's destinations in the kernel's IPVS table, read with ipvsadm (independent of both tools); the benches
 * before this one in the same guest may have left services of their own.
 */
function destinations(): number {
  const out = Bun.spawnSync(["ipvsadm", "-Sn"], { stdout: "pipe", stderr: "pipe" });
  if (out.exitCode !== 0) throw new Error(`ipvsadm -Sn failed: ${out.stderr.toString()}`);
  return out.stdout.toString().split("\n").filter((l) => l.startsWith(`-a -t ${VIP}:`)).length;
}

async function measureLbctl(targetCount: number, seconds: number): Promise<Window> {
  const engine = args.engine === "bun" ? ["--engine", "bun"] : [];
  const proc = Bun.spawn([process.execPath, import.meta.path, "--role", "lbctl", "--targets", `${targetCount}`, ...engine], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = readLines(proc.stdout);
  try {
    const first = await lines.next();
    const ready = /^ready (native|bun)$/.exec(first.value ?? "");
    if (ready === null) throw new Error(`the lbctl prober did not start (${first.value ?? "no output"})`);
    const engineUsed = ready[1] as TcpEngine;
    await Bun.sleep(LBCTL_WARMUP_MS);
    const measured = await window([proc.pid], seconds);
    // Counts of the probes the child scheduled in the window (it learns the window from its stdin).
    proc.stdin.write("end\n");
    proc.stdin.flush();
    const counts = await lines.next();
    const { scheduled, onTime, ok, wakeUpsPerSecond } = JSON.parse(counts.value ?? "{}") as { scheduled: number; onTime: number; ok: number; wakeUpsPerSecond: number };
    if (targetCount > 0 && !scheduled) throw new Error("the lbctl prober counted no probes");
    return { ...measured, engine: engineUsed, wakeUpsPerSecond, onTimePct: scheduled ? (onTime / scheduled) * 100 : 0, okPct: scheduled ? (ok / scheduled) * 100 : 0 };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/**
 * The lbctl side, in its own process: the monitor probes every target from `ready` on. The probes scheduled in the
 * whole intervals between the end of the warm-up and the first line on stdin are counted (whenever they finish); the
 * counts then go out on stdout. Each target is due once an interval, so targets × intervals were scheduled, whatever
 * their phases (probes start in batches, one per phase slot: a span cut mid-interval would count a batch in or out).
 */
async function runLbctl(targetCount: number, engine: TcpEngine | undefined): Promise<void> {
  let windowStart = Number.POSITIVE_INFINITY;
  // Probes on time and ok, by the interval of the window they were due in (counters: nothing allocated per probe).
  const MAX_INTERVALS = 3600;
  const onTimeIn = new Uint32Array(MAX_INTERVALS);
  const okIn = new Uint32Array(MAX_INTERVALS);
  const tcp = createTcpChecker({ engine });
  const monitor = new HealthMonitor({
    checkers: (type) => (type === "tcp" ? tcp : undefined),
    listener: {
      probe(event) {
        if (event.scheduledAt < windowStart) return;
        const index = Math.floor((event.scheduledAt - windowStart) / INTERVAL_MS);
        if (index >= MAX_INTERVALS) return;
        if (event.startedAt - event.scheduledAt <= ON_TIME_MS) onTimeIn[index]!++;
        if (event.result.ok) okIn[index]!++;
      },
    },
  });
  monitor.sync(healthTargets(benchConfig(targetCount, INTERVAL_MS)));
  process.stdout.write(`ready ${tcp.engine}\n`);
  // The parent starts its window a warm-up after `ready`; this process counts from the same point (approximately:
  // the share is over the probes due in the counted span, so a skew of a few ms changes nothing measurable).
  await Bun.sleep(LBCTL_WARMUP_MS);
  windowStart = performance.now();
  const wakeUpsBefore = monitor.stats().wakeUps;
  for await (const _ of Bun.stdin.stream()) break;
  const span = performance.now() - windowStart;
  const wakeUpsPerSecond = (monitor.stats().wakeUps - wakeUpsBefore) / (span / 1000);
  const intervals = Math.min(MAX_INTERVALS, Math.floor(span / INTERVAL_MS));
  // Probes scheduled before the end may still be running: they count once they finish.
  await Bun.sleep(1500);
  const scheduled = targetCount * intervals;
  const sum = (counts: Uint32Array) => counts.subarray(0, intervals).reduce((a, b) => a + b, 0);
  const onTime = sum(onTimeIn);
  const ok = sum(okIn);
  await Bun.write(Bun.stdout, `${JSON.stringify({ scheduled, onTime, ok, wakeUpsPerSecond })}\n`);
  await monitor.stop();
  process.exit(0);
}
