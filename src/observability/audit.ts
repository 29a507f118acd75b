/**
 * Audit records: what changed in the load balancer and why, as structured records that are written whatever the
 * console level (an operator at `warn` still gets them). Pure: events in, records out; the logger writes them to
 * every log destination (text: `audit=<event>`, JSON: `"audit":true`, GELF: `_event_type=audit`).
 */

import { CONTROL_PLANE_AUDIT_EVENTS, type DaemonEvent, type EventSink, type KernelChange, type OperatorEvent } from "./events.ts";
import type { ChangeOp } from "../plan/changes.ts";
import type { AuditLogEntry } from "./logger.ts";

/** Every audit event lbctl defines (docs/metrics.md lists them with their fields). */
export const AUDIT_EVENTS = [
  "daemon_started",
  "daemon_stopping",
  "config_loaded",
  "config_changed",
  "reload_failed",
  "config_committed",
  "config_lock_broken",
  "vip_acquired",
  "vip_released",
  "bgp_announced",
  "bgp_withdrawn",
  "connection_sync_started",
  "connection_sync_stopped",
  "health_state_changed",
  "backend_weight_changed",
  "service_created",
  "service_updated",
  "service_deleted",
  "destination_created",
  "destination_updated",
  "destination_deleted",
  "change_limit_hit",
  "changes_applied",
  "kubernetes_connected",
  "kubernetes_disconnected",
  "kubernetes_leader_acquired",
  "kubernetes_leader_lost",
  "kubernetes_removal",
  ...CONTROL_PLANE_AUDIT_EVENTS,
  "drain_started",
  "drain_ended",
  "drain_timed_out",
  "backend_override_set",
  "backend_override_cleared",
  "backend_override_expired",
  "backend_override_restored",
  "quorum_lost",
  "quorum_regained",
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditRecord extends AuditLogEntry {
  event: AuditEvent;
}

const KERNEL_EVENTS: Record<ChangeOp, AuditEvent> = {
  "create-service": "service_created",
  "update-service": "service_updated",
  "delete-service": "service_deleted",
  "create-destination": "destination_created",
  "update-destination": "destination_updated",
  "delete-destination": "destination_deleted",
};

const KERNEL_MESSAGES: Record<ChangeOp, string> = {
  "create-service": "Kernel create-service",
  "update-service": "Kernel update-service",
  "delete-service": "Kernel delete-service",
  "create-destination": "Kernel create-destination",
  "update-destination": "Kernel update-destination",
  "delete-destination": "Kernel delete-destination",
};

/** The audit records of one event (none for events that change nothing, such as probes or stats). */
export function auditRecords(event: DaemonEvent): AuditRecord[] {
  switch (event.type) {
    case "daemon-started":
      return [{ event: "daemon_started", level: "info", message: "Daemon started", fields: { node: event.node, pid: event.pid, version: event.version, ...startupFields(event.startup) } }];
    case "daemon-stopping":
      return [{ event: "daemon_stopping", level: "info", message: "Daemon stopping; IPVS rules stay in place", fields: { node: event.node, signal: event.signal } }];
    case "config-loaded": {
      const loaded: AuditRecord = {
        event: "config_loaded",
        level: "info",
        message: event.startup ? "Config loaded" : "Config reloaded",
        fields: { config_hash: event.hash, services_count: event.services, backends_count: event.backends, startup: event.startup, files: event.files.length },
      };
      if (event.startup || event.previousHash === undefined || event.previousHash === event.hash) return [loaded];
      return [loaded, { event: "config_changed", level: "info", message: "Config changed", fields: { old_hash: event.previousHash, new_hash: event.hash } }];
    }
    case "config-refused":
      return [
        {
          event: "reload_failed",
          level: "error",
          message: `Config reload refused, keeping the running config: ${event.message}`,
          fields: { reason: event.reason, limit: event.limit?.name, limit_max: event.limit?.limit, limit_planned: event.limit?.planned },
        },
      ];
    case "vip-transition":
      return event.direction === "acquire"
        ? [{ event: "vip_acquired", level: "warn", message: "VIP acquired; becoming active for it", fields: { vip: event.vip } }]
        : [{ event: "vip_released", level: "warn", message: "VIP released; standby for it", fields: { vip: event.vip } }];
    case "connection-sync":
      return [
        {
          event: event.running ? "connection_sync_started" : "connection_sync_stopped",
          level: "info",
          message: event.running ? `Connection sync ${event.role} started` : `Connection sync ${event.role} stopped`,
          fields: { role: event.role, interface: event.interface, sync_id: event.syncId, reason: event.reason },
        },
      ];
    case "bgp-announcement":
      return [
        {
          event: event.announced ? "bgp_announced" : "bgp_withdrawn",
          level: event.announced ? "info" : "warn",
          message: event.announced ? "VIP announced over BGP" : "VIP withdrawn from BGP",
          fields: { vip: event.vip, reason: event.reason },
        },
      ];
    case "health-transition":
      return [
        {
          event: "health_state_changed",
          level: event.to === "unhealthy" ? "warn" : "info",
          message: `Backend ${event.to}`,
          fields: { service: event.service, backend: event.backend, old_state: event.from, new_state: event.to, reason: event.reason },
        },
      ];
    case "weight-change":
      return [
        {
          event: "backend_weight_changed",
          level: "info",
          message: "Backend weight changed",
          fields: { service: event.service, backend: event.backend, old_weight: event.from, new_weight: event.to, reason: event.reason },
        },
      ];
    case "kernel-changes":
      return event.changes.map((change) => kernelChangeRecord(change, event.bulk));
    case "backend-override":
      return [overrideRecord(event)];
    case "config-committed":
    case "config-lock-broken":
      return [operatorRecord(event)];
    case "quorum":
      return [
        {
          event: event.up ? "quorum_regained" : "quorum_lost",
          level: event.up ? "info" : "error",
          message: event.up
            ? `Quorum regained${event.sorryServer ? "; the sorry server is removed" : ""}`
            : `Quorum lost${event.sorryServer ? "; the sorry server takes new connections" : ""}`,
          fields: { service: event.service, live_weight: event.liveWeight, quorum: event.quorum, hysteresis: event.hysteresis, sorry_server: event.sorryServer },
        },
      ];
    case "change-limit-hit":
      return [{ event: "change_limit_hit", level: "error", message: "Change limit hit", fields: { limit: event.limit, planned: event.planned, max: event.max } }];
    case "drain-started":
      return [
        {
          event: "drain_started",
          level: "info",
          message: event.resumed ? "Destination still draining (resumed at start)" : "Destination removed from the config: draining at weight 0",
          fields: { virtual_service: event.service, destination: event.destination, service: event.name, connections: event.connections, deadline: new Date(event.deadline).toISOString(), resumed: event.resumed },
        },
      ];
    case "drain-ended":
      return [
        event.reason === "timeout"
          ? {
              event: "drain_timed_out",
              level: "warn",
              message: "Drain timed out: destination deleted with connections left",
              fields: { virtual_service: event.service, destination: event.destination, service: event.name, connections: event.connections },
            }
          : {
              event: "drain_ended",
              level: "info",
              message: event.reason === "drained" ? "Drain finished: no connections left" : event.reason === "restored" ? "Drain stopped: the backend is back in the config" : "Drain ended: the destination left the kernel",
              fields: { virtual_service: event.service, destination: event.destination, service: event.name, reason: event.reason, connections: event.connections },
            },
      ];
    case "reconcile":
      return event.result === "success" && event.changes > 0 ? [changesApplied(event)] : [];
    case "controlplane-audit":
      return [{ event: event.event, level: event.level, message: event.message, fields: flatFields(event.fields) }];
    case "kubernetes-connection":
      return event.connected
        ? [{ event: "kubernetes_connected", level: "info", message: "Kubernetes API connected", fields: {} }]
        : [{ event: "kubernetes_disconnected", level: "warn", message: "Kubernetes API unreachable; serving the last known Services", fields: { error: event.error } }];
    case "kubernetes-leader":
      return [
        event.leader
          ? { event: "kubernetes_leader_acquired", level: "info", message: "Kubernetes leader: writing status, finalizers and events", fields: { lease: event.lease, identity: event.identity } }
          : { event: "kubernetes_leader_lost", level: "warn", message: "Kubernetes follower: programming only", fields: { lease: event.lease, identity: event.identity } },
      ];
    case "kubernetes-removal":
      return [
        {
          event: "kubernetes_removal",
          level: "info",
          message: "Rules removed because the cluster said so (exempt from the change limits)",
          fields: { service: event.service, reason: event.reason, services_deleted: event.services, destinations_deleted: event.destinations },
        },
      ];
    case "kubernetes-pools":
    // Each step of the ramp is a backend_weight_changed record with reason slow-start.
    case "slow-start":
    case "vip-state":
    case "probe":
    case "ipvs-stats":
    case "error":
    case "controlplane-started":
    case "controlplane-peer":
    case "controlplane-peer-gone":
    case "controlplane-update":
    case "controlplane-synced":
      return [];
  }
}

/** One record per kernel change (the contract), a detail of the reconcile's summary when it is one of many. */
function kernelChangeRecord(change: KernelChange, bulk: boolean): AuditRecord {
  return {
    event: KERNEL_EVENTS[change.op],
    level: "info",
    detail: bulk,
    message: KERNEL_MESSAGES[change.op],
    fields: {
      virtual_service: change.service,
      destination: change.destination,
      service: change.name,
      backend: change.backend,
      weight: change.weight,
      old_weight: change.previousWeight,
      reason: change.reason,
    },
  };
}

const OVERRIDE_MESSAGES = {
  set: ["backend_override_set", "Backend override set"],
  cleared: ["backend_override_cleared", "Backend override cleared"],
  expired: ["backend_override_expired", "Backend override expired"],
  restored: ["backend_override_restored", "Backend override restored from state_dir"],
} as const;

/**
 * An operator's override: which backend, what it asks, until when, and who. `user`/`login_uid`/`sudo_user` name who
 * acted (set or cleared); an expired or restored record names who set it.
 */
function overrideRecord(event: Extract<DaemonEvent, { type: "backend-override" }>): AuditRecord {
  const [name, message] = OVERRIDE_MESSAGES[event.action];
  const { override } = event;
  const actor = event.by ?? override.by;
  return {
    event: name,
    level: event.action === "restored" ? "info" : "warn",
    message,
    fields: {
      service: override.service,
      backend: override.backend,
      kind: override.kind,
      weight: override.weight,
      force: override.force,
      expires_at: override.expires_at === undefined ? undefined : new Date(override.expires_at).toISOString(),
      user: actor.user,
      login_uid: actor.login_uid,
      sudo_user: actor.sudo_user,
      previous_kind: event.previous?.kind,
      previous_weight: event.previous?.weight,
    },
  };
}

/**
 * A commit of `lbctl shell`/`lbctl edit`, or a broken configuration lock, with who did it. Exported because the shell
 * writes the lock-break record itself, in the daemon's format, when no daemon runs.
 */
export function operatorRecord(event: OperatorEvent): AuditRecord {
  const actor = { user: event.by.user, login_uid: event.by.login_uid, sudo_user: event.by.sudo_user };
  if (event.type === "config-lock-broken") {
    const { holder } = event;
    return {
      event: "config_lock_broken",
      level: "warn",
      message: "Configuration lock broken with lock break --force",
      fields: { ...actor, holder_user: holder.user, holder_host: holder.host, holder_pid: holder.pid, holder_since: holder.since, holder_tool: holder.tool },
    };
  }
  return {
    event: "config_committed",
    level: event.result === "success" ? "info" : "warn",
    message: event.result === "success" ? `Config committed with lbctl ${event.origin}` : `Config commit of lbctl ${event.origin} not applied: ${event.message ?? event.result}`,
    fields: { origin: event.origin, ...actor, files: event.files.length > 0 ? event.files.join(",") : undefined, result: event.result },
  };
}

const OP_FIELDS: Record<ChangeOp, string> = {
  "create-service": "services_created",
  "update-service": "services_updated",
  "delete-service": "services_deleted",
  "create-destination": "destinations_created",
  "update-destination": "destinations_updated",
  "delete-destination": "destinations_deleted",
};

/**
 * The summary of a reconcile that changed the kernel: how many changes of each kind, how long, and where the time
 * went. A console shows it in place of the per-change records of a bulk reconcile.
 */
function changesApplied(event: Extract<DaemonEvent, { type: "reconcile" }>): AuditRecord {
  const fields: AuditRecord["fields"] = { trigger: event.trigger, changes: event.changes, duration_ms: round(event.durationMs) };
  for (const [op, count] of Object.entries(event.ops ?? {})) if (count) fields[OP_FIELDS[op as ChangeOp]] = count;
  for (const [phase, ms] of Object.entries(event.phases ?? {})) fields[`${phase}_ms`] = round(ms);
  return { event: "changes_applied", level: "info", message: "Reconciled", fields };
}

/** Lists (file names, SANs) as one comma-separated value: every log destination writes flat fields. */
function flatFields(fields: Extract<DaemonEvent, { type: "controlplane-audit" }>["fields"]): AuditRecord["fields"] {
  const flat: AuditRecord["fields"] = {};
  for (const [key, value] of Object.entries(fields)) flat[key] = Array.isArray(value) ? value.join(",") : value;
  return flat;
}

/** Start-up phases as `<phase>_ms` fields. */
function startupFields(startup: Record<string, number> | undefined): AuditRecord["fields"] {
  const fields: AuditRecord["fields"] = {};
  for (const [phase, ms] of Object.entries(startup ?? {})) fields[`${phase}_ms`] = round(ms);
  return fields;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Event types whose log line is the audit record (event-log.ts skips them, so nothing is written twice). */
export const AUDITED_EVENT_TYPES: ReadonlySet<DaemonEvent["type"]> = new Set([
  "daemon-started",
  "daemon-stopping",
  "config-loaded",
  "config-refused",
  "vip-transition",
  "connection-sync",
  "bgp-announcement",
  "health-transition",
  "weight-change",
  "kernel-changes",
  "change-limit-hit",
  "kubernetes-connection",
  "kubernetes-leader",
  "kubernetes-removal",
  "controlplane-audit",
  "drain-started",
  "drain-ended",
  "backend-override",
  "quorum",
  "config-committed",
  "config-lock-broken",
]);

/**
 * Writes the audit records of every event. `wantsDetail` says whether any destination would write the per-change
 * records of a bulk reconcile (a text console below debug would not): when none would, they are not even built,
 * which spares a 25,000-change start-up 25,000 records.
 */
export function auditSink(write: (record: AuditRecord) => void, wantsDetail: () => boolean = () => true): EventSink {
  return {
    emit(event) {
      if (event.type === "kernel-changes") {
        if (event.bulk && !wantsDetail()) return;
        // Record by record: a bulk reconcile's records are not gathered in one array first.
        for (const change of event.changes) write(kernelChangeRecord(change, event.bulk));
        return;
      }
      for (const record of auditRecords(event)) write(record);
    },
  };
}
