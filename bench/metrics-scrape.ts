/**
 * Metrics at scale: 5,000 virtual services × 4 destinations (one port each, so 20,000 backends). Measures
 *  - one statistics collection cycle as the daemon runs it: desired state from the config, the kernel dump joined
 *    with it (src/daemon/stats.ts), the samples applied to the metrics model (target < 50 ms, run every few cycles);
 *  - one scrape (target < 50 ms): rendering the exposition, and end to end through the real HTTP listener (body
 *    read as bytes), with health checks off (IPVS counters and weights: 7 series per backend) and on (plus health
 *    and the latency histogram: 19 per backend);
 *  - the peer of the scrape: the same scraper fetching a static body of the same size from a bare Bun.serve in this
 *    process, the cost of moving the bytes over loopback;
 *  - encoding the same for InfluxDB (informational: done family by family, yielding to the loop in between).
 * The kernel dump is synthetic (the shape the netlink decoder returns, with counters that grow every cycle).
 * Run: bun bench/metrics-scrape.ts [--services N] [--runs R]. Not in CI.
 */

import { stringify } from "yaml";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/model.ts";
import { StatsIndex } from "../src/daemon/stats.ts";
import type { KernelServiceEntry } from "../src/ipvs/types.ts";
import { influxBody } from "../src/observability/influx/model-lines.ts";
import { Observability } from "../src/observability/setup.ts";
import { desiredServices } from "../src/plan/desired.ts";
import { configTree } from "../tests/support/config-tree.ts";
import { loadLine, median, report, row, startLoadMeter } from "./support.ts";

const args = Object.fromEntries(process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith("--") ? [[arg.slice(2), all[i + 1]]] : [])));
const SERVICES = Number(args.services ?? 5000);
const BACKENDS = 4;
const RUNS = Number(args.runs ?? 15);
const TARGET_MS = 50;

function loadBenchConfig(health: boolean, port: number): Config {
  const tree = configTree();
  try {
    tree.write(
      "config.yaml",
      stringify({
        node: { name: "bench" },
        network: { frontend: { vip: "198.51.100.1" } },
        observability: { logging: { console: { enabled: false } }, metrics: { prometheus: { bind: "127.0.0.1", port } } },
      }),
    );
    const services = Array.from({ length: SERVICES }, (_, s) => ({
      name: `svc-${s}`,
      ports: [1024 + s],
      backends: Array.from({ length: BACKENDS }, (_, b) => ({ address: `10.${b}.${s >> 8}.${s & 255}` })),
      ...(health ? { health: { enabled: true } } : {}),
    }));
    tree.write("config.d/bench.yaml", stringify({ services }));
    const loaded = loadConfig(tree.main, { env: {} });
    if (!loaded.ok) throw new Error("The bench config does not load");
    return loaded.config;
  } finally {
    tree.remove();
  }
}

/** A kernel dump of every desired destination, with counters that grow with `cycle`. */
function kernelDump(config: Config, cycle: number): KernelServiceEntry[] {
  return desiredServices(config).map((service, s) => ({
    service: { ...service, fwmark: 0 },
    destinations: service.destinations.map((d, i) => {
      const n = (s * BACKENDS + i + 1) * (cycle + 1);
      return {
        ...d,
        activeConnections: n % 97,
        inactiveConnections: n % 13,
        persistentConnections: 0,
        stats: { connections: n * 3, packetsIn: n * 40, packetsOut: n * 38, bytesIn: n * 52_000, bytesOut: n * 2_900_000, cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 0 },
      };
    }),
  }));
}

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  void probe.stop(true);
  return port;
}

interface Result {
  cycle: number;
  join: number;
  apply: number;
  render: number;
  scrape: number;
  scrapeP95: number;
  bareFetch: number;
  bytes: number;
  series: number;
  influx: number;
}

async function measure(health: boolean): Promise<Result> {
  const config = loadBenchConfig(health, freePort());
  const obs = new Observability({ stderr: { write: () => true } });
  obs.start(config);
  try {
    obs.sink.emit({ type: "daemon-started", node: "bench", pid: process.pid, version: "bench" });
    obs.sink.emit({
      type: "config-loaded",
      startup: true,
      hash: "bench",
      files: [],
      services: SERVICES,
      backends: SERVICES * BACKENDS,
      node: "bench",
      inventory: config.services.map((s) => ({ service: s.name, backends: s.backends.map((b) => `${b.address}:${s.ports[0]!.start}`), health })),
    });
    if (health) {
      for (const s of config.services) for (const b of s.backends) obs.sink.emit({ type: "probe", service: s.name, backend: `${b.address}:${s.ports[0]!.start}`, ok: true, latencyMs: 3.2, reason: "connected" });
    }
    // The daemon builds the config side of the join once per config (StatsIndex), so the cycle is the join itself.
    const index = new StatsIndex(desiredServices(config));
    const cycles: number[] = [];
    const joins: number[] = [];
    const applies: number[] = [];
    for (let cycle = 0; cycle <= RUNS; cycle++) {
      // The daemon holds one dump at a time (its state cache): so does the bench.
      const kernel = kernelDump(config, cycle);
      Bun.gc(true);
      const started = performance.now();
      const samples = index.samples(kernel);
      const joined = performance.now();
      obs.sink.emit({ type: "ipvs-stats", destinations: samples });
      const done = performance.now();
      cycles.push(done - started);
      joins.push(joined - started);
      applies.push(done - joined);
    }
    const renders: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const started = performance.now();
      await obs.metrics.scrape();
      renders.push(performance.now() - started);
    }
    const url = `http://127.0.0.1:${obs.metricsPort}/metrics`;
    const exposition = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const text = new TextDecoder().decode(exposition);
    // The peer: the same bytes from a server that does nothing else.
    const bare = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(exposition, { headers: { "content-type": "text/plain" } }) });
    let scrapes: number[];
    let bareFetches: number[];
    let size: number;
    try {
      ({ scrapes, bareFetches, size } = await scrapeFromAnotherProcess(url, `http://127.0.0.1:${bare.port}/`, RUNS + 2));
    } finally {
      void bare.stop(true);
    }
    const influxStarted = performance.now();
    await influxBody(obs.model, () => obs.metrics.otherSnapshot(), Math.floor(Date.now() / 1000), async () => {});
    const influx = performance.now() - influxStarted;
    const measured = scrapes.slice(2).sort((a, b) => a - b);
    return {
      cycle: median(cycles.slice(1)),
      join: median(joins.slice(1)),
      apply: median(applies.slice(1)),
      render: median(renders.slice(2)),
      scrape: median(measured),
      scrapeP95: measured[Math.floor(measured.length * 0.95)] ?? Number.NaN,
      bareFetch: median(bareFetches.slice(2)),
      bytes: size,
      series: text.split("\n").filter((l) => l && !l.startsWith("#")).length,
      influx,
    };
  } finally {
    await obs.stop();
  }
}

