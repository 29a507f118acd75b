/**
 * Public types of the health-checking core: what is probed, what a probe says, and the state a target is in.
 * Nothing here does I/O.
 */

import type { CheckType, HealthFile } from "../config/model.ts";
import type { Family } from "../ipvs/types.ts";
import type { TargetId, TargetKey } from "./target-key.ts";

export type { CheckType, HealthFile } from "../config/model.ts";

export type HealthState = "unknown" | "healthy" | "unhealthy";

/** The outcome of one probe. `reason` is for operators: "connected in 1.2 ms", "connection refused". */
export interface ProbeResult {
  ok: boolean;
  reason: string;
  /** Time from the start of the probe to its answer (or failure), on a monotonic clock. */
  latencyMs: number;
  /** The weight the backend reported with a passing probe (http `http_weight_header`), 0-65535. */
  weight?: number;
}

/** What one probe needs: where to go and the service's `health:` settings (check-specific keys included). */
export interface ProbeTarget {
  address: string;
  /** The probe port: `health.port`, or the port of the backend key when that is 0. */
  port: number;
  family: Family;
  health: HealthFile;
}

/**
 * One probe of one target. `signal` aborts when the probe must end: its reason is a DOMException named
 * `TimeoutError` when `timeout_ms` has elapsed (report "timed out after N ms"), anything else when the probe was
 * cancelled (checks stopped, target removed). `AbortSignal.timeout(health.timeout_ms)` is a valid signal for a
 * one-off probe.
 *
 * `probe` never rejects: every failure is `ok: false` with a reason. On abort it must release its socket at once
 * and resolve promptly; the caller may already have recorded a timeout and ignores a late answer. It must remove
 * any abort listener when it settles: the scheduler hands a signal that did not abort to the target's next probe.
 */
export interface Checker {
  readonly type: CheckType;
  probe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult>;
}

/** One health target: a (service, backend key) pair of config.md "Backends and health targets". */
export interface HealthTarget extends ProbeTarget, TargetKey {
  /** `targetId(this)`: the key of the scheduler's and the monitor's maps. */
  id: TargetId;
  /**
   * Equal exactly when service, backend key, check type and every check setting are equal. Health state survives a
   * reload only for targets whose fingerprint did not change; weights are not part of it.
   */
  fingerprint: string;
}

/** Per-target counters the state machine works on. */
export interface TargetHealth {
  readonly state: HealthState;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /**
   * The weight the last passing probe reported (http `http_weight_header`); kept through failures, replaced by the
   * next passing probe (unset when it reports none).
   */
  readonly reportedWeight?: number;
}

/** A change of state, as the daemon turns it into kernel weights and audit records. */
export interface HealthTransition extends TargetKey {
  from: HealthState;
  to: HealthState;
  /** The probe that caused the change. */
  result: ProbeResult;
}

/** Every finished probe (latency metrics, debug logs); times are on the monitor's clock, in milliseconds. */
export interface ProbeEvent {
  target: HealthTarget;
  result: ProbeResult;
  /** When the probe was due by the schedule (start + k·interval). */
  scheduledAt: number;
  /** When it really started; `startedAt - scheduledAt` is the lateness (queueing under the in-flight cap). */
  startedAt: number;
  finishedAt: number;
  /** The target's counters after this probe. */
  health: TargetHealth;
  /** Set when this probe changed the target's state. */
  transition: HealthTransition | undefined;
  /** This probe changed the reported weight of a target that stayed HEALTHY: its weight must be set anew. */
  weightChanged: boolean;
}
