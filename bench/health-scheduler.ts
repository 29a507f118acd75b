/**
 * P4: 10,000 TCP health targets at a 1 s interval against loopback listeners, through the real monitor, scheduler and
 * TCP check. Targets: ≥ 99 % of the probes scheduled in the measured window start within 50 ms of their schedule
 * (a probe skipped or never started counts as late), the probing process below 50 % of one core, RSS ≤ 150 MB. Not
 * in CI. Run on an otherwise idle host:
 *
 *   bun bench/health-scheduler.ts [--targets 10000] [--seconds 40] [--interval 1000] [--listeners defer|accept]
 *                                 [--engine native|bun]
 *
 * The listeners (one socket per target, on 127.0.1.1-127.0.1.100, ports 20000 and up) run in separate processes so
 * their CPU is not counted. Loopback TCP still charges the kernel work of both ends to the connecting process: the
 * listener's SYN handling, child socket and wake-up run inside the prober's connect(). By default (`defer`) the
 * listening sockets use TCP_DEFER_ACCEPT and are never accepted from, so the listener's side ends at the SYN-ACK, as
 * close as loopback gets to a remote backend whose kernel work is its own; `accept` uses ordinary Bun.listen
 * listeners. Either way the bench also measures the floor: the same connection rate with bare Bun.connect calls and
 * nothing else, in a process of its own.
 */

