/** The exposition against spec/metrics.md (copied here as an independent statement of the contract). */

import { describe, expect, test } from "bun:test";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { configLoaded, sample } from "./support.ts";

const B = "node,service,backend";
/** spec/metrics.md (and spec/controlplane.md for lbctl_controlplane_*): name → type and label names. */
const CONTRACT: Record<string, [string, string]> = {
  lbctl_vip_is_owner: ["gauge", "node,vip"],
  lbctl_vip_transitions_total: ["counter", "node,vip,direction"],
  lbctl_reconcile_runs_total: ["counter", "node,result"],
  lbctl_reconcile_duration_seconds: ["histogram", "node"],
  lbctl_health_backend_healthy: ["gauge", B],
  lbctl_health_backend_weight: ["gauge", B],
  lbctl_health_check_latency_seconds: ["histogram", B],
  lbctl_ipvs_connections_total: ["counter", B],
  lbctl_ipvs_connections_active: ["gauge", B],
  lbctl_ipvs_packets_in_total: ["counter", B],
  lbctl_ipvs_packets_out_total: ["counter", B],
  lbctl_ipvs_bytes_in_total: ["counter", B],
  lbctl_ipvs_bytes_out_total: ["counter", B],
  lbctl_config_reloads_total: ["counter", "node,result"],
  lbctl_change_limit_hits_total: ["counter", "node,limit"],
  // Beyond spec/metrics.md's table (issue 12): log records a full queue dropped.
  lbctl_log_records_dropped_total: ["counter", "node,sink"],
  // ha.connection_sync (issue 16 §3): which kernel sync daemon roles run.
  lbctl_connection_sync_running: ["gauge", "node,role"],
  // spec/kubernetes.md.
  lbctl_kubernetes_connected: ["gauge", "node"],
  lbctl_kubernetes_pool_addresses: ["gauge", "node,pool,state"],
  lbctl_kubernetes_leader: ["gauge", "node"],
  // spec/controlplane.md "Metrics and audit": only while control_plane.enabled.
  lbctl_controlplane_connected: ["gauge", "node,peer"],
  lbctl_controlplane_updates_total: ["counter", "node,result"],
  lbctl_controlplane_last_sync_timestamp_seconds: ["gauge", "node"],
  lbctl_controlplane_certificate_expiry_timestamp_seconds: ["gauge", "node,certificate"],
  // Issue 16: destinations removed from the config that drain at weight 0.
  lbctl_backend_draining: ["gauge", "node,virtual_service,destination"],
  // Beyond the spec (issue 16): operators' overrides, by kind.
  lbctl_backend_override: ["gauge", "node,service,backend,kind"],
  lbctl_backend_slow_start: ["gauge", B],
  lbctl_service_quorum: ["gauge", "node,service"],
  // bgp.enabled (issue 18): which VIPs this director announces.
  lbctl_bgp_announced: ["gauge", "node,vip"],
};

/** Every event that fills every family once. */
function busyModel(): MetricsModel {
  const model = new MetricsModel();
  model.emit(configLoaded([{ service: "web", backends: ["10.0.0.1:80"], health: true }]));
  model.emit({ type: "vip-state", vip: "192.0.2.10", held: true });
  model.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "acquire" });
  model.emit({ type: "connection-sync", role: "backup", running: true, interface: "eth0", syncId: 50, reason: "enabled" });
  model.emit({ type: "bgp-announcement", vip: "192.0.2.10", announced: true, reason: "serving" });
  model.logDropped("gelf", 2);
  model.emit({ type: "reconcile", result: "success", trigger: "startup", durationMs: 1, changes: 1 });
  model.emit({ type: "probe", service: "web", backend: "10.0.0.1:80", ok: true, latencyMs: 4, reason: "connected" });
  model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 1, bytesOut: 2, packetsIn: 3, packetsOut: 4, connections: 5, activeConnections: 6 })] });
  model.emit({ type: "change-limit-hit", limit: "max_services_deleted", planned: 11, max: 10 });
  model.emit({ type: "kubernetes-pools", pools: [{ pool: "default", allocated: 1, free: 15 }] });
  model.emit({ type: "controlplane-started", mode: "primary", certificateExpiry: { local: 1_900_000_000, ca: 2_100_000_000 } });
  model.emit({ type: "controlplane-peer", peer: "lb-b", connected: true });
  model.emit({ type: "controlplane-synced", atSeconds: 1_800_000_000 });
  model.emit({ type: "drain-started", service: "tcp:192.0.2.10:80", destination: "10.0.0.2:80", deadline: 1_800_000_000_000, connections: 1, resumed: false });
  model.emit({ type: "quorum", service: "web", up: true, liveWeight: 1, quorum: 1, hysteresis: 0 });
  model.emit({ type: "slow-start", service: "web", backend: "10.0.0.1:80", phase: "started", durationMs: 1000 });
  model.emit({ type: "backend-override", action: "set", override: { service: "web", backend: "10.0.0.1:80", kind: "drain", weight: 0, force: false, created_at: 0, by: { user: "alice" } } });
  return model;
}

