/**
 * Metrics at scale: 5,000 virtual services × 4 destinations (one port each, so 20,000 backends). Measures
 *  - one statistics collection cycle as the daemon runs it: desired state from the config, the kernel dump joined
 *    with it (src/daemon/stats.ts), the samples applied to the metrics model (target < 50 ms, run every few cycles);
 *  - the render ahead after a stats cycle (and its compression, once a scraper asked for gzip): how long scrapes
 *    are served the families as before the cycle;
 *  - one scrape (target < 50 ms), end to end through the real HTTP listener (body read as bytes), plain and gzip: at
 *    a random moment of a one-second stats period (what Prometheus gets: its scrapes do not know the daemon's stats
 *    cycle; the target binds this one), right after a stats cycle (while the traffic families are rendered ahead:
 *    served as before the cycle), and unchanged (from the cache), beside a bare fetch of the same bytes from a
 *    trivial Bun.serve; with health checks off (IPVS counters and weights: 7 series per backend) and on (plus health
 *    and the latency histogram: 19 per backend);
 *  - the longest stall of the daemon's event loop while scraped, outside the stats cycles themselves (which are
 *    synchronous and measured above): what health probes and reconciles wait at most for the exposition;
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
import type { Exposition } from "../src/observability/metrics/exposition-cache.ts";
import { Observability } from "../src/observability/setup.ts";
import { desiredServices } from "../src/plan/desired.ts";
import { configTree } from "../tests/support/config-tree.ts";
import { loadLine, median, report, row, startLoadMeter } from "./support.ts";

const args = Object.fromEntries(process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith("--") ? [[arg.slice(2), all[i + 1]]] : [])));
const SERVICES = Number(args.services ?? 5000);
const BACKENDS = 4;
const RUNS = Number(args.runs ?? 15);
const TARGET_MS = 50;
/** The stats period the random-moment scrapes fall in: one second, the shortest with the default reconcile interval. */
const PERIOD_MS = 1000;

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
  /** After a stats cycle, until the render ahead is done, then a scrape. */
  render: number;
  renderCached: number;
  gzipRender: number;
  gzipCached: number;
  /** Median HTTP round trips, from another process. */
  http: Record<"barePlain" | "bareGzip" | "barePlainRandom" | "bareGzipRandom" | "plainChanged" | "plainCached" | "gzipChanged" | "gzipCached" | "plainRandom" | "gzipRandom", number>;
  /** The 90th percentile of the random-moment scrapes. */
  http90: Record<"plainRandom" | "gzipRandom", number>;
  /** The longest event-loop stall outside stats cycles while scraped (ms). */
  stall: number;
  bytes: number;
  gzipBytes: number;
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
    // A stats cycle changes the six traffic families: what a scrape after it renders (and compresses) again. With
    // checks on, probes change the latency histograms between any two scrapes: one probe stands for them.
    let cycle = RUNS;
    const probed = config.services[0]!;
    const statsCycle = () => {
      obs.sink.emit({ type: "ipvs-stats", destinations: index.samples(kernelDump(config, ++cycle)) });
      if (health) obs.sink.emit({ type: "probe", service: probed.name, backend: `${probed.backends[0]!.address}:${probed.ports[0]!.start}`, ok: true, latencyMs: 2, reason: "connected" });
    };
    // After a stats cycle: until the render ahead (and compression, once a scraper asked for gzip) is done, the time
    // a scrape is served the families as before the cycle.
    const renderTimes = async (change: boolean, encode: (e: Exposition) => unknown): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) {
        if (change) statsCycle();
        Bun.gc(true);
        const started = performance.now();
        await obs.metrics.settled();
        await encode(await obs.metrics.scrape());
        times.push(performance.now() - started);
      }
      return median(times.slice(1));
    };
    const render = await renderTimes(true, (e) => e.parts);
    const renderCached = await renderTimes(false, (e) => e.parts);
    const gzipRender = await renderTimes(true, (e) => e.gzip());
    const gzipCached = await renderTimes(false, (e) => e.gzip());
    const url = `http://127.0.0.1:${obs.metricsPort}/metrics`;
    // The floor: the same bytes from a trivial Bun.serve in this process, as Blobs made once. `/change` runs a stats
    // cycle here.
    const plainBytes = new Blob([(await obs.metrics.scrape()).plain()]);
    const gzipBytes = new Blob([await (await obs.metrics.scrape()).gzip()]);
    // The loop's longest stall outside the stats cycles: a timer every millisecond measures the gaps between its runs.
    let stall = 0;
    let cycleEndedAt = 0;
    let tickAt = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      if (tickAt >= cycleEndedAt) stall = Math.max(stall, now - tickAt);
      tickAt = now;
    }, 1);
    const bare = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        // Stats cycles come one period apart (1 s at least), longer than a render ahead takes: the cases of the bench
        // follow each other faster, so a cycle waits for the render of the one before, as one period would.
        if (path === "/change") {
          await obs.metrics.settled();
          statsCycle();
          cycleEndedAt = performance.now();
          return new Response("changed");
        }
        // What an unchanged scrape is: nothing being rendered ahead either.
        if (path === "/settled") {
          await obs.metrics.settled();
          return new Response("settled");
        }
        if (request.headers.get("accept-encoding") === "gzip") return new Response(gzipBytes, { headers: { "content-encoding": "gzip" } });
        return new Response(plainBytes);
      },
    });
    const cases = {
      barePlain: { url: `http://127.0.0.1:${bare.port}/`, gzip: false, change: false },
      bareGzip: { url: `http://127.0.0.1:${bare.port}/`, gzip: true, change: false },
      // The same bytes, the same way: a stats cycle, a random wait, then the fetch. What the random-moment scrapes pay
      // for the moment itself (the process busy after the cycle, the scraper waking up), not for the exposition.
      barePlainRandom: { url: `http://127.0.0.1:${bare.port}/`, gzip: false, change: true, random: true },
      bareGzipRandom: { url: `http://127.0.0.1:${bare.port}/`, gzip: true, change: true, random: true },
      plainChanged: { url, gzip: false, change: true, random: false },
      plainCached: { url, gzip: false, change: false, random: false, settle: true },
      gzipChanged: { url, gzip: true, change: true, random: false },
      gzipCached: { url, gzip: true, change: false, random: false, settle: true },
      plainRandom: { url, gzip: false, change: true, random: true },
      gzipRandom: { url, gzip: true, change: true, random: true },
    };
    // Prometheus scrapes from another process (sending Accept-Encoding: gzip): so does the bench, or the client's own
    // reading of the body would be charged to the server. Cases take turns, so load from elsewhere hits them alike;
    // each cached case follows the one that rendered (and compressed) the same generation.
    const scraper = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const cases = ${JSON.stringify(cases)}; const times = {}; const sizes = {};
         for (let i = 0; i < ${RUNS + 2}; i++) {
           for (const [name, c] of Object.entries(cases)) {
             if (c.change) await (await fetch(${JSON.stringify(`http://127.0.0.1:${bare.port}/change`)})).text();
             if (c.settle) await (await fetch(${JSON.stringify(`http://127.0.0.1:${bare.port}/settled`)})).text();
             if (c.random) await Bun.sleep(Math.random() * ${PERIOD_MS});
             const started = performance.now();
             const response = await fetch(c.url, { headers: { "accept-encoding": c.gzip ? "gzip" : "identity" } });
             const body = await response.arrayBuffer();
             (times[name] ??= []).push(performance.now() - started);
             sizes[name] = [Number(response.headers.get("content-length")), body.byteLength];
           }
         }
         console.log(JSON.stringify({ times, sizes }));`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const [report] = await Promise.all([new Response(scraper.stdout).text(), scraper.exited]);
    void bare.stop(true);
    clearInterval(ticker);
    const { times, sizes } = JSON.parse(report) as { times: Record<keyof typeof cases, number[]>; sizes: Record<keyof typeof cases, [number, number]> };
    const http = Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t.slice(2))])) as Record<keyof typeof cases, number>;
    const p90 = (t: number[]) => [...t.slice(2)].sort((a, b) => a - b)[Math.floor((t.length - 2) * 0.9)]!;
    const http90 = { plainRandom: p90(times.plainRandom), gzipRandom: p90(times.gzipRandom) };
    const text = new TextDecoder().decode(new Uint8Array(await (await fetch(url)).arrayBuffer()));
    const influxStarted = performance.now();
    await influxBody(obs.model, () => obs.metrics.otherSnapshot(), Math.floor(Date.now() / 1000), async () => {});
    const influx = performance.now() - influxStarted;
    return {
      cycle: median(cycles.slice(1)),
      join: median(joins.slice(1)),
      apply: median(applies.slice(1)),
      render,
      renderCached,
      gzipRender,
      gzipCached,
      http,
      http90,
      stall,
      bytes: sizes.plainCached[1],
      gzipBytes: sizes.gzipCached[0],
      series: text.split("\n").filter((l) => l && !l.startsWith("#")).length,
      influx,
    };
  } finally {
    await obs.stop();
  }
}

console.log(`metrics at scale: ${SERVICES} virtual services × ${BACKENDS} destinations, ${RUNS} runs each (medians)\n`);
const meter = startLoadMeter();
const measured: Array<[boolean, Result]> = [];
for (const health of [false, true]) {
  const r = await measure(health);
  measured.push([health, r]);
  const label = health ? "checks on" : "checks off";
  console.log(`${label}: ${r.series.toLocaleString("en")} series, ${(r.bytes / 1e6).toFixed(1)} MB per scrape, ${(r.gzipBytes / 1e6).toFixed(1)} MB gzipped`);
  console.log(row(`stats collection cycle (${label})`, `${r.cycle.toFixed(1)} ms (join ${r.join.toFixed(1)} + apply ${r.apply.toFixed(1)})`, `< ${TARGET_MS} ms`, r.cycle < TARGET_MS));
  console.log(row(`render ahead after a stats cycle, until served (${label})`, `${r.render.toFixed(1)} ms (gzip ${r.gzipRender.toFixed(1)})`, "-", true));
  console.log(row(`render, unchanged (${label})`, `${r.renderCached.toFixed(1)} ms (gzip ${r.gzipCached.toFixed(1)})`, "-", true));
  const ms = (name: keyof Result["http"], bare: keyof Result["http"]) => `${r.http[name].toFixed(1)} ms (${(r.http[name] / r.http[bare]).toFixed(1)}× bare)`;
  const random = (name: "plainRandom" | "gzipRandom", bare: keyof Result["http"]) => `${ms(name, bare)}, p90 ${r.http90[name].toFixed(1)} ms`;
  console.log(row(`HTTP scrape gzip, random moment (${label})`, random("gzipRandom", "bareGzipRandom"), health ? "-" : `< ${TARGET_MS} ms`, health || r.http.gzipRandom < TARGET_MS));
  console.log(row(`HTTP scrape plain, random moment (${label})`, random("plainRandom", "barePlainRandom"), health ? "-" : `< ${TARGET_MS} ms`, health || r.http.plainRandom < TARGET_MS));
  console.log(row(`HTTP scrape gzip, unchanged (${label})`, ms("gzipCached", "bareGzip"), "-", true));
  console.log(row(`HTTP scrape gzip, right after a stats cycle (${label})`, ms("gzipChanged", "bareGzip"), "-", true));
  console.log(row(`HTTP scrape plain, unchanged (${label})`, ms("plainCached", "barePlain"), "-", true));
  console.log(row(`HTTP scrape plain, right after a stats cycle (${label})`, ms("plainChanged", "barePlain"), "-", true));
  console.log(row(`longest event-loop stall while scraped, outside stats cycles (${label})`, `${r.stall.toFixed(1)} ms`, "-", true));
  console.log(`      bare fetch of the same bytes from a trivial Bun.serve: plain ${r.http.barePlain.toFixed(1)} ms, gzip ${r.http.bareGzip.toFixed(1)} ms; at a random moment after a stats cycle: plain ${r.http.barePlainRandom.toFixed(1)} ms, gzip ${r.http.bareGzipRandom.toFixed(1)} ms`);
  console.log(`      InfluxDB line protocol of the same: ${r.influx.toFixed(0)} ms (informational)\n`);
}
const { othersPct, loaded } = meter();
console.log(loadLine(othersPct));

// The target binds the scrape Prometheus makes: at a moment that does not know the stats cycle (stats every few
// seconds, scrapes every 15 s), plain and gzip, median. The busiest moment (right after a stats cycle, while the
// traffic families are rendered ahead and a scrape is served them as before the cycle), how long that lasts, cached
// scrapes, the bare fetch and the loop's longest stall are beside it.
const shape = `${SERVICES.toLocaleString("en")} single-port services × ${BACKENDS} backends`;
for (const [health, r] of measured) {
  const label = health ? "checks on" : "checks off";
  const size = `${r.series.toLocaleString("en")} series, ${(r.bytes / 1e6).toFixed(0)} MB`;
  const m1 = { id: "M1", what: `one stats collection cycle, ${shape}`, where: "host" as const, bench: "metrics-scrape", unit: "ms", loaded };
  report({ ...m1, name: `join and model update, ${label}`, target: `< ${TARGET_MS} ms`, measured: `${r.cycle.toFixed(0)} ms`, value: r.cycle, ok: r.cycle < TARGET_MS });
  const m2 = { id: "M2", what: `one scrape from another process, ${shape}`, where: "host" as const, bench: "metrics-scrape", unit: "ms", loaded };
  if (health) {
    report({ ...m2, name: `HTTP scrape at a random moment / right after a stats cycle, ${label} (${size})`, measured: `plain ${r.http.plainRandom.toFixed(0)} / ${r.http.plainChanged.toFixed(0)} ms, gzip ${r.http.gzipRandom.toFixed(0)} / ${r.http.gzipChanged.toFixed(0)} ms`, value: r.http.plainRandom, ok: true });
    continue;
  }
  const p90 = (name: "plainRandom" | "gzipRandom") => `${r.http[name].toFixed(0)} ms (p90 ${r.http90[name].toFixed(0)} ms)`;
  report({ ...m2, name: `HTTP scrape at a random moment of a ${PERIOD_MS / 1000} s stats period, plain, ${label} (${size})`, target: `< ${TARGET_MS} ms`, measured: p90("plainRandom"), value: r.http.plainRandom, ok: r.http.plainRandom < TARGET_MS });
  report({ ...m2, name: `HTTP scrape at a random moment, gzip, ${label}`, target: `< ${TARGET_MS} ms`, measured: p90("gzipRandom"), value: r.http.gzipRandom, ok: r.http.gzipRandom < TARGET_MS });
  report({ ...m2, name: `HTTP scrape right after a stats cycle (served as before it while rendered ahead), plain / gzip, ${label}`, measured: `${r.http.plainChanged.toFixed(0)} / ${r.http.gzipChanged.toFixed(0)} ms`, value: r.http.plainChanged, ok: true });
  report({ ...m2, name: `render ahead after a stats cycle, until scrapes are served the new cycle: rendered / rendered and compressed, ${label}`, measured: `${r.render.toFixed(0)} / ${r.gzipRender.toFixed(0)} ms`, value: r.gzipRender, ok: true });
  report({ ...m2, name: `HTTP scrape unchanged (cached), plain / gzip, ${label}`, measured: `${r.http.plainCached.toFixed(0)} / ${r.http.gzipCached.toFixed(0)} ms`, value: r.http.plainCached, ok: true });
  report({ ...m2, name: `longest event-loop stall of the daemon while scraped, outside the stats cycles, ${label}`, measured: `${r.stall.toFixed(0)} ms`, value: r.stall, ok: true });
  report({ ...m2, name: "peer: the same scraper fetching the same bytes from a bare Bun.serve, plain / gzip", measured: `${r.http.barePlain.toFixed(0)} / ${r.http.bareGzip.toFixed(0)} ms`, value: r.http.barePlain, ok: true });
  report({ ...m2, name: "peer: the same, at a random moment after a stats cycle (as the target's scrapes), plain / gzip", measured: `${r.http.barePlainRandom.toFixed(0)} / ${r.http.bareGzipRandom.toFixed(0)} ms`, value: r.http.barePlainRandom, ok: true });
}
