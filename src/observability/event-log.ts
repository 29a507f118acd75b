/**
 * The daemon's events as log lines: what an operator reads in the journal. Events that change something are
 * audit records (audit.ts), written whatever the level, as is the summary of a reconcile that changed something;
 * this sink logs the rest at their level.
 */

import type { DaemonEvent, EventSink } from "./events.ts";
import { AUDITED_EVENT_TYPES } from "./audit.ts";
import type { Logger } from "./logger.ts";

export function eventLogSink(logger: () => Logger): EventSink {
  return {
    emit(event: DaemonEvent) {
      if (AUDITED_EVENT_TYPES.has(event.type)) return;
      const log = logger();
      switch (event.type) {
        case "reconcile":
          if (event.result === "failure") return log.error(`Reconcile failed: ${event.error}`, { trigger: event.trigger, duration_ms: round(event.durationMs) });
          // A reconcile that changed something is the audit record `changes_applied` (audit.ts).
          if (event.changes > 0) return;
          return log.debug("Reconciled, no changes", { trigger: event.trigger, duration_ms: round(event.durationMs) });
        case "probe":
          return log.debug(event.ok ? "Probe ok" : "Probe failed", { service: event.service, backend: event.backend, latency_ms: round(event.latencyMs), reason: event.reason });
        case "ipvs-stats":
          return log.debug("IPVS statistics read", { destinations: event.destinations.length });
        case "error":
          return log.error(event.message, { detail: event.detail });
        case "slow-start":
          return event.phase === "started"
            ? log.info("Slow start: ramping the backend's weight up from 1", { service: event.service, backend: event.backend, duration_ms: event.durationMs })
            : log.info("Slow start done: the backend has its full weight", { service: event.service, backend: event.backend });
        default:
          return;
      }
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