describe("exposition", () => {
  test("every family of the spec, with its type, label names in order, and nothing else of lbctl's", async () => {
    const text = await createMetricsRegistry(busyModel()).scrapeText();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const own = [...types.keys()].filter((name) => name.startsWith("lbctl_"));
    expect(own.sort()).toEqual(Object.keys(CONTRACT).sort());
    for (const [name, [type, labelNames]] of Object.entries(CONTRACT)) {
      expect(types.get(name)).toBe(type);
      const series = text.split("\n").filter((line) => line.startsWith(type === "histogram" ? `${name}_count{` : `${name}{`));
      expect(series.length).toBeGreaterThan(0);
      for (const line of series) {
        const names = [...line.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
        expect(names.join(",")).toBe(labelNames);
      }
    }
  });

  test("histogram buckets: the spec's for check latency; +Inf, _sum and _count for both", async () => {
    const text = await createMetricsRegistry(busyModel()).scrapeText();
    const les = (name: string) => [...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"\\}`, "gm"))].map((m) => m[1]);
    expect(les("lbctl_health_check_latency_seconds")).toEqual(["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"]);
    expect(les("lbctl_reconcile_duration_seconds").at(-1)).toBe("+Inf");
    expect(text).toMatch(/^lbctl_reconcile_duration_seconds_sum\{node="lb-a"\} 0\.001$/m);
  });

  test("prom-client's process_* collectors only, none of its nodejs_* ones", async () => {
    const text = await createMetricsRegistry(busyModel()).scrapeText();
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    expect(names.filter((n) => n.startsWith("process_"))).toEqual(
      expect.arrayContaining(["process_cpu_seconds_total", "process_start_time_seconds", "process_resident_memory_bytes", "process_open_fds", "process_max_fds"]),
    );
    expect(names.filter((n) => !n.startsWith("process_") && !n.startsWith("lbctl_"))).toEqual([]);
    expect(text.endsWith("\n")).toBe(true);
  });

  test("a large exposition (buffer growth): every backend's series, each once, values intact", async () => {
    const model = new MetricsModel();
    const backends = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:80`);
    model.emit(configLoaded([{ service: "big", backends, health: false }]));
    model.emit({ type: "ipvs-stats", destinations: backends.map((b, i) => sample("big", b, 80, { bytesIn: 2 ** 40 + i, weight: i % 7 })) });
    const text = await createMetricsRegistry(model, { processMetrics: false }).scrapeText();
    const lines = text.split("\n").filter((l) => l.startsWith("lbctl_ipvs_bytes_in_total{"));
    expect(lines).toHaveLength(3000);
    expect(new Set(lines).size).toBe(3000);
    expect(lines[2999]).toBe(`lbctl_ipvs_bytes_in_total{node="lb-a",service="big",backend="10.0.11.183:80"} ${2 ** 40 + 2999}`);
    expect(text).toContain(`lbctl_health_backend_weight{node="lb-a",service="big",backend="10.0.0.6:80"} 6\n`);
  });

  test("the JSON view (for InfluxDB) has the same series as the text", async () => {
    const registry = createMetricsRegistry(busyModel(), { processMetrics: false });
    const text = await registry.scrapeText();
    const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
    const snapshot = await registry.snapshot();
    expect(snapshot.reduce((n, family) => n + family.values.length, 0)).toBe(lines.length);
    const latency = snapshot.find((f) => f.name === "lbctl_health_check_latency_seconds")!;
    expect(latency.values.find((v) => v.metricName === "lbctl_health_check_latency_seconds_bucket" && v.labels.le === "0.005")?.value).toBe(1);
  });
});