import { dlopen, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import type { Config } from "../src/config/model.ts";
import { createTcpChecker } from "../src/health/checks/tcp.ts";
import { HealthMonitor } from "../src/health/monitor.ts";
import { DEFAULT_WAKE_QUANTUM_MS } from "../src/health/scheduler.ts";
import { healthTargets } from "../src/health/targets.ts";
import type { Checker, ProbeResult } from "../src/health/types.ts";
import { scheduleShare } from "./schedule.ts";
import { hostBusyTicks, LOADED_HOST_PCT, processTicks, report, row, TICKS_PER_SECOND } from "./support.ts";

export const ADDRESSES = 100;
export const BASE_PORT = 20_000;
const LISTENER_PROCESSES = 4;
const ON_TIME_MS = 50;
/** The floor's least time between wake-ups: DEFAULT_WAKE_QUANTUM_MS, as lbctl's scheduler. */
const FLOOR_QUANTUM_MS = DEFAULT_WAKE_QUANTUM_MS;

/** libc through FFI, for the listeners' sockets; loaded by the listener processes only. */
let libc: ReturnType<typeof loadLibc> | undefined;

const args = parseArgs(process.argv.slice(2));
// bench/health-keepalived.ts imports the listeners and the targets from here.
if (import.meta.main) {
  const role = args.role ?? "main";
  if (role === "listener") await listen(Number(args.shard), Number(args.shards), Number(args.targets), args.listeners ?? "defer");
  else if (role === "floor") await floor(Number(args.targets), Number(args.interval), Number(args.seconds));
  else if (role === "bookkeeping") await bookkeeping(Number(args.targets), Number(args.interval), Number(args.seconds));
  else await main();
}

async function main(): Promise<void> {
  const targetCount = Number(args.targets ?? 10_000);
  const intervalMs = Number(args.interval ?? 1000);
  const seconds = Number(args.seconds ?? 40);
  const warmupMs = intervalMs + 3000;
  ensureFdLimit(Math.ceil(targetCount / LISTENER_PROCESSES) + 2048);

  const listenerMode = args.listeners ?? "defer";
  if (listenerMode !== "defer" && listenerMode !== "accept") throw new Error("--listeners is defer or accept");
  const listeners = await startListeners(targetCount, listenerMode);
  try {
    const targets = healthTargets(benchConfig(targetCount, intervalMs));
    // Probes scheduled inside [windowStart, windowEnd) are counted, whenever they finish.
    let windowStart = Number.POSITIVE_INFINITY;
    let windowEnd = Number.POSITIVE_INFINITY;
    let started = 0;
    let onTime = 0;
    let ok = 0;
    const failures = new Map<string, number>();
    // Room for twice the probes due: on a busy host the measured window outlasts its nominal seconds.
    const lateness = new Float64Array(2 * (Math.ceil((targetCount * seconds * 1000) / intervalMs) + targetCount));
    // The TCP check's prober: native (the default, where libc can be bound) or Bun.connect, for a comparison.
    const tcp = createTcpChecker({ engine: args.engine === "bun" ? "bun" : undefined });
    const monitor = new HealthMonitor({
      checkers: (type) => (type === "tcp" ? tcp : undefined),
      listener: {
        probe(event) {
          if (event.scheduledAt < windowStart || event.scheduledAt >= windowEnd) return;
          const late = event.startedAt - event.scheduledAt;
          if (started < lateness.length) lateness[started] = late;
          started++;
          if (late <= ON_TIME_MS) onTime++;
          if (event.result.ok) ok++;
          else failures.set(event.result.reason, (failures.get(event.result.reason) ?? 0) + 1);
        },
      },
    });
    monitor.sync(targets);
    process.stderr.write(`  ${targets.length} targets running; warming up for ${warmupMs / 1000} s\n`);
    await Bun.sleep(warmupMs);

    const statsBefore = monitor.stats();
    const hostBefore = hostBusyTicks();
    const listenerPids = listeners.map((l) => l.pid);
    const proberBefore = processTicks([process.pid]);
    const listenersBefore = processTicks(listenerPids);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    // The probes counted are those scheduled in a whole number of intervals from here: each target is due exactly
    // once an interval, so that many are due in it whatever the targets' phases (probes start in batches, one per
    // phase slot, and a window cut mid-interval would count a whole batch in or out).
    const countMs = Math.max(1, Math.floor((seconds * 1000) / intervalMs)) * intervalMs;
    windowStart = wallBefore;
    windowEnd = wallBefore + countMs;
    let rssMax = 0;
    for (let s = 1; s <= seconds; s++) {
      await Bun.sleep(1000);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      if (s % 10 === 0) process.stderr.write(`  ... ${s} s, ${started} probes\n`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const statsAfter = monitor.stats();
    const asPct = (ticks: number) => (ticks / TICKS_PER_SECOND / (wall / 1000)) * 100;
    const listenersPct = asPct(processTicks(listenerPids) - listenersBefore);
    const othersPct = asPct(hostBusyTicks() - hostBefore) - listenersPct - asPct(processTicks([process.pid]) - proberBefore);
    // Probes scheduled before the window's end may still be running: they count once they finish.
    await Bun.sleep(Math.max(0, windowEnd - performance.now()) + Math.min(1000, intervalMs) + 500);
    await monitor.stop();

    const floorCpu = await measureFloor(targetCount, intervalMs);
    const ownUs = await measureBookkeeping(targetCount, intervalMs);

    const userPct = (cpu.user / 1000 / wall) * 100;
    const sysPct = (cpu.system / 1000 / wall) * 100;
    const sorted = lateness.subarray(0, Math.min(started, lateness.length)).sort();
    const pctile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const skipped = statsAfter.skippedBusy - statsBefore.skippedBusy + (statsAfter.skippedLate - statsBefore.skippedLate);
    const schedule = scheduleShare({ targets: targets.length, windowMs: countMs, intervalMs, finished: started, onTime, skipped });
    const onTimeShare = schedule.onTimePct;
    const rssMb = rssMax / 1024 / 1024;
    // CPU a connection, lbctl's (everything: scheduler, monitor, check) beside bare Bun.connect's at the same rate.
    const perProbeUs = started === 0 ? 0 : (((userPct + sysPct) / 100) * 1e6) / (started / (countMs / 1000));
    const floorUs = ((floorCpu.total / 100) * 1e6) / ((targetCount * 1000) / intervalMs);

    console.log(`health scheduler: ${targets.length} TCP targets (${tcp.engine} prober), interval ${intervalMs} ms, ${seconds} s measured after ${warmupMs / 1000} s warm-up`);
    console.log(`  listeners: ${LISTENER_PROCESSES} processes, ${targetCount} sockets on 127.0.1.1-127.0.1.${ADDRESSES}, ${listenerMode === "defer" ? "TCP_DEFER_ACCEPT, never accepted" : "Bun.listen, accepting"}`);
    console.log(
      `  probes: ${schedule.scheduled} scheduled in the window, ${started} finished (${schedule.finishedPct.toFixed(2)} %, ${(started / (countMs / 1000)).toFixed(0)}/s), ${skipped} skipped, ${schedule.missing} missing; ${ok} ok, ${started - ok} failed ${failures.size ? JSON.stringify(Object.fromEntries(failures)) : ""}`,
    );
    console.log(
      `  scheduler: skipped busy ${statsAfter.skippedBusy - statsBefore.skippedBusy}, skipped late ${statsAfter.skippedLate - statsBefore.skippedLate}, timed out ${statsAfter.timedOut - statsBefore.timedOut}, ${((statsAfter.wakeUps - statsBefore.wakeUps) / (wall / 1000)).toFixed(0)} timer wake-ups a second`,
    );
    console.log(`  lateness (start - schedule): p50 ${pctile(0.5).toFixed(2)} ms, p99 ${pctile(0.99).toFixed(2)} ms, p99.9 ${pctile(0.999).toFixed(2)} ms, max ${pctile(1).toFixed(2)} ms`);
    console.log(row("scheduled probes started ≤ 50 ms late", `${onTimeShare.toFixed(2)} %`, "≥ 99 %", onTimeShare >= 99));
    console.log(row("CPU of the probing process", `${(userPct + sysPct).toFixed(1)} % (user ${userPct.toFixed(1)}, sys ${sysPct.toFixed(1)})`, "< 50 % of one core", userPct + sysPct < 50));
    console.log(row("RSS of the probing process (max)", `${rssMb.toFixed(0)} MB`, "≤ 150 MB", rssMb <= 150));
    const loaded = othersPct > LOADED_HOST_PCT;
    const othersNote = loaded ? " (the host was busy: the figures above are not trustworthy)" : "";
    console.log(`INFO  CPU of the listener processes: ${listenersPct.toFixed(0)} % of one core; of other processes of the host: ${Math.max(0, othersPct).toFixed(0)} %${othersNote}`);
    console.log(`INFO  monitor + scheduler alone (a checker that answers at once, no sockets): ${ownUs.toFixed(2)} µs of CPU a probe`);
    console.log(
      `INFO  floor: bare Bun.connect at the same rate, nothing else: ${floorCpu.total.toFixed(1)} % (user ${floorCpu.user.toFixed(1)}, sys ${floorCpu.sys.toFixed(1)}), ${floorUs.toFixed(1)} µs a connect; lbctl: ${perProbeUs.toFixed(1)} µs a probe (${(perProbeUs / floorUs).toFixed(2)} × the floor)`,
    );

    const common = { id: "P4", what: `${targets.length.toLocaleString("en")} TCP targets at ${intervalMs} ms on loopback, ${listenerMode === "defer" ? "never-accepting" : "accepting"} listeners${tcp.engine === "bun" ? ", Bun.connect prober" : ""}`, where: "host" as const, bench: "health-scheduler", loaded };
    const pct = (value: number) => `${value.toFixed(1)} %`;
    report({ ...common, name: `probes started ≤ ${ON_TIME_MS} ms late, of the ${schedule.scheduled.toLocaleString("en")} scheduled`, target: "≥ 99 %", measured: `${onTimeShare.toFixed(2)} % (${skipped.toLocaleString("en")} skipped, ${schedule.missing.toLocaleString("en")} missing, p99 lateness ${pctile(0.99).toFixed(1)} ms)`, value: onTimeShare, unit: "%", ok: onTimeShare >= 99 });
    report({ ...common, name: "CPU of the probing process", target: "< 50 % of one core", measured: pct(userPct + sysPct), value: userPct + sysPct, unit: "%", ok: userPct + sysPct < 50 });
    report({ ...common, name: "RSS of the probing process (max)", target: "≤ 150 MB", measured: `${rssMb.toFixed(0)} MB`, value: rssMb, unit: "MB", ok: rssMb <= 150 });
    report({ ...common, name: "peer: bare Bun.connect at the same rate in a process of its own (the loopback floor)", measured: `${pct(floorCpu.total)} of one core`, value: floorCpu.total, unit: "%", ok: true });
    report({ ...common, name: "lbctl's bookkeeping alone: monitor and scheduler with a checker that answers at once, no sockets", measured: `${ownUs.toFixed(2)} µs of CPU a probe`, value: ownUs, unit: "µs", ok: true });
    report({ ...common, name: `lbctl's CPU a probe (${tcp.engine} prober, all included) beside the Bun.connect floor's a connect`, measured: `${perProbeUs.toFixed(1)} µs against ${floorUs.toFixed(1)} µs (${(perProbeUs / floorUs).toFixed(2)} × the floor)`, value: perProbeUs, unit: "µs", ok: true });
  } finally {
    for (const listener of listeners) listener.kill();
  }
}

/** 100 services, each on its own port, each with the same 100 loopback addresses as port-0 backends. */
export function benchConfig(targetCount: number, intervalMs: number): Pick<Config, "services"> {
  const perService = ADDRESSES;
  const services = Array.from({ length: Math.ceil(targetCount / perService) }, (_, s) => {
    const port = BASE_PORT + s;
    const count = Math.min(perService, targetCount - s * perService);
    return {
      name: `svc-${s}`,
      protocol: "tcp" as const,
      ports: [{ start: port, end: port }],
      port_ranges: [],
      scheduler: "wlc" as const,
      backends: Array.from({ length: count }, (_, b) => ({ address: `127.0.1.${b + 1}`, port: 0, weight: 1 })),
      health: { enabled: true, type: "tcp" as const, port: 0, interval_ms: intervalMs, timeout_ms: Math.min(1000, intervalMs - 1), fail_after: 3, recover_after: 2 },
      source: { file: "bench", index: s },
    };
  });
  return { services } as unknown as Pick<Config, "services">;
}

function endpointsOf(targetCount: number): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i < targetCount; i++) out.push([`127.0.1.${(i % ADDRESSES) + 1}`, BASE_PORT + Math.floor(i / ADDRESSES)]);
  return out;
}

export async function startListeners(targetCount: number, mode: string): Promise<Bun.Subprocess[]> {
  const procs = Array.from({ length: LISTENER_PROCESSES }, (_, shard) =>
    Bun.spawn([process.execPath, import.meta.path, "--role", "listener", "--listeners", mode, "--shard", `${shard}`, "--shards", `${LISTENER_PROCESSES}`, "--targets", `${targetCount}`], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  for (const proc of procs) {
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    if (!new TextDecoder().decode(value).startsWith("ready")) throw new Error("A listener process did not start");
  }
  return procs;
}

async function listen(shard: number, shards: number, targetCount: number, mode: string): Promise<void> {
  const mine = endpointsOf(targetCount).filter((_, i) => i % shards === shard);
  if (mode === "accept") {
    const handlers = { open() {}, data() {}, close() {}, error() {} };
    for (const [hostname, port] of mine) Bun.listen({ hostname, port, socket: handlers });
  } else {
    for (const [hostname, port] of mine) deferredListener(hostname, port);
  }
  process.stdout.write(`ready ${mine.length}\n`);
  // Block on stdin, which the bench holds open: no busy event loop, and an exit as soon as the bench goes away.
  for await (const _ of Bun.stdin.stream()) {
    // nothing is ever sent
  }
  process.exit(0);
}

/**
 * A listening socket with TCP_DEFER_ACCEPT that nobody accepts from: the kernel answers the SYN, drops the bare ACK
 * and forgets the half-open connection when the probe's reset arrives. The prober sees a complete handshake, and the
 * loopback work charged to it stops at what a remote backend would cost it.
 */
function deferredListener(hostname: string, port: number): void {
  libc ??= loadLibc();
  const fd = libc.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
  const on = new Int32Array([1]);
  const deferSeconds = new Int32Array([30]);
  libc.setsockopt(fd, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, ptr(on), 4);
  libc.setsockopt(fd, 6 /* IPPROTO_TCP */, 9 /* TCP_DEFER_ACCEPT */, ptr(deferSeconds), 4);
  const address = new Uint8Array(16);
  const view = new DataView(address.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  address.set(hostname.split(".").map(Number), 4);
  if (libc.bind(fd, ptr(address), 16) !== 0 || libc.listen(fd, 4096) !== 0) throw new Error(`Cannot listen on ${hostname}:${port}`);
}
function loadLibc() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    listen: { args: ["i32", "i32"], returns: "i32" },
    setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  }).symbols;
}

/** CPU of a separate process that only opens and resets connections at the bench's rate for 5 s (same listeners). */
async function measureFloor(targetCount: number, intervalMs: number): Promise<{ user: number; sys: number; total: number }> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--role", "floor", "--targets", `${targetCount}`, "--interval", `${intervalMs}`, "--seconds", "5"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  return JSON.parse(text) as { user: number; sys: number; total: number };
}

