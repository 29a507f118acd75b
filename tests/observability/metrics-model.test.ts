/** The metrics model from sequences of daemon events: monotonic counters, pruning, health, weights, VIPs. */

import { describe, expect, test } from "bun:test";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { configLoaded, parseExposition, sample } from "./support.ts";

const WEB = { service: "web", backends: ["10.0.0.1:80", "10.0.0.2:80"], health: true };
const labels = (backend: string, service = "web") => `{node="lb-a",service="${service}",backend="${backend}"}`;

async function scrape(model: MetricsModel): Promise<Map<string, number>> {
  return parseExposition(await createMetricsRegistry(model, { processMetrics: false }).scrapeText());
}

describe("IPVS traffic counters", () => {
  test("are summed over a backend's destinations (all service ports) and labelled by backend, not port", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([{ service: "web", backends: ["10.0.0.1:80"], health: false }]));
    const ports = Array.from({ length: 1000 }, (_, i) => 8000 + i);
    model.emit({ type: "ipvs-stats", destinations: ports.map((port) => sample("web", "10.0.0.1:80", port, { bytesIn: 10, connections: 1, activeConnections: 2 })) });
    const series = await scrape(model);
    expect(series.get(`lbctl_ipvs_bytes_in_total${labels("10.0.0.1:80")}`)).toBe(10_000);
    expect(series.get(`lbctl_ipvs_connections_total${labels("10.0.0.1:80")}`)).toBe(1000);
    expect(series.get(`lbctl_ipvs_connections_active${labels("10.0.0.1:80")}`)).toBe(2000);
    expect([...series.keys()].filter((k) => k.startsWith("lbctl_ipvs_bytes_in_total"))).toHaveLength(1);
  });

  test("never go backwards when a destination is recreated (announced by a kernel change)", () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    const bytes = () => model.backend("web", "10.0.0.1:80")!.traffic!.totals[3];
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 500 })] });
    expect(bytes()).toBe(500);
    model.emit({ type: "kernel-changes", changes: [{ op: "delete-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", reason: "drift" }], bulk: false });
    model.emit({ type: "kernel-changes", changes: [{ op: "create-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", backend: "10.0.0.1:80", reason: "drift", weight: 1 }], bulk: false });
    // The new destination already counted more than the old one had: a restart no comparison could see.
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 700 })] });
    expect(bytes()).toBe(1200);
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 750 })] });
    expect(bytes()).toBe(1250);
  });

  test("never go backwards when the kernel restarts a counter unannounced (ipvsadm -Z, a recreation between samples)", () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    const series: number[] = [];
    for (const raw of [100, 300, 20, 50, 0, 10]) {
      model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { packetsOut: raw })] });
      series.push(model.backend("web", "10.0.0.1:80")!.traffic!.totals[2]!);
    }
    expect(series).toEqual([100, 300, 320, 350, 350, 360]);
  });

  test("a whole virtual service recreated (delete-service, create-service) keeps its backends' totals", () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { connections: 40 }), sample("web", "10.0.0.2:80", 80, { connections: 60 })] });
    model.emit({ type: "kernel-changes", changes: [{ op: "delete-service", service: "tcp:192.0.2.10:80", name: "web", reason: "config" }], bulk: false });
    model.emit({ type: "kernel-changes", changes: [{ op: "create-service", service: "tcp:192.0.2.10:80", name: "web", reason: "config" }], bulk: false });
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { connections: 45 }), sample("web", "10.0.0.2:80", 80, { connections: 1 })] });
    expect(model.backend("web", "10.0.0.1:80")!.traffic!.totals[0]).toBe(85);
    expect(model.backend("web", "10.0.0.2:80")!.traffic!.totals[0]).toBe(61);
  });

  test("a destination that disappears (a port removed, cold standby) keeps its share in the backend's total", () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesOut: 5 }), sample("web", "10.0.0.1:80", 81, { bytesOut: 7 })] });
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesOut: 6 })] });
    expect(model.backend("web", "10.0.0.1:80")!.traffic!.totals[4]).toBe(13);
    model.emit({ type: "ipvs-stats", destinations: [] });
    expect(model.backend("web", "10.0.0.1:80")!.traffic!.totals[4]).toBe(13);
    expect(model.backend("web", "10.0.0.1:80")!.traffic!.active).toBe(0);
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 81, { bytesOut: 2 })] });
    expect(model.backend("web", "10.0.0.1:80")!.traffic!.totals[4]).toBe(15);
  });
});

