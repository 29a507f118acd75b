/**
 * Audit records: the mapping of every event type, that they bypass the log level, and that the real controller
 * (on an in-memory kernel) emits every audit event lbctl defines through some path.
 */

import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { Controller } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { CONTROL_PLANE_AUDIT_EVENTS, fanOut, RecordingSink, type DaemonEvent } from "../../src/observability/events.ts";
import type { HealthTarget } from "../../src/health/types.ts";
import { memoryOverrideStore } from "../../src/daemon/overrides-store.ts";
import { AUDIT_EVENTS, auditRecords, auditSink, type AuditRecord } from "../../src/observability/audit.ts";
import { createLogger, type LogRecord } from "../../src/observability/logger.ts";
import { configTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { BASE_MAIN, merge, service, type Patch } from "../support/load-helpers.ts";
import { configLoaded } from "./support.ts";

describe("audit records from events", () => {
  test("each event type maps to its records; events that change nothing have none", () => {
    const cases: [DaemonEvent, string[]][] = [
      [{ type: "daemon-started", node: "lb-a", pid: 1, version: "1" }, ["daemon_started"]],
      [{ type: "daemon-stopping", node: "lb-a", signal: "SIGTERM" }, ["daemon_stopping"]],
      [configLoaded([], { startup: true }), ["config_loaded"]],
      [configLoaded([], { startup: false, hash: "b", previousHash: "a" }), ["config_loaded", "config_changed"]],
      [configLoaded([], { startup: false, hash: "a", previousHash: "a" }), ["config_loaded"]],
      [{ type: "config-refused", reason: "invalid", message: "bad" }, ["reload_failed"]],
      [{ type: "vip-transition", vip: "v", direction: "acquire" }, ["vip_acquired"]],
      [{ type: "vip-transition", vip: "v", direction: "release" }, ["vip_released"]],
      [{ type: "health-transition", service: "s", backend: "b", from: "healthy", to: "unhealthy", reason: "refused" }, ["health_state_changed"]],
      [{ type: "weight-change", service: "s", backend: "b", from: 1, to: 0, reason: "health" }, ["backend_weight_changed"]],
      [{ type: "kernel-changes", changes: [{ op: "create-service", service: "tcp:v:80", reason: "config" }], bulk: false }, ["service_created"]],
      [{ type: "kernel-changes", changes: [{ op: "update-service", service: "tcp:v:80", reason: "config" }], bulk: false }, ["service_updated"]],
      [{ type: "kernel-changes", changes: [{ op: "delete-service", service: "tcp:v:80", reason: "drift" }], bulk: false }, ["service_deleted"]],
      [{ type: "kernel-changes", changes: [{ op: "create-destination", service: "tcp:v:80", destination: "d:80", reason: "config" }], bulk: false }, ["destination_created"]],
      [{ type: "kernel-changes", changes: [{ op: "update-destination", service: "tcp:v:80", destination: "d:80", reason: "health" }], bulk: false }, ["destination_updated"]],
      [{ type: "kernel-changes", changes: [{ op: "delete-destination", service: "tcp:v:80", destination: "d:80", reason: "config" }], bulk: false }, ["destination_deleted"]],
      [{ type: "change-limit-hit", limit: "max_services_deleted", planned: 3, max: 1 }, ["change_limit_hit"]],
      [{ type: "reconcile", result: "success", trigger: "interval", durationMs: 1, changes: 0 }, []],
      [{ type: "vip-state", vip: "v", held: true }, []],
      [{ type: "probe", service: "s", backend: "b", ok: true, latencyMs: 1, reason: "ok" }, []],
      [{ type: "ipvs-stats", destinations: [] }, []],
      [{ type: "error", message: "x" }, []],
    ];
    for (const [event, names] of cases) expect(auditRecords(event).map((r) => r.event)).toEqual(names as never);
  });

  test("fields carry hashes, states, weights and reasons", () => {
    expect(auditRecords(configLoaded([], { startup: false, hash: "new", previousHash: "old" }))[1]!.fields).toEqual({ old_hash: "old", new_hash: "new" });
    expect(auditRecords({ type: "weight-change", service: "s", backend: "b", from: 4, to: 0, reason: "health" })[0]!.fields).toEqual({
      service: "s",
      backend: "b",
      old_weight: 4,
      new_weight: 0,
      reason: "health",
    });
    const kernel = auditRecords({ type: "kernel-changes", changes: [{ op: "update-destination", service: "tcp:v:80", destination: "d:80", name: "web", backend: "d:80", reason: "drift", weight: 2, previousWeight: 9 }], bulk: false });
    expect(kernel[0]!.fields).toMatchObject({ virtual_service: "tcp:v:80", destination: "d:80", service: "web", backend: "d:80", weight: 2, old_weight: 9, reason: "drift" });
  });

  test("a batch of kernel changes is one record per change, in order; those of a bulk reconcile are its details", () => {
    const changes = [
      { op: "create-service" as const, service: "tcp:v:80", name: "web", reason: "config" as const },
      { op: "create-destination" as const, service: "tcp:v:80", destination: "d1:80", name: "web", backend: "d1:80", reason: "config" as const, weight: 2 },
      { op: "delete-destination" as const, service: "tcp:v:80", destination: "d2:80", name: "web", reason: "drain" as const, previousWeight: 0 },
    ];
    for (const bulk of [false, true]) {
      const records = auditRecords({ type: "kernel-changes", changes, bulk });
      expect(records.map((r) => [r.event, r.fields.destination, r.fields.backend, r.fields.weight, r.fields.old_weight, r.detail])).toEqual([
        ["service_created", undefined, undefined, undefined, undefined, bulk],
        ["destination_created", "d1:80", "d1:80", 2, undefined, bulk],
        ["destination_deleted", "d2:80", undefined, undefined, 0, bulk],
      ]);
      // The sink writes the same records, when some destination wants the details of a bulk reconcile.
      const written: AuditRecord[] = [];
      auditSink((record) => written.push(record), () => true).emit({ type: "kernel-changes", changes, bulk });
      expect(written).toEqual(records);
      const none: AuditRecord[] = [];
      auditSink((record) => none.push(record), () => false).emit({ type: "kernel-changes", changes, bulk });
      expect(none).toHaveLength(bulk ? 0 : 3);
    }
  });

  test("written whatever the level: a logger at error still writes an info audit record", () => {
    const written: LogRecord[] = [];
    const logger = createLogger({ level: "error", sinks: [{ write: (r) => written.push(r) }] });
    const sink = auditSink((record) => logger.audit(record));
    logger.info("hidden");
    sink.emit({ type: "vip-transition", vip: "192.0.2.10", direction: "release" });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ audit: "vip_released", level: "warn", fields: { vip: "192.0.2.10" } });
  });
});

