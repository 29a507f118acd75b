/** Observability wired as run.ts uses it: the metrics listener (start, rebind, path, IPv6), /health, logging. */

import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/model.ts";
import { MetricsListenError } from "../../src/observability/http/metrics-server.ts";
import { Observability } from "../../src/observability/setup.ts";
import { BULK_CHANGES } from "../../src/observability/events.ts";
import { loadPatched, type Patch } from "../support/load-helpers.ts";
import { configLoaded } from "./support.ts";

function config(observability: Patch, daemon: Patch = {}): Config {
  const loaded = loadPatched({ observability, daemon });
  if (!loaded.result.ok) throw new Error(loaded.errors);
  return loaded.result.config;
}

/** A port free now (config port 0 means the default 9090, so tests pick one). */
function freePort(hostname = "127.0.0.1"): number {
  const probe = Bun.serve({ hostname, port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  void probe.stop(true);
  return port;
}

const prometheus = (settings: Patch) => ({ metrics: { prometheus: { port: freePort(), ...settings } } });

class Lines {
  text = "";
  write(chunk: string) {
    this.text += chunk;
  }
}

let running: Observability | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function start(cfg: Config, now?: () => number): { obs: Observability; stderr: Lines } {
  const stderr = new Lines();
  const obs = new Observability({ stderr, ...(now ? { now } : {}) });
  obs.start(cfg);
  running = obs;
  return { obs, stderr };
}

describe("metrics listener", () => {
  test("serves the metrics path, /health, / and 404, on an IPv6 loopback bind", async () => {
    const { obs } = start(config(prometheus({ bind: "::1", path: "/stats" })));
    obs.sink.emit(configLoaded([{ service: "web", backends: ["10.0.0.1:80"], health: true }]));
    const base = `http://[::1]:${obs.metricsPort}`;
    const metrics = await fetch(`${base}/stats`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await metrics.text()).toContain(`lbctl_health_backend_healthy{node="lb-a",service="web",backend="10.0.0.1:80"} 0`);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toContain(`href="/stats"`);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${base}/stats`, { method: "POST" })).status).toBe(405);
  });

  test("a port already in use is a MetricsListenError naming the address", () => {
    const { obs } = start(config(prometheus({ bind: "127.0.0.1" })));
    const second = new Observability({ stderr: new Lines() });
    expect(() => second.start(config(prometheus({ bind: "127.0.0.1", port: obs.metricsPort })))).toThrow(MetricsListenError);
    expect(() => second.start(config(prometheus({ bind: "127.0.0.1", port: obs.metricsPort })))).toThrow(`127.0.0.1:${obs.metricsPort}`);
  });

  test("reconfigure: a new path at once, a new port rebinds, a port in use keeps the old listener, disabled stops it", async () => {
    const { obs, stderr } = start(config(prometheus({ bind: "127.0.0.1" })));
    const first = obs.metricsPort!;
    obs.reconfigure(config(prometheus({ bind: "127.0.0.1", port: first, path: "/m2" })));
    expect(obs.metricsPort).toBe(first);
    expect((await fetch(`http://127.0.0.1:${first}/m2`)).status).toBe(200);
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      obs.reconfigure(config(prometheus({ bind: "127.0.0.1", port: blocker.port })));
      expect(obs.metricsPort).toBe(first);
      obs.flush();
      expect(stderr.text).toContain("keeping the previous metrics listener");
    } finally {
      void blocker.stop(true);
    }
    obs.reconfigure(config(prometheus({ bind: "::1", port: freePort("::1") })));
    expect(obs.metricsPort).not.toBe(first);
    expect((await fetch(`http://[::1]:${obs.metricsPort}/metrics`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${first}/metrics`)).rejects.toThrow();
    obs.reconfigure(config({ metrics: { prometheus: { enabled: false } } }));
    expect(obs.metricsPort).toBeUndefined();
  });

  test("/health: 200 while reconciles come, 503 after 3 intervals without one", async () => {
    let now = 0;
    const { obs } = start(config(prometheus({ bind: "127.0.0.1" }), { reconcile_interval_ms: 1000 }), () => now);
    const health = async () => (await fetch(`http://127.0.0.1:${obs.metricsPort}/health`)).status;
    expect(await health()).toBe(200);
    now = 3500;
    expect(await health()).toBe(503);
    obs.sink.emit({ type: "reconcile", result: "failure", trigger: "interval", durationMs: 1, changes: 0, error: "x" });
    expect(await health()).toBe(200);
    now = 6400;
    expect(await health()).toBe(200);
    now = 6600;
    expect(await health()).toBe(503);
  });
});

describe("logging", () => {
  test("json format at warn: debug/info lines hidden, audit records written with audit:true", () => {
    const { obs, stderr } = start(config({ logging: { console: { level: "warn", format: "json" } }, metrics: { prometheus: { enabled: false } } }));
    obs.sink.emit({ type: "reconcile", result: "success", trigger: "interval", durationMs: 1, changes: 2 });
    obs.sink.emit(configLoaded([], { startup: false, hash: "b".repeat(64), previousHash: "a".repeat(64) }));
    obs.sink.emit({ type: "error", message: "Something broke" });
    obs.flush();
    const lines = stderr.text.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((l) => l.audit_event ?? l.msg)).toEqual(["changes_applied", "config_loaded", "config_changed", "Something broke"]);
    expect(lines[0]).toMatchObject({ audit: true, level: "info", msg: "Reconciled", trigger: "interval", changes: 2 });
    expect(lines[2]).toMatchObject({ audit: true, level: "info", old_hash: "a".repeat(64), new_hash: "b".repeat(64) });
    expect(typeof lines[1].time).toBe("string");
  });

  test("text format: timestamp, level, message, audit marker, key=value fields", () => {
    const { obs, stderr } = start(config({ logging: { console: { level: "error" } }, metrics: { prometheus: { enabled: false } } }));
    obs.sink.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "acquire" });
    obs.flush();
    expect(stderr.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  VIP acquired; becoming active for it audit=vip_acquired vip=192\.0\.2\.10\n$/);
  });

  test("console disabled: nothing on stderr", () => {
    const { obs, stderr } = start(config({ logging: { console: { enabled: false } }, metrics: { prometheus: { enabled: false } } }));
    obs.sink.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "release" });
    obs.flush();
    expect(stderr.text).toBe("");
  });
});