describe("series follow the config", () => {
  test("a backend or service that leaves the config loses every series; the others keep theirs", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB, { service: "dns", backends: ["10.0.0.9:53"], health: false }]));
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 1 }), sample("web", "10.0.0.2:80", 80, { bytesIn: 2 }), sample("dns", "10.0.0.9:53", 53, { bytesIn: 3 })] });
    model.emit({ type: "probe", service: "web", backend: "10.0.0.2:80", ok: true, latencyMs: 3, reason: "connected" });
    let series = await scrape(model);
    expect([...series.keys()].filter((k) => k.includes("10.0.0.2:80")).length).toBeGreaterThan(10);
    model.emit(configLoaded([{ ...WEB, backends: ["10.0.0.1:80"] }], { startup: false }));
    series = await scrape(model);
    expect([...series.keys()].filter((k) => k.includes("10.0.0.2:80"))).toEqual([]);
    expect([...series.keys()].filter((k) => k.includes(`service="dns"`))).toEqual([]);
    expect(series.get(`lbctl_ipvs_bytes_in_total${labels("10.0.0.1:80")}`)).toBe(1);
    // Stats of a backend that is no longer configured create nothing.
    model.emit({ type: "ipvs-stats", destinations: [sample("dns", "10.0.0.9:53", 53, { bytesIn: 9 })] });
    expect([...(await scrape(model)).keys()].filter((k) => k.includes(`service="dns"`))).toEqual([]);
  });

  test("health: a 0 series per checked backend from the config on; none for unchecked services; gone when checks are turned off", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB, { service: "dns", backends: ["10.0.0.9:53"], health: false }]));
    let series = await scrape(model);
    expect(series.get(`lbctl_health_backend_healthy${labels("10.0.0.1:80")}`)).toBe(0);
    expect([...series.keys()].filter((k) => k.startsWith("lbctl_health_backend_healthy") && k.includes("dns"))).toEqual([]);
    model.emit({ type: "health-transition", service: "web", backend: "10.0.0.1:80", from: "unknown", to: "healthy", reason: "connected" });
    model.emit({ type: "health-transition", service: "dns", backend: "10.0.0.9:53", from: "unknown", to: "healthy", reason: "?" });
    model.emit({ type: "probe", service: "web", backend: "10.0.0.1:80", ok: true, latencyMs: 7, reason: "connected" });
    model.emit({ type: "probe", service: "web", backend: "10.0.0.1:80", ok: false, latencyMs: 2000, reason: "timeout" });
    series = await scrape(model);
    expect(series.get(`lbctl_health_backend_healthy${labels("10.0.0.1:80")}`)).toBe(1);
    expect(series.get(`lbctl_health_check_latency_seconds_bucket{node="lb-a",service="web",backend="10.0.0.1:80",le="0.01"}`)).toBe(1);
    expect(series.get(`lbctl_health_check_latency_seconds_bucket{node="lb-a",service="web",backend="10.0.0.1:80",le="+Inf"}`)).toBe(2);
    expect(series.get(`lbctl_health_check_latency_seconds_count${labels("10.0.0.1:80")}`)).toBe(2);
    expect(series.get(`lbctl_health_check_latency_seconds_sum${labels("10.0.0.1:80")}`)).toBeCloseTo(2.007, 6);
    expect([...series.keys()].filter((k) => k.startsWith("lbctl_health_") && k.includes("dns"))).toEqual([]);
    model.emit(configLoaded([{ ...WEB, health: false }], { startup: false }));
    series = await scrape(model);
    expect([...series.keys()].filter((k) => k.startsWith("lbctl_health_backend_healthy") || k.startsWith("lbctl_health_check_latency"))).toEqual([]);
    model.emit(configLoaded([WEB], { startup: false }));
    expect((await scrape(model)).get(`lbctl_health_backend_healthy${labels("10.0.0.1:80")}`)).toBe(0);
  });

  test("weight: from kernel changes, weight changes and the stats' kernel weight", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    const weight = () => model.backend("web", "10.0.0.1:80")!.weight;
    expect(weight()).toBeUndefined();
    model.emit({ type: "kernel-changes", changes: [{ op: "create-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", backend: "10.0.0.1:80", reason: "config", weight: 3 }], bulk: false });
    expect(weight()).toBe(3);
    model.emit({ type: "weight-change", service: "web", backend: "10.0.0.1:80", from: 3, to: 0, reason: "health" });
    expect(weight()).toBe(0);
    model.emit({ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { weight: 5 })] });
    expect(weight()).toBe(5);
    model.emit({ type: "kernel-changes", changes: [{ op: "update-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", backend: "10.0.0.1:80", reason: "health", weight: 0, previousWeight: 5 }], bulk: false });
    expect((await scrape(model)).get(`lbctl_health_backend_weight${labels("10.0.0.1:80")}`)).toBe(0);
  });

  test("weight: a batch of kernel changes sets each backend's weight, the last change of a backend winning", () => {
    const model = new MetricsModel();
    const API = { ...WEB, service: "api", backends: ["10.0.0.2:80"] };
    model.emit(configLoaded([WEB, API]));
    const generation = model.generation;
    const create = (service: string, name: string, backend: string, weight: number) => ({ op: "create-destination" as const, service, destination: backend, name, backend, reason: "config" as const, weight });
    model.emit({
      type: "kernel-changes",
      changes: [
        { op: "create-service", service: "tcp:192.0.2.10:80", name: "web", reason: "config" },
        create("tcp:192.0.2.10:80", "web", "10.0.0.1:80", 3),
        create("tcp:192.0.2.11:80", "api", "10.0.0.2:80", 7),
        { op: "update-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", backend: "10.0.0.1:80", reason: "health", weight: 0, previousWeight: 3 },
      ],
      bulk: false,
    });
    expect(model.backend("web", "10.0.0.1:80")!.weight).toBe(0);
    expect(model.backend("api", "10.0.0.2:80")!.weight).toBe(7);
    expect(model.generation).toBe(generation + 1);
  });

  test("VIPs: ownership and transitions; a VIP no longer managed loses its series after the next reconcile", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    const tick = (vips: [string, boolean][]) => {
      for (const [vip, held] of vips) model.emit({ type: "vip-state", vip, held });
      model.emit({ type: "reconcile", result: "success", trigger: "interval", durationMs: 2, changes: 0 });
    };
    tick([["192.0.2.10", false], ["192.0.2.20", false]]);
    model.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "acquire" });
    tick([["192.0.2.10", true], ["192.0.2.20", false]]);
    let series = await scrape(model);
    expect(series.get(`lbctl_vip_is_owner{node="lb-a",vip="192.0.2.10"}`)).toBe(1);
    expect(series.get(`lbctl_vip_is_owner{node="lb-a",vip="192.0.2.20"}`)).toBe(0);
    expect(series.get(`lbctl_vip_transitions_total{node="lb-a",vip="192.0.2.10",direction="acquire"}`)).toBe(1);
    expect(series.get(`lbctl_vip_transitions_total{node="lb-a",vip="192.0.2.10",direction="release"}`)).toBe(0);
    // A health-triggered reconcile reports no VIPs: it must not prune.
    model.emit({ type: "reconcile", result: "success", trigger: "health", durationMs: 1, changes: 1 });
    tick([["192.0.2.10", true]]);
    series = await scrape(model);
    expect([...series.keys()].filter((k) => k.includes("192.0.2.20"))).toEqual([]);
    expect(series.get(`lbctl_vip_is_owner{node="lb-a",vip="192.0.2.10"}`)).toBe(1);
  });

  test("reconciles, reloads and limits are counted; the node label follows node.name", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([WEB]));
    model.emit({ type: "reconcile", result: "success", trigger: "startup", durationMs: 3, changes: 4 });
    model.emit({ type: "reconcile", result: "failure", trigger: "interval", durationMs: 2000, changes: 0, error: "EPERM" });
    model.emit(configLoaded([WEB], { startup: false }));
    model.emit({ type: "config-refused", reason: "invalid", message: "bad" });
    model.emit({ type: "change-limit-hit", limit: "max_services_deleted", planned: 12, max: 10 });
    model.emit({ type: "config-refused", reason: "limit", message: "over", limit: { name: "max_services_deleted", limit: 10, planned: 12 } });
    let series = await scrape(model);
    expect(series.get(`lbctl_reconcile_runs_total{node="lb-a",result="success"}`)).toBe(1);
    expect(series.get(`lbctl_reconcile_runs_total{node="lb-a",result="failure"}`)).toBe(1);
    expect(series.get(`lbctl_reconcile_duration_seconds_bucket{node="lb-a",le="0.005"}`)).toBe(1);
    expect(series.get(`lbctl_reconcile_duration_seconds_bucket{node="lb-a",le="2.5"}`)).toBe(2);
    expect(series.get(`lbctl_reconcile_duration_seconds_count{node="lb-a"}`)).toBe(2);
    expect(series.get(`lbctl_config_reloads_total{node="lb-a",result="success"}`)).toBe(1);
    expect(series.get(`lbctl_config_reloads_total{node="lb-a",result="failure"}`)).toBe(1);
    expect(series.get(`lbctl_config_reloads_total{node="lb-a",result="refused"}`)).toBe(1);
    expect(series.get(`lbctl_change_limit_hits_total{node="lb-a",limit="max_services_deleted"}`)).toBe(1);
    model.emit(configLoaded([WEB], { startup: false, node: "lb-b" }));
    series = await scrape(model);
    expect([...series.keys()].filter((k) => k.includes(`node="lb-a"`))).toEqual([]);
    expect(series.get(`lbctl_health_backend_healthy{node="lb-b",service="web",backend="10.0.0.1:80"}`)).toBe(0);
  });

  test("label values are escaped in the text format", async () => {
    const model = new MetricsModel();
    model.emit(configLoaded([{ service: 'we"b\\x', backends: ["[2001:db8::1]:80"], health: true }], { node: "a\nb" }));
    const text = await createMetricsRegistry(model, { processMetrics: false }).scrapeText();
    expect(text).toContain(`lbctl_health_backend_healthy{node="a\\nb",service="we\\"b\\\\x",backend="[2001:db8::1]:80"} 0`);
  });
});