async function floor(targetCount: number, intervalMs: number, seconds: number): Promise<void> {
  const endpoints = endpointsOf(targetCount);
  const handlers = { open: (s: { terminate(): void }) => s.terminate(), data() {}, close() {}, error() {}, connectError() {} };
  const rate = (targetCount * 1000) / intervalMs;
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  // Woken when the next connect is due, at most every FLOOR_QUANTUM_MS as lbctl's scheduler is (a timer every
  // millisecond whatever the rate would charge the floor 1,000 wake-ups a second, most of its CPU at low rates).
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      for (const due = Math.floor((elapsed / 1000) * rate); sent < due; sent++) {
        const [hostname, port] = endpoints[sent % endpoints.length]!;
        void Bun.connect({ hostname, port, socket: handlers });
      }
      if (elapsed >= seconds * 1000) return resolve();
      const nextDue = ((sent + 1) / rate) * 1000;
      setTimeout(tick, Math.max(FLOOR_QUANTUM_MS, nextDue - elapsed));
    };
    tick();
  });
  const cpu = process.cpuUsage(cpuBefore);
  const wall = performance.now() - t0;
  const user = (cpu.user / 1000 / wall) * 100;
  const sys = (cpu.system / 1000 / wall) * 100;
  // process.exit would drop a pipe write still pending.
  await Bun.write(Bun.stdout, JSON.stringify({ user, sys, total: user + sys }));
  process.exit(0);
}

