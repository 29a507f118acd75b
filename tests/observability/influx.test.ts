/** InfluxDB: line protocol escaping read back by a strict parser, points from metrics, the push loop against a real receiver. */

import { afterEach, describe, expect, test } from "bun:test";
import { retryDelayMs } from "../../src/observability/influx/backoff.ts";
import { escapeKey, escapeMeasurement, formatPoint, quoteString, type Point } from "../../src/observability/influx/line-protocol.ts";
import { familyPoints } from "../../src/observability/influx/points.ts";
import { influxBody } from "../../src/observability/influx/model-lines.ts";
import { InfluxPusher, safeUrl, writeUrl } from "../../src/observability/influx/pusher.ts";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { parseLines } from "./line-protocol-parser.ts";
import { configLoaded, sample } from "./support.ts";

const NASTY = ["a b", "a,b", "a=b", 'a"b', "a\\b", "a\\", "\\ ,=", "ünï", "[2001:db8::1]:80", "x=y,z w"];

describe("line protocol", () => {
  test("escapes per element, as in InfluxDB's documentation", () => {
    expect(escapeMeasurement("my measurement,x=y")).toBe("my\\ measurement\\,x=y");
    expect(escapeKey("tag key,=x")).toBe("tag\\ key\\,\\=x");
    expect(quoteString('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
    expect(formatPoint({ measurement: "cpu", tags: { host: "a", region: "us west" }, fields: { value: 0.5, note: 'x"y', up: true }, time: 1700000000.9 })).toBe(
      'cpu,host=a,region=us\\ west value=0.5,note="x\\"y",up=true 1700000000',
    );
  });

  test("every nasty string survives a round trip through a strict parser in every position", () => {
    for (const nasty of NASTY) {
      const point: Point = { measurement: nasty, tags: { [nasty]: nasty, z: "1" }, fields: { [nasty]: nasty, n: -1.5e-7 }, time: 42 };
      const line = formatPoint(point)!;
      expect(parseLines(`${line}\n`)).toEqual([{ measurement: nasty, tags: { [nasty]: nasty, z: "1" }, fields: { [nasty]: nasty, n: -1.5e-7 }, time: 42 }]);
    }
  });

  test("newlines become spaces; empty tag values and non-finite numbers are left out; no fields → no line", () => {
    const line = formatPoint({ measurement: "m\nx", tags: { a: "", b: "1\n2" }, fields: { v: 1, nan: Number.NaN, inf: Infinity, s: "l1\nl2" }, time: 1 })!;
    expect(parseLines(`${line}\n`)).toEqual([{ measurement: "m x", tags: { b: "1 2" }, fields: { v: 1, s: "l1 l2" }, time: 1 }]);
    expect(formatPoint({ measurement: "m", tags: {}, fields: { nan: Number.NaN }, time: 1 })).toBeUndefined();
  });

  test("the strict parser refuses what it must (it can fail)", () => {
    for (const bad of ["m v=1", "m,a= v=1 1", "m,a=b=c v=1 1", "m v=NaN 1", "m v=1 x", "m v=1\\x 1", 'm s="a\\b" 1', "m v=1 1 2", ",a=b v=1 1"]) {
      expect(() => parseLines(`${bad}\n`)).toThrow();
    }
  });
});

describe("points from metrics", () => {
  test("counters and gauges as field value; histograms as <name>_bucket per le, <name>_sum and <name>_count", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([{ service: "web", backends: ["[2001:db8::1]:80"], health: true }]));
    model.emit({ type: "probe", service: "web", backend: "[2001:db8::1]:80", ok: true, latencyMs: 20, reason: "connected" });
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "[2001:db8::1]:80", 80, { bytesIn: 1234 })] });
    const points = familyPoints(await createMetricsRegistry(model, { processMetrics: false }).snapshot(), 1700000000);
    const body = `${points.map(formatPoint).join("\n")}\n`;
    const parsed = parseLines(body);
    const tags = { node: "lb-a", service: "web", backend: "[2001:db8::1]:80" };
    expect(parsed).toContainEqual({ measurement: "lbctl_ipvs_bytes_in_total", tags, fields: { value: 1234 }, time: 1700000000 });
    expect(parsed).toContainEqual({ measurement: "lbctl_health_check_latency_seconds", tags: { ...tags, le: "0.025" }, fields: { lbctl_health_check_latency_seconds_bucket: 1 }, time: 1700000000 });
    expect(parsed).toContainEqual({ measurement: "lbctl_health_check_latency_seconds", tags: { ...tags, le: "+Inf" }, fields: { lbctl_health_check_latency_seconds_bucket: 1 }, time: 1700000000 });
    expect(parsed).toContainEqual({
      measurement: "lbctl_health_check_latency_seconds",
      tags,
      fields: { lbctl_health_check_latency_seconds_sum: 0.02, lbctl_health_check_latency_seconds_count: 1 },
      time: 1700000000,
    });
  });

  test("the model's fast encoder writes exactly the points of prom-client's JSON view", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([{ service: "we b,x=1", backends: ["[2001:db8::1]:80", "10.0.0.2:80"], health: true }]));
    model.emit({ type: "vip-state", vip: "192.0.2.10", held: true });
    model.emit({ type: "reconcile", result: "success", trigger: "startup", durationMs: 12, changes: 1 });
    model.emit({ type: "probe", service: "we b,x=1", backend: "10.0.0.2:80", ok: true, latencyMs: 0.5, reason: "connected" });
    model.emit({ type: "ipvs-stats", destinations: [sample("we b,x=1", "10.0.0.2:80", 80, { bytesIn: 99, activeConnections: 3 })] });
    const registry = createMetricsRegistry(model, { processMetrics: false });
    const fast = parseLines(new TextDecoder().decode(await influxBody(model, () => registry.otherSnapshot(), 1700000000, async () => {})));
    const reference = parseLines(`${familyPoints(await registry.snapshot(), 1700000000).map(formatPoint).join("\n")}\n`);
    const key = (p: unknown) => JSON.stringify(p, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
    expect(fast.map(key).sort()).toEqual(reference.map(key).sort());
    expect(fast.length).toBeGreaterThan(20);
  });
});

