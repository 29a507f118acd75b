/** Observability wired as run.ts uses it: the metrics listener (start, rebind, path, IPv6), /health, logging. */

import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/model.ts";
import { MetricsListenError } from "../../src/observability/http/metrics-server.ts";
import { Observability } from "../../src/observability/setup.ts";
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
