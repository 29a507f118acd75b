/**
 * udp_echo at scale: 5,000 targets at a 1 s interval through the real monitor, scheduler and udp_echo check (one
 * connected socket per probe, a new nonce each), against one local echo server in a separate process. Target: ≥ 99 %
 * of the probes scheduled in the measured window on time, i.e. started within 50 ms of their schedule **and**
 * answered correctly within timeout_ms; a probe skipped or never started counts against it.
 * Not in CI. Run on an otherwise idle host:
 *
 *   bun bench/udp-echo.ts [--targets 5000] [--seconds 30] [--interval 1000] [--timeout 300]
 *
 * The echo server is one process with one socket per backend address (127.0.1.1-127.0.1.100, all on one port):
 * a reply must come from the address the probe was sent to, and a socket bound to 0.0.0.0 would answer from
 * 127.0.0.1. It echoes each datagram back at once, so what is measured is the prober.
 */

import { readFileSync } from "node:fs";
import type { Config } from "../src/config/model.ts";
import { HealthMonitor } from "../src/health/monitor.ts";
import { healthTargets } from "../src/health/targets.ts";
import { scheduleShare } from "./schedule.ts";
import { hostBusyTicks, LOADED_HOST_PCT, processTicks, report, row, TICKS_PER_SECOND } from "./support.ts";

const ADDRESSES = 100;
const ECHO_PORT = 17_000;
const BASE_SERVICE_PORT = 30_000;
const ON_TIME_MS = 50;

const args = parseArgs(process.argv.slice(2));
if (args.role === "echo") await echoServer();
else await main();

