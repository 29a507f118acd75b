/**
 * Everything the daemon does that someone may want to see, as typed events through one interface. Metrics, logs
 * and audit records are sinks of these events; nothing outside the daemon reaches into its internals. The types live
 * here, below the daemon, so that the daemon emits them and the sinks read them without importing each other.
 */

import type { ChangeOp, ChangeReason } from "../plan/changes.ts";
import type { DrainEndReason } from "../plan/drain.ts";
import type { BackendOverride, OverrideActor } from "../plan/overrides.ts";

export type HealthStateName = "unknown" | "healthy" | "unhealthy";

export type DaemonEvent =
  | {
      type: "daemon-started";
      node: string;
      pid: number;
      version: string;
      /** Where the start-up went, in ms: from exec to the config loaded, then each step to ready. */
      startup?: Record<string, number>;
    }
  | { type: "daemon-stopping"; node: string; signal: string }
  | {
      type: "config-loaded";
      startup: boolean;
      hash: string;
      previousHash?: string;
      files: string[];
      services: number;
      backends: number;
      /** node.name of the config (the metrics' `node` label). */
      node: string;
      /** Every configured (service, backend key), so metrics can drop the series of those that left. */
      inventory: ServiceInventory[];
    }
  | { type: "config-refused"; reason: "invalid" | "limit" | "error"; message: string; limit?: { name: string; limit: number; planned: number } }
  | {
      type: "reconcile";
      result: "success" | "failure";
      trigger: ReconcileTrigger;
      durationMs: number;
      changes: number;
      error?: string;
      /** Where the time went, in ms (a converge: kernel read, plan, execute, events handled). */
      phases?: Partial<Record<ReconcilePhase, number>>;
      /** The applied changes by operation. */
      ops?: Partial<Record<ChangeOp, number>>;
    }
  | {
      /**
       * The changes one reconcile (or one health or override plan) made to the kernel, in the order it accepted them:
       * one event for all of them, so that a start-up reconcile of 25,000 changes reaches the sinks once, not 25,000
       * times. Audit still writes one record per change (audit.ts).
       */
      type: "kernel-changes";
      changes: readonly KernelChange[];
      /** More than BULK_CHANGES changes: the reconcile's summary record stands for them on a console. */
      bulk: boolean;
    }
  | { type: "vip-transition"; vip: string; direction: "acquire" | "release" }
  | { type: "vip-state"; vip: string; held: boolean }
  /** bgp.enabled: a VIP's route (what FRR announces) added or removed, or its first verdict after a start. */
  | { type: "bgp-announcement"; vip: string; announced: boolean; reason: string }
  /** An IPVS connection-sync daemon (ha.connection_sync) started or stopped by lbctl, or found stopped. */
  | { type: "connection-sync"; role: "master" | "backup"; running: boolean; interface: string; syncId: number; reason: string }
  | { type: "health-transition"; service: string; backend: string; from: HealthStateName; to: HealthStateName; reason: string }
  | { type: "probe"; service: string; backend: string; ok: boolean; latencyMs: number; reason: string }
  | { type: "weight-change"; service: string; backend: string; from: number; to: number; reason: WeightChangeReason }
  | {
      type: "backend-override";
      /** set by an operator, cleared by one (`enable`), expired by its TTL, or restored from state_dir at start. */
      action: "set" | "cleared" | "expired" | "restored";
      override: BackendOverride;
      /** The override a `set` replaced. */
      previous?: BackendOverride;
      /** Who cleared it (`cleared` only; the override names who set it). */
      by?: OverrideActor;
    }
  | {
      type: "slow-start";
      service: string;
      backend: string;
      /** started: the backend turned healthy, was added or enabled, and ramps from weight 1; done: it has its full weight. */
      phase: "started" | "done";
      durationMs?: number;
    }
  | {
      type: "quorum";
      service: string;
      /** false: the live backends' weights fell below quorum (the sorry server, if any, takes new connections). */
      up: boolean;
      liveWeight: number;
      quorum: number;
      hysteresis: number;
      /** `ADDR:PORT` (port 0: the service's ports). */
      sorryServer?: string;
    }
  | { type: "change-limit-hit"; limit: string; planned: number; max: number }
  | {
      type: "drain-started";
      /** `PROTO:VIP:PORT` and `ADDR:PORT` of the destination set to weight 0. */
      service: string;
      destination: string;
      name?: string;
      /** Wall-clock ms (epoch) after which it is deleted whatever its connections. */
      deadline: number;
      connections: number;
      /** Read back from state_dir at daemon start, not started now. */
      resumed: boolean;
    }
  | { type: "drain-ended"; service: string; destination: string; name?: string; reason: DrainEndReason; connections: number }
  | { type: "ipvs-stats"; destinations: DestinationSample[] }
  | { type: "error"; message: string; detail?: string }
  // The Kubernetes source (src/daemon/sources/kubernetes.ts, docs/kubernetes.md).
  | { type: "kubernetes-connection"; connected: boolean; error?: string }
  | { type: "kubernetes-leader"; leader: boolean; lease: string; identity: string }
  | { type: "kubernetes-pools"; pools: KubernetesPoolUsage[] }
  /** Rules of a Kubernetes Service removed because the cluster said so: exempt from the change limits. */
  | { type: "kubernetes-removal"; service: string; reason: string; services: number; destinations: number }
  | OperatorEvent
  | ControlPlaneEvent;