/**
 * Prometheus scrapes from another process: so does the bench, or the client's own reading of the body would be
 * charged to the server. The scraper alternates the metrics URL and the bare one, so both see the same load.
 */
async function scrapeFromAnotherProcess(url: string, bareUrl: string, runs: number): Promise<{ scrapes: number[]; bareFetches: number[]; size: number }> {
  const scraper = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const scrapes = []; const bareFetches = []; let size = 0;
       const time = async (target) => {
         const started = performance.now();
         const body = await (await fetch(target)).arrayBuffer();
         return [performance.now() - started, body.byteLength];
       };
       for (let i = 0; i < ${runs}; i++) {
         const [ms, bytes] = await time(${JSON.stringify(url)}); scrapes.push(ms); size = bytes;
         bareFetches.push((await time(${JSON.stringify(bareUrl)}))[0]);
       }
       console.log(JSON.stringify({ scrapes, bareFetches, size }));`,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const [output] = await Promise.all([new Response(scraper.stdout).text(), scraper.exited]);
  return JSON.parse(output) as { scrapes: number[]; bareFetches: number[]; size: number };
}

console.log(`metrics at scale: ${SERVICES} virtual services × ${BACKENDS} destinations, ${RUNS} runs each (medians)\n`);
const meter = startLoadMeter();
const measured: Array<[boolean, Result]> = [];
for (const health of [false, true]) {
  const r = await measure(health);
  measured.push([health, r]);
  const label = health ? "checks on" : "checks off";
  console.log(`${label}: ${r.series.toLocaleString("en")} series, ${(r.bytes / 1e6).toFixed(1)} MB per scrape`);
  console.log(row(`stats collection cycle (${label})`, `${r.cycle.toFixed(1)} ms (join ${r.join.toFixed(1)} + apply ${r.apply.toFixed(1)})`, `< ${TARGET_MS} ms`, r.cycle < TARGET_MS));
  console.log(row(`render the exposition (${label})`, `${r.render.toFixed(1)} ms`, "-", true));
  console.log(row(`HTTP scrape, median (${label})`, `${r.scrape.toFixed(1)} ms (p95 ${r.scrapeP95.toFixed(1)})`, health ? "-" : `< ${TARGET_MS} ms`, health || r.scrape < TARGET_MS));
  console.log(row(`peer: bare fetch of the same bytes (${label})`, `${r.bareFetch.toFixed(1)} ms`, "-", true));
  console.log(`      InfluxDB line protocol of the same: ${r.influx.toFixed(0)} ms (informational)\n`);
}
const { othersPct, loaded } = meter();
console.log(loadLine(othersPct));

const shape = `${SERVICES.toLocaleString("en")} single-port services × ${BACKENDS} backends`;
for (const [health, r] of measured) {
  const label = health ? "checks on" : "checks off";
  const size = `${r.series.toLocaleString("en")} series, ${(r.bytes / 1e6).toFixed(0)} MB`;
  const m1 = { id: "M1", what: `one stats collection cycle, ${shape}`, where: "host" as const, bench: "metrics-scrape", unit: "ms", loaded };
  report({ ...m1, name: `join and model update, ${label}`, target: `< ${TARGET_MS} ms`, measured: `${r.cycle.toFixed(0)} ms`, value: r.cycle, ok: r.cycle < TARGET_MS });
  const m2 = { id: "M2", what: `one scrape, ${shape}`, where: "host" as const, bench: "metrics-scrape", unit: "ms", loaded };
  if (health) {
    report({ ...m2, name: `HTTP scrape from another process, ${label} (${size})`, measured: `${r.scrape.toFixed(0)} ms (render ${r.render.toFixed(0)} ms)`, value: r.scrape, ok: true });
  } else {
    report({ ...m2, name: `HTTP scrape from another process, median, ${label} (${size})`, target: `< ${TARGET_MS} ms`, measured: `${r.scrape.toFixed(0)} ms`, value: r.scrape, ok: r.scrape < TARGET_MS });
    report({ ...m2, name: `of which rendering the exposition, ${label}`, measured: `${r.render.toFixed(0)} ms`, value: r.render, ok: true });
    report({ ...m2, name: "peer: the same scraper fetching the same bytes from a bare Bun.serve", measured: `${r.bareFetch.toFixed(0)} ms`, value: r.bareFetch, ok: true });
  }
}