describe("every audit event is emitted by the daemon's controller", () => {
  class FakeHealth {
    states = new Map<string, "unknown" | "healthy" | "unhealthy">();
    sync(_targets: readonly HealthTarget[]): void {}
    state(id: string) {
      const state = this.states.get(id);
      return state ? { state } : undefined;
    }
    stateAfterSync(target: HealthTarget) {
      return this.states.get(target.id) ?? "unknown";
    }
  }

  test("start, VIP moves, a failover, reloads (changed, invalid, over a limit) and drift repair", () => {
    const tree = configTree();
    const write = (services: Patch[], main: Patch = {}) => {
      tree.write("config.yaml", stringify(merge(merge(BASE_MAIN, { system: { state_dir: tree.path("state") } }), main)));
      tree.write("config.d/s.yaml", stringify({ services }));
    };
    try {
      const health = { enabled: true };
      write([
        service({ name: "web", ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2" }, { address: "10.0.0.5" }], health }),
        service({ name: "other", vip: "192.0.2.20", ports: [8080], backends: [{ address: "10.0.0.3" }], sorry_server: "10.0.0.99:8080" }),
      ]);
      const kernel = new FakeKernel();
      const local = new Set(["192.0.2.10"]);
      const fakeHealth = new FakeHealth();
      const events = new RecordingSink();
      const audit: AuditRecord[] = [];
      let now = 0;
      let wall = Date.UTC(2026, 0, 1);
      const controller = Controller.start({
        wallClock: () => wall,
        sources: [fileSource(tree.main, { env: {} })],
        ipvs: kernel,
        addresses: { localAddresses: () => local },
        health: fakeHealth,
        events: fanOut([events, auditSink((r) => audit.push(r))]),
        vipRecord: { read: () => [], write: () => {} },
        now: () => now,
        wallNow: () => now,
        // One override made by an earlier daemon: restored at start.
        overrides: memoryOverrideStore([{ service: "other", backend: "10.0.0.3:8080", kind: "weight", weight: 2, force: false, created_at: 0, by: { user: "alice" } }]),
      });
      const tick = () => ((now += 1000), controller.tick());
      // An operator drains a backend for a minute, another one reweights and then clears it.
      controller.setOverride({ service: "web", backend: "10.0.0.5", action: "drain", ttl_ms: 1000, by: { user: "bob" } });
      controller.setOverride({ service: "other", backend: "10.0.0.3", action: "enable", by: { user: "carol" } });
      // Draining the only backend of "other" loses its quorum (the sorry server goes in); enabling it regains it.
      controller.setOverride({ service: "other", backend: "10.0.0.3", action: "drain", by: { user: "carol" } });
      expect(kernel.rules()).toContain("-a tcp:192.0.2.20:8080 -r 10.0.0.99:8080 -nat -w 1");
      controller.setOverride({ service: "other", backend: "10.0.0.3", action: "enable", by: { user: "carol" } });
      expect(kernel.rules().filter((r) => r.includes("10.0.0.99"))).toEqual([]);
      local.add("192.0.2.20");
      tick();
      local.delete("192.0.2.20");
      tick();
      fakeHealth.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition({
        service: "web",
        backend: "10.0.0.1:80",
        from: "healthy",
        to: "unhealthy",
        result: { ok: false, reason: "connection refused", latencyMs: 1 },
      });
      // Drift: someone changes a weight by hand; the next tick puts it back.
      kernel.execute([{ kind: "set-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destination: { address: "10.0.0.2", port: 80, family: 4, forward: "nat", weight: 9, upperThreshold: 0, lowerThreshold: 0 } }]);
      tick();
      // A reload that changes a weight, a scheduler, drops a backend and a service.
      write([service({ name: "web", ports: [80, 443], scheduler: "rr", backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2", weight: 3 }], health })]);
      expect(controller.reload().result).toBe("success");
      write([service({ name: "web", ports: [80, 443], scheduler: "bogus", backends: [] })]);
      expect(controller.reload().result).toBe("failure");
      write([service({ name: "web", ports: [80], backends: [] })], { daemon: { change_limits: { max_services_deleted: 0 } } });
      expect(controller.reload().result).toBe("refused");
      // A backend with connections leaves the config: it drains; one port's drain ends, the other's times out.
      const web = (port: number) => kernel.services.get(`tcp:192.0.2.10:${port}`)!.destinations.find((d) => d.address === "10.0.0.2")!;
      web(80).activeConnections = 1;
      web(443).activeConnections = 1;
      write([service({ name: "web", ports: [80, 443], scheduler: "rr", backends: [{ address: "10.0.0.1", weight: 4 }], health })]);
      now += 1000; // past the state cache's lifetime: the reload reads the connections
      expect(controller.reload().result).toBe("success");
      web(80).activeConnections = 0;
      tick();
      wall += 301_000;
      tick();

      const emitted = new Set(audit.map((r) => r.event));
      // Emitted by daemon.ts, not the controller: lab test tests/lab/observability.test.ts; connection sync:
      // tests/daemon/connection-sync.test.ts and tests/lab/connection-sync.test.ts.
      const byRun = ["daemon_started", "daemon_stopping", "connection_sync_started", "connection_sync_stopped"];
      // BGP: tests/daemon/bgp-announcer.test.ts and tests/lab/bgp.test.ts.
      byRun.push("bgp_announced", "bgp_withdrawn");
      // Emitted by the Kubernetes source (tests/k8s/daemon-source.test.ts).
      byRun.push("kubernetes_connected", "kubernetes_disconnected", "kubernetes_leader_acquired", "kubernetes_leader_lost", "kubernetes_removal");
      // controlplane_* by config replication (tests/controlplane/audit.test.ts).
      byRun.push(...CONTROL_PLANE_AUDIT_EVENTS);
      // config_committed and config_lock_broken on a word of lbctl shell/edit (tests/shell/audit.test.ts).
      byRun.push("config_committed", "config_lock_broken");
      expect(AUDIT_EVENTS.filter((name) => !emitted.has(name) && !byRun.includes(name))).toEqual([]);
      expect(audit.find((r) => r.event === "backend_weight_changed" && r.fields.reason === "config")?.fields).toEqual({
        service: "web",
        backend: "10.0.0.2:80",
        old_weight: 1,
        new_weight: 3,
        reason: "config",
      });
      expect(audit.filter((r) => r.event === "backend_weight_changed" && r.fields.reason === "drift")).toHaveLength(1);
      expect(audit.find((r) => r.event === "destination_deleted" && r.fields.service === "web")?.fields).toMatchObject({ service: "web", destination: "10.0.0.5:80", reason: "config" });
      expect(audit.find((r) => r.event === "service_deleted")?.fields).toMatchObject({ virtual_service: "tcp:192.0.2.20:8080", reason: "config" });
      expect(audit.find((r) => r.event === "reload_failed" && r.fields.reason === "limit")?.fields).toMatchObject({ limit: "max_services_deleted", limit_max: 0 });
      expect(audit.filter((r) => r.event === "drain_started").map((r) => r.fields.destination).sort()).toEqual(["10.0.0.2:443", "10.0.0.2:80"]);
      expect(audit.find((r) => r.event === "drain_ended")?.fields).toMatchObject({ virtual_service: "tcp:192.0.2.10:80", reason: "drained", connections: 0 });
      expect(audit.find((r) => r.event === "drain_timed_out")).toMatchObject({ level: "warn", fields: { virtual_service: "tcp:192.0.2.10:443", connections: 1 } });
      const updated = audit.find((r) => r.event === "destination_updated" && r.fields.reason === "health");
      expect(updated?.fields).toMatchObject({ service: "web", backend: "10.0.0.1:80", weight: 0, old_weight: 4 });
    } finally {
      tree.remove();
    }
  });
});