/**
 * What an operator did outside the daemon that the daemon records because the CLI told it (docs/shell.md): the
 * actor is what the operator's session reported over the root-only control socket, not a proof.
 */
export type OperatorEvent =
  /** A commit of `lbctl shell` or `lbctl edit` reloaded the daemon: who, from which tool, which files, and how it went. */
  | { type: "config-committed"; origin: CommitOrigin; by: OverrideActor; files: string[]; result: "success" | "refused" | "failure"; message?: string }
  /** `lock break --force` in `lbctl shell` removed another session's configuration lock. */
  | { type: "config-lock-broken"; by: OverrideActor; holder: LockHolder };

/** The tool whose commit reloaded the daemon. */
export type CommitOrigin = "shell" | "edit";

/** The holder of a configuration lock as its file named it (`?` and pid 0 when the file held no record). */
export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  since?: string;
  tool?: string;
}

/**
 * Config replication (src/controlplane/, wired by the daemon): its metrics' inputs and its audit records. Only a
 * daemon with `control_plane.enabled` emits these.
 */
export type ControlPlaneEvent =
  /** The control plane started: which side, and when its certificates expire (seconds since the epoch). */
  | { type: "controlplane-started"; mode: "primary" | "secondary"; certificateExpiry: { local: number; ca: number } }
  /** A peer's connection (by certificate CN; `primary` on a secondary before the first handshake) went up or down. */
  | { type: "controlplane-peer"; peer: string; connected: boolean }
  /** A peer name that no longer applies (a secondary's `primary` placeholder once the primary's CN is known). */
  | { type: "controlplane-peer-gone"; peer: string }
  | { type: "controlplane-update"; result: ControlPlaneUpdateResult }
  /** This node and its peer(s) hold the same set, as of `atSeconds` (since the epoch). */
  | { type: "controlplane-synced"; atSeconds: number }
  | {
      type: "controlplane-audit";
      event: ControlPlaneAuditName;
      level: "info" | "warn" | "error";
      message: string;
      /** The peer (peer_cn, peer_sans, peer_spki_sha256, remote_address), digest, files and reason, as they apply. */
      fields: Record<string, string | number | boolean | string[] | null | undefined>;
    };

/** `applied`, `unchanged`, `refused` on a secondary; `held` on the primary (an edit that did not validate). */
export type ControlPlaneUpdateResult = "applied" | "unchanged" | "refused" | "held";