/**
 * CPU a probe costs lbctl before any socket: the real monitor and scheduler at the bench's rate, with a checker that
 * answers at once. CPU time over probes, in a process of its own, so it holds on a busy host better than the
 * difference of two CPU shares above (the figure before/after a change to the scheduler).
 */
async function measureBookkeeping(targetCount: number, intervalMs: number): Promise<number> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--role", "bookkeeping", "--targets", `${targetCount}`, "--interval", `${intervalMs}`, "--seconds", "8"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  return (JSON.parse(text) as { usPerProbe: number }).usPerProbe;
}

async function bookkeeping(targetCount: number, intervalMs: number, seconds: number): Promise<void> {
  const answer: ProbeResult = { ok: true, reason: "connected", latencyMs: 0 };
  const instant: Checker = { type: "tcp", probe: () => Promise.resolve(answer) };
  let probes = 0;
  const monitor = new HealthMonitor({ checkers: () => instant, listener: { probe: () => void probes++ } });
  monitor.sync(healthTargets(benchConfig(targetCount, intervalMs)));
  await Bun.sleep(intervalMs + 2000);
  const before = probes;
  const cpuBefore = process.cpuUsage();
  await Bun.sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const counted = probes - before;
  await monitor.stop();
  await Bun.write(Bun.stdout, JSON.stringify({ usPerProbe: counted === 0 ? 0 : (cpu.user + cpu.system) / counted }));
  process.exit(0);
}

/** Re-runs this script under a higher open-files limit when the current one is too low and the hard limit allows. */
export function ensureFdLimit(needed: number): void {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
  const soft = match?.[1] === "unlimited" ? Infinity : Number(match?.[1] ?? 1024);
  if (soft >= needed || process.env.LBCTL_BENCH_REEXEC) return;
  const hard = match?.[2] === "unlimited" ? Infinity : Number(match?.[2] ?? 1024);
  if (hard < needed) throw new Error(`This benchmark needs ${needed} open files; the hard limit is ${hard} (raise it with ulimit -Hn as root)`);
  const command = [process.execPath, process.argv[1]!, ...process.argv.slice(2)].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const result = Bun.spawnSync(["bash", "-c", `ulimit -n ${needed} && exec ${command}`], { stdout: "inherit", stderr: "inherit", env: { ...process.env, LBCTL_BENCH_REEXEC: "1" } });
  process.exit(result.exitCode ?? 1);
}

export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) out[arg.slice(2)] = argv[++i] ?? "";
  }
  return out;
}