async function main(): Promise<void> {
  const targetCount = Number(args.targets ?? 5000);
  const intervalMs = Number(args.interval ?? 1000);
  const timeoutMs = Number(args.timeout ?? 300);
  const seconds = Number(args.seconds ?? 30);
  const warmupMs = intervalMs + 3000;

  const echo = Bun.spawn([process.execPath, import.meta.path, "--role", "echo"], { stdout: "pipe", stderr: "inherit" });
  try {
    const reader = echo.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    if (!new TextDecoder().decode(value).startsWith("ready")) throw new Error("The echo server did not start");

    const targets = healthTargets(benchConfig(targetCount, intervalMs, timeoutMs));
    // Probes scheduled inside [windowStart, windowEnd) are counted, whenever they finish.
    let windowStart = Number.POSITIVE_INFINITY;
    let windowEnd = Number.POSITIVE_INFINITY;
    let finished = 0;
    let startedOnTime = 0;
    let ok = 0;
    let onTime = 0;
    const failures = new Map<string, number>();
    // Room for twice the probes due: on a busy host the measured window outlasts its nominal seconds.
    const lateness = new Float64Array(2 * (Math.ceil((targetCount * seconds * 1000) / intervalMs) + targetCount));
    const latency = new Float64Array(lateness.length);
    const monitor = new HealthMonitor({
      listener: {
        probe(event) {
          if (event.scheduledAt < windowStart || event.scheduledAt >= windowEnd) return;
          const late = event.startedAt - event.scheduledAt;
          if (finished < lateness.length) {
            lateness[finished] = late;
            latency[finished] = event.result.latencyMs;
          }
          finished++;
          if (late <= ON_TIME_MS) startedOnTime++;
          if (event.result.ok) ok++;
          else {
            const reason = event.result.reason.replace(/\d+(\.\d+)? ms/g, "N ms");
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
          }
          if (event.result.ok && late <= ON_TIME_MS) onTime++;
        },
      },
    });
    monitor.sync(targets);
    process.stderr.write(`  ${targets.length} udp_echo targets running; warming up for ${warmupMs / 1000} s\n`);
    await Bun.sleep(warmupMs);

    const statsBefore = monitor.stats();
    const echoTicksBefore = processTicks([echo.pid]);
    const cpuBefore = process.cpuUsage();
    const hostBefore = hostBusyTicks();
    const oursBefore = processTicks([process.pid]) + echoTicksBefore;
    const wallBefore = performance.now();
    windowStart = wallBefore;
    let rssMax = 0;
    for (let s = 1; s <= seconds; s++) {
      await Bun.sleep(1000);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      if (s % 10 === 0) process.stderr.write(`  ... ${s} s, ${finished} probes\n`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    windowEnd = performance.now();
    const wall = windowEnd - wallBefore;
    const echoPct = ((processTicks([echo.pid]) - echoTicksBefore) / TICKS_PER_SECOND / (wall / 1000)) * 100;
    const othersPct = ((hostBusyTicks() - hostBefore - (processTicks([process.pid, echo.pid]) - oursBefore)) / TICKS_PER_SECOND / (wall / 1000)) * 100;
    const statsAfter = monitor.stats();
    // Probes scheduled before the window's end may still be waiting for their echo: they count once they finish.
    await Bun.sleep(timeoutMs + 500);
    await monitor.stop();

    const n = Math.min(finished, lateness.length);
    const pct = (values: Float64Array, q: number) => {
      const sorted = values.subarray(0, n).slice().sort();
      return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    };
    const skipped = statsAfter.skippedBusy - statsBefore.skippedBusy + (statsAfter.skippedLate - statsBefore.skippedLate);
    const schedule = scheduleShare({ targets: targets.length, windowMs: wall, intervalMs, finished, onTime, skipped });
    const share = (count: number) => (schedule.scheduled === 0 ? 0 : Math.min(100, (count / schedule.scheduled) * 100));
    const cpuPct = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    const rssMb = rssMax / 1024 / 1024;

    console.log(`udp_echo: ${targets.length} targets, interval ${intervalMs} ms, timeout ${timeoutMs} ms, ${seconds} s measured after ${warmupMs / 1000} s warm-up`);
    console.log(`  echo server: 1 process, ${ADDRESSES} sockets on 127.0.1.1-127.0.1.${ADDRESSES}:${ECHO_PORT}; its CPU ${echoPct.toFixed(1)} % of one core`);
    console.log(
      `  probes: ${schedule.scheduled} scheduled in the window, ${finished} finished (${schedule.finishedPct.toFixed(2)} %, ${(finished / (wall / 1000)).toFixed(0)}/s), ${skipped} skipped, ${schedule.missing} missing; ${ok} ok, ${finished - ok} failed ${failures.size ? JSON.stringify(Object.fromEntries(failures)) : ""}`,
    );
    console.log(`  scheduler: skipped busy ${statsAfter.skippedBusy - statsBefore.skippedBusy}, skipped late ${statsAfter.skippedLate - statsBefore.skippedLate}, timed out ${statsAfter.timedOut - statsBefore.timedOut}`);
    console.log(`  lateness (start - schedule): p50 ${pct(lateness, 0.5).toFixed(2)} ms, p99 ${pct(lateness, 0.99).toFixed(2)} ms, max ${pct(lateness, 1).toFixed(2)} ms`);
    console.log(`  probe latency (send to verdict): p50 ${pct(latency, 0.5).toFixed(2)} ms, p99 ${pct(latency, 0.99).toFixed(2)} ms, max ${pct(latency, 1).toFixed(2)} ms`);
    console.log(row("scheduled probes on time (≤ 50 ms late, echo ok)", `${schedule.onTimePct.toFixed(2)} %`, "≥ 99 %", schedule.onTimePct >= 99));
    console.log(`INFO  of the scheduled probes, started within 50 ms: ${share(startedOnTime).toFixed(2)} %; answered correctly: ${share(ok).toFixed(2)} %`);
    console.log(`INFO  CPU of the probing process: ${cpuPct.toFixed(1)} % of one core (user ${((cpu.user / 1000 / wall) * 100).toFixed(1)}, sys ${((cpu.system / 1000 / wall) * 100).toFixed(1)}); RSS max ${rssMb.toFixed(0)} MB`);
    const loaded = othersPct > LOADED_HOST_PCT;
    const othersNote = loaded ? " (the host was busy: the figures above are not trustworthy)" : "";
    console.log(`INFO  CPU used by other processes of the host during the run: ${Math.max(0, othersPct).toFixed(0)} % of one core${othersNote}`);

    const common = { id: "U1", what: `${targets.length.toLocaleString("en")} udp_echo targets at ${intervalMs} ms against a one-process echo server`, where: "host" as const, bench: "udp-echo", loaded };
    report({
      ...common,
      name: `probes started ≤ ${ON_TIME_MS} ms late and answered correctly, of the ${schedule.scheduled.toLocaleString("en")} scheduled`,
      target: "≥ 99 %",
      measured: `${schedule.onTimePct.toFixed(2)} % (${skipped.toLocaleString("en")} skipped, ${schedule.missing.toLocaleString("en")} missing, ${(finished - ok).toLocaleString("en")} failed, p99 lateness ${pct(lateness, 0.99).toFixed(1)} ms)`,
      value: schedule.onTimePct,
      unit: "%",
      ok: schedule.onTimePct >= 99,
    });
    report({ ...common, name: "CPU and RSS of the probing process", measured: `${cpuPct.toFixed(0)} % of one core, ${rssMb.toFixed(0)} MB`, value: cpuPct, unit: "%", ok: true });
  } finally {
    echo.kill();
  }
}

/** 50 services (each its own port), each with the same 100 loopback addresses as backends; probes go to ECHO_PORT. */
function benchConfig(targetCount: number, intervalMs: number, timeoutMs: number): Pick<Config, "services"> {
  const services = Array.from({ length: Math.ceil(targetCount / ADDRESSES) }, (_, s) => {
    const port = BASE_SERVICE_PORT + s;
    const count = Math.min(ADDRESSES, targetCount - s * ADDRESSES);
    return {
      name: `udp-${s}`,
      protocol: "udp" as const,
      ports: [{ start: port, end: port }],
      port_ranges: [],
      scheduler: "sh" as const,
      backends: Array.from({ length: count }, (_, b) => ({ address: `127.0.1.${b + 1}`, port: 0, weight: 1 })),
      health: { enabled: true, type: "udp_echo" as const, port: ECHO_PORT, interval_ms: intervalMs, timeout_ms: timeoutMs, fail_after: 3, recover_after: 2, payload: "PING" },
      source: { file: "bench", index: s },
    };
  });
  return { services } as unknown as Pick<Config, "services">;
}

async function echoServer(): Promise<void> {
  for (let i = 1; i <= ADDRESSES; i++) {
    await Bun.udpSocket({
      hostname: `127.0.1.${i}`,
      port: ECHO_PORT,
      binaryType: "uint8array",
      socket: {
        data(socket, data, port, address) {
          socket.send(data, port, address);
        },
        // A probe that timed out closed its socket: the late echo's ICMP error is not news.
        error() {},
      },
    });
  }
  process.stdout.write("ready\n");
  await new Promise(() => {});
}


function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) out[arg.slice(2)] = argv[++i] ?? "";
  }
  return out;
}