describe("logging off the daemon's path", () => {
  /** A bulk reconcile's events, as the controller emits them: one for its changes, then its reconcile. */
  function bulkReconcile(obs: Observability, changes: number): void {
    obs.sink.emit({
      type: "kernel-changes",
      changes: Array.from({ length: changes }, (_, i) => ({ op: "create-destination" as const, service: "tcp:192.0.2.10:80", destination: `10.0.0.${i}:80`, reason: "config" as const, weight: 1 })),
      bulk: changes > BULK_CHANGES,
    });
    obs.sink.emit({
      type: "reconcile",
      result: "success",
      trigger: "startup",
      durationMs: 12.345,
      changes,
      ops: { "create-destination": changes },
      phases: { read: 1, plan: 2, execute: 8, events: 1.345 },
    });
  }

  function quiet(logging: Patch): Config {
    return config({ logging, metrics: { prometheus: { enabled: false } } });
  }

  test("nothing reaches stderr in the daemon's turn; the next turn writes it, in one write", async () => {
    const writes: string[] = [];
    const obs = new Observability({ stderr: { write: (text: string) => void writes.push(text) } });
    running = obs;
    obs.start(quiet({ console: { level: "debug" } }));
    bulkReconcile(obs, 30);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.trim().split("\n")).toHaveLength(31);
  });

  test("text console at info: the summary of a bulk reconcile, not its per-change records; at debug both", () => {
    const info = start(quiet({ console: { level: "info" } }));
    bulkReconcile(info.obs, 30);
    info.obs.flush();
    expect(info.stderr.text).not.toContain("audit=destination_created");
    const lines = info.stderr.text.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      / INFO  Reconciled audit=changes_applied trigger=startup changes=30 duration_ms=12\.35 destinations_created=30 read_ms=1 plan_ms=2 execute_ms=8 events_ms=1\.35$/,
    );
    void info.obs.stop();

    const debug = start(quiet({ console: { level: "debug" } }));
    bulkReconcile(debug.obs, 30);
    debug.obs.flush();
    expect(debug.stderr.text.match(/audit=destination_created/g)).toHaveLength(30);
    expect(debug.stderr.text).toContain("audit=changes_applied");
  });

  test("a JSON console at warn and GELF get every per-change record and the summary", () => {
    const gelf: string[] = [];
    const stderr = new Lines();
    const obs = new Observability({
      stderr,
      gelf: () => ({ write: (record) => void gelf.push(record.audit ?? record.message), flush: () => {}, close: () => {} }),
    });
    running = obs;
    obs.start(quiet({ console: { level: "warn", format: "json" }, gelf: { enabled: true, host: "graylog.example" } }));
    bulkReconcile(obs, 30);
    obs.flush();
    const events = stderr.text.trim().split("\n").map((line) => JSON.parse(line).audit_event);
    expect(events.filter((e) => e === "destination_created")).toHaveLength(30);
    expect(events.at(-1)).toBe("changes_applied");
    expect(gelf.filter((e) => e === "destination_created")).toHaveLength(30);
    expect(gelf.at(-1)).toBe("changes_applied");
  });

  test("a record keeps the time of its event, not of its write", async () => {
    const stderr = new Lines();
    const obs = new Observability({ stderr, schedule: () => {} });
    running = obs;
    obs.start(quiet({ console: { level: "info" } }));
    const before = Date.now();
    obs.sink.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "acquire" });
    await Bun.sleep(30);
    obs.flush();
    const written = Date.parse(stderr.text.slice(0, 24));
    expect(written).toBeGreaterThanOrEqual(before - 1);
    expect(written).toBeLessThan(before + 25);
  });

  test("a full console queue: the records dropped are counted in the metric and reported in the stream", async () => {
    const stderr = new Lines();
    const obs = new Observability({ stderr, schedule: () => {}, queueCapacity: 10 });
    running = obs;
    obs.start(quiet({ console: { level: "debug" } }));
    bulkReconcile(obs, 14);
    obs.flush();
    const lines = stderr.text.trim().split("\n");
    // 10 queued, then 5 dropped (4 changes and the summary), reported in one line after them.
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toMatch(/ WARN  Log records dropped: the console queue was full sink=console dropped=5$/);
    expect(await obs.metrics.scrapeText()).toMatch(/^lbctl_log_records_dropped_total\{node="[^"]*",sink="console"\} 5$/m);
  });

  test("stop writes what is queued", async () => {
    const stderr = new Lines();
    const obs = new Observability({ stderr, schedule: () => {} });
    obs.start(quiet({ console: { level: "info" } }));
    obs.sink.emit({ type: "daemon-stopping", node: "lb-a", signal: "SIGTERM" });
    expect(stderr.text).toBe("");
    await obs.stop();
    expect(stderr.text).toContain("audit=daemon_stopping");
  });
});