describe("InfluxDB push", () => {
  let server: ReturnType<typeof Bun.serve> | undefined;
  let pusher: InfluxPusher | undefined;
  afterEach(() => {
    pusher?.stop();
    void server?.stop(true);
  });

  test("writes to /api/v2/write with org, bucket, precision=s and the token; retries after 5xx; drops after 400; never logs the token", async () => {
    const TOKEN = "s3cr3t-token";
    const requests: { url: URL; auth: string | null; body: string }[] = [];
    const statuses = [503, 204, 400, 204];
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        requests.push({ url: new URL(request.url), auth: request.headers.get("authorization"), body: await request.text() });
        const status = statuses.shift() ?? 204;
        return new Response(status === 400 ? `bad request, token was ${TOKEN}` : null, { status });
      },
    });
    const model = new MetricsModel();
    model.emit(configLoaded([{ service: "web,x y", backends: ["10.0.0.1:80"], health: true }]));
    const errors: string[] = [];
    const registry = createMetricsRegistry(model);
    pusher = new InfluxPusher(
      { url: `http://user:pw@127.0.0.1:${server.port}/`, token: TOKEN, org: "my org", bucket: "lb&b", pushIntervalSeconds: 3600 },
      { body: (time) => influxBody(model, () => registry.otherSnapshot(), time, async () => {}), onError: (m) => errors.push(m), now: () => 1_700_000_000_500 },
    );
    await pusher.collect(); // 503: kept for a retry ~1 s later
    expect(requests).toHaveLength(1);
    const deadline = performance.now() + 5000;
    while (requests.length < 2 && performance.now() < deadline) await Bun.sleep(50);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.body).toBe(requests[0]!.body);
    await Bun.sleep(50);
    expect(pusher.written).toBe(1);
    await pusher.collect(); // 400: dropped, no retry
    await pusher.collect(); // 204
    await Bun.sleep(50);
    expect(requests).toHaveLength(4);
    expect(pusher.written).toBe(2);

    const first = requests[0]!;
    expect(first.url.pathname).toBe("/api/v2/write");
    expect(Object.fromEntries(first.url.searchParams)).toEqual({ org: "my org", bucket: "lb&b", precision: "s" });
    expect(first.auth).toBe(`Token ${TOKEN}`);
    const points = parseLines(first.body);
    expect(points.every((p) => p.time === 1_700_000_000)).toBe(true);
    expect(points).toContainEqual({ measurement: "lbctl_health_backend_healthy", tags: { node: "lb-a", service: "web,x y", backend: "10.0.0.1:80" }, fields: { value: 0 }, time: 1_700_000_000 });
    expect(points.some((p) => p.measurement === "process_resident_memory_bytes")).toBe(true);

    expect(errors.some((e) => e.includes("HTTP 503") && e.includes("will retry"))).toBe(true);
    expect(errors.some((e) => e.includes("HTTP 400") && e.includes("dropped"))).toBe(true);
    expect(errors.join("\n")).not.toContain(TOKEN);
    expect(errors.join("\n")).not.toContain("pw@");
  });

  test("an unreachable server is retried with backoff, never throws, and stop() ends it", async () => {
    const errors: string[] = [];
    let calls = 0;
    pusher = new InfluxPusher(
      { url: "http://127.0.0.1:9", token: "t", org: "o", bucket: "b", pushIntervalSeconds: 1 },
      {
        body: async (time) => `m value=1 ${time}\n`,
        onError: (m) => errors.push(m),
        fetch: async () => {
          calls++;
          throw new Error("connect ECONNREFUSED");
        },
      },
    );
    await pusher.collect();
    expect(calls).toBe(1);
    expect(errors[0]).toContain("will retry");
    pusher.stop();
    await Bun.sleep(1500);
    expect(calls).toBe(1);
  });

  test("backoff doubles from the base up to the cap, with ±20 % jitter", () => {
    const options = { baseMs: 1000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, options, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(retryDelayMs(1, options, () => 0)).toBe(800);
    expect(retryDelayMs(1, options, () => 1)).toBe(1200);
  });

  test("URLs: the write endpoint encodes org and bucket; messages show no credentials or query", () => {
    expect(writeUrl({ url: "https://influx:8086//", org: "a b", bucket: "c/d" })).toBe("https://influx:8086/api/v2/write?org=a%20b&bucket=c%2Fd&precision=s");
    expect(safeUrl("https://me:secret@influx:8086/x?token=abc")).toBe("https://influx:8086/x");
  });
});