export const CONTROL_PLANE_AUDIT_EVENTS = [
  "controlplane_connected",
  "controlplane_disconnected",
  "controlplane_handshake_refused",
  "controlplane_update_pushed",
  "controlplane_update_held",
  "controlplane_update_applied",
  "controlplane_update_refused",
] as const;

export type ControlPlaneAuditName = (typeof CONTROL_PLANE_AUDIT_EVENTS)[number];

/** Addresses of one `kubernetes.pools` entry: handed to Services, or free. */
export interface KubernetesPoolUsage {
  pool: string;
  allocated: number;
  free: number;
}

/** One change the kernel accepted, as metrics and audit read it. */
export interface KernelChange {
  op: ChangeOp;
  /** `PROTO:VIP:PORT`. */
  service: string;
  /** `ADDR:PORT`, for a destination change. */
  destination?: string;
  /** The config service's name. */
  name?: string;
  /** Backend key of config.md, for a destination of a configured backend. */
  backend?: string;
  reason: ChangeReason;
  weight?: number;
  previousWeight?: number;
}

/** The changes of `kernel-changes` events, in order, one event or many: what tests and sinks read. */
export function kernelChangesOf(events: readonly DaemonEvent[]): KernelChange[] {
  const out: KernelChange[] = [];
  for (const event of events) if (event.type === "kernel-changes") for (const change of event.changes) out.push(change);
  return out;
}

/** One config service as metrics name it: its backend keys, and whether health checks are on. */
export interface ServiceInventory {
  service: string;
  backends: string[];
  health: boolean;
}

/**
 * One configured destination's kernel counters (STATS64), read every `daemon.stats_collection_interval_cycles`
 * cycles. Counters are the kernel's raw values: they restart at 0 when a destination is recreated.
 */
export interface DestinationSample {
  /** Config service name. */
  service: string;
  /** Backend key (ADDR:PORT) of config.md: the metrics label. */
  backend: string;
  /** `PROTO:VIP:PORT` and `ADDR:PORT`, which identify the kernel object. */
  virtualService: string;
  destination: string;
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  activeConnections: number;
  inactiveConnections: number;
  /** The destination's weight in the kernel. */
  weight: number;
}

/** The phases of a converge, timed for its log record (like `lbctl apply --debug`). */
export type ReconcilePhase = "read" | "plan" | "execute" | "events";

/** Above this many changes, a reconcile is bulk: its per-change records are details of its summary record. */
export const BULK_CHANGES = 10;

/** What started a reconciliation. */
export type ReconcileTrigger = "startup" | "interval" | "reload" | "health" | "vip" | "request" | "override";

/** Why a backend's weight moved: config, health, drift repair, an operator's override, or a slow-start ramp. */
export type WeightChangeReason = "health" | "config" | "drift" | "override" | "slow-start";

export interface EventSink {
  emit(event: DaemonEvent): void;
}

/** Sends every event to each sink; a sink that throws never stops the others (nor the daemon). */
export function fanOut(sinks: readonly EventSink[], onSinkError: (error: unknown) => void = () => {}): EventSink {
  return {
    emit(event) {
      for (const sink of sinks) {
        try {
          sink.emit(event);
        } catch (error) {
          onSinkError(error);
        }
      }
    },
  };
}

/** Keeps every event, for tests. */
export class RecordingSink implements EventSink {
  readonly events: DaemonEvent[] = [];
  emit(event: DaemonEvent): void {
    this.events.push(event);
  }
  ofType<T extends DaemonEvent["type"]>(type: T): Extract<DaemonEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<DaemonEvent, { type: T }> => e.type === type);
  }
  /** Every kernel change recorded, in order (they come in `kernel-changes` events). */
  kernelChanges(): KernelChange[] {
    return kernelChangesOf(this.events);
  }
}
