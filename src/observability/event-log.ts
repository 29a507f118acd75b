/** The daemon's events as log lines: what an operator reads in the journal. */

import type { DaemonEvent, EventSink } from "../daemon/events.ts";
import type { Logger } from "./logger.ts";

export function eventLogSink(logger: () => Logger): EventSink {
  return {
    emit(event: DaemonEvent) {
      const log = logger();
      switch (event.type) {
        case "daemon-started":
          return log.info("Daemon started", { node: event.node, pid: event.pid, version: event.version });
        case "daemon-stopping":
          return log.info("Daemon stopping; IPVS rules stay in place", { signal: event.signal });
        case "config-loaded":
          return log.info(event.startup ? "Config loaded" : "Config reloaded", {
            hash: event.hash.slice(0, 12),
            previous_hash: event.previousHash?.slice(0, 12),
            services: event.services,
            backends: event.backends,
          });
        case "config-refused":
          return log.error(`Config reload refused, keeping the running config: ${event.message}`, { reason: event.reason });
        case "reconcile":
          if (event.result === "failure") return log.error(`Reconcile failed: ${event.error}`, { trigger: event.trigger, duration_ms: round(event.durationMs) });
          if (event.changes > 0) return log.info("Reconciled", { trigger: event.trigger, changes: event.changes, duration_ms: round(event.durationMs) });
          return log.debug("Reconciled, no changes", { trigger: event.trigger, duration_ms: round(event.durationMs) });
        case "kernel-change":
          return log.info(`Kernel ${event.op}`, { service: event.service, destination: event.destination, name: event.name, weight: event.weight, reason: event.reason });
        case "vip-transition":
          return log.warn(event.direction === "acquire" ? "VIP acquired; becoming active for it" : "VIP released; standby for it", { vip: event.vip });
        case "vip-state":
          return;
        case "health-transition":
          return log.warn(`Backend ${event.to}`, { service: event.service, backend: event.backend, from: event.from, reason: event.reason });
        case "probe":
          return log.debug(event.ok ? "Probe ok" : "Probe failed", { service: event.service, backend: event.backend, latency_ms: round(event.latencyMs), reason: event.reason });
        case "weight-change":
          return log.info("Backend weight changed", { service: event.service, backend: event.backend, from: event.from, to: event.to, reason: event.reason });
        case "change-limit-hit":
          return log.error("Change limit hit", { limit: event.limit, planned: event.planned, max: event.max });
        case "error":
          return log.error(event.message, { detail: event.detail });
      }
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
