/**
 * Health checks as the daemon sees them: the scheduler runs the probes, the checkers do them, the state machine
 * turns results into states, and one listener hears about every probe and every change of state.
 */

import { monotonicClock, type Clock } from "./clock.ts";
import { builtinCheckers, resolveCheckers, type CheckerLookup } from "./checks/index.ts";
import { ProbeScheduler, type CompletedProbe, type SchedulerStats, type SyncChanges, type SyncOptions } from "./scheduler.ts";
import { INITIAL_HEALTH, step, type Thresholds } from "./state-machine.ts";
import type { TargetId } from "./target-key.ts";
import type { CheckType, Checker, HealthState, HealthTarget, HealthTransition, ProbeEvent, ProbeResult, TargetHealth } from "./types.ts";

/** Each method is optional; calls are synchronous, transition before probe, in the order probes finish. */
export interface HealthListener {
  /** A target changed state: the daemon sets the weight of its destinations now. */
  transition?(event: HealthTransition): void;
  /** Every finished probe: latency metrics, debug logs. */
  probe?(event: ProbeEvent): void;
}

export interface MonitorOptions {
  listener?: HealthListener;
  /** Default: monotonic time and runtime timers. */
  clock?: Clock;
  /** Default: the checks this build has (checks/index.ts). */
  checkers?: CheckerLookup;
  /** Probes in flight at once across all targets (each holds a socket). Default DEFAULT_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  random?: () => number;
  /** Where an exception thrown by the listener goes; by default it is rethrown outside the monitor. */
  onListenerError?: (error: unknown) => void;
}

/**
 * Enough for 10,000 targets at a 1 s interval whose probes answer within 100 ms; silent backends hold their slot
 * until timeout_ms, and beyond the cap probes wait (late, never lost).
 */
export const DEFAULT_MAX_IN_FLIGHT = 1024;

export interface TargetSnapshot extends TargetHealth {
  id: TargetId;
  service: string;
  backend: string;
  address: string;
  port: number;
  type: CheckType;
  lastResult: ProbeResult | undefined;
  /** Monitor clock time of the last result. */
  lastProbeAt: number | undefined;
}

interface TargetRecord {
  target: HealthTarget;
  thresholds: Thresholds;
  health: TargetHealth;
  lastResult: ProbeResult | undefined;
  lastProbeAt: number | undefined;
}

export class HealthMonitor {
  readonly #records = new Map<string, TargetRecord>();
  readonly #checkers = new Map<CheckType, Checker>();
  readonly #lookup: CheckerLookup;
  readonly #listener: HealthListener;
  readonly #onListenerError: (error: unknown) => void;
  readonly #scheduler: ProbeScheduler<HealthTarget>;

  constructor(options: MonitorOptions = {}) {
    this.#lookup = options.checkers ?? builtinCheckers();
    this.#listener = options.listener ?? {};
    this.#onListenerError = options.onListenerError ?? rethrowLater;
    this.#scheduler = new ProbeScheduler<HealthTarget>({
      clock: options.clock ?? monotonicClock,
      maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      random: options.random,
      probe: (target, signal) => (this.#checkers.get(target.health.type) as Checker).probe(target, signal),
      onResult: (done) => this.#record(done),
      onError: this.#onListenerError,
    });
  }

  /**
   * Checks exactly `targets` from now on. Targets whose id and fingerprint are unchanged keep their state and
   * schedule; the others start as UNKNOWN. Throws (UnsupportedCheckError, RangeError) before changing anything.
   */
  sync(targets: readonly HealthTarget[], options: SyncOptions = {}): SyncChanges {
    const checkers = resolveCheckers(targets, this.#lookup);
    const changes = this.#scheduler.sync(targets, options);
    for (const [type, checker] of checkers) this.#checkers.set(type, checker);
    for (const id of [...changes.removed, ...changes.replaced]) this.#records.delete(id);
    for (const target of targets) {
      const record = this.#records.get(target.id);
      if (record) record.target = target;
      else this.#records.set(target.id, { target, thresholds: thresholdsOf(target), health: INITIAL_HEALTH, lastResult: undefined, lastProbeAt: undefined });
    }
    return changes;
  }

  state(id: TargetId): TargetHealth | undefined {
    return this.#records.get(id)?.health;
  }

  /**
   * The state `target` will have once `sync` is called with it: its current one when its id and fingerprint are
   * unchanged, UNKNOWN otherwise. Lets the daemon plan a reload before it commits to the new targets.
   */
  stateAfterSync(target: HealthTarget): HealthState {
    const record = this.#records.get(target.id);
    return record && record.target.fingerprint === target.fingerprint ? record.health.state : "unknown";
  }

  snapshot(): TargetSnapshot[] {
    return [...this.#records.values()]
      .map(({ target, health, lastResult, lastProbeAt }) => ({
        id: target.id,
        service: target.service,
        backend: target.backend,
        address: target.address,
        port: target.port,
        type: target.health.type,
        ...health,
        lastResult,
        lastProbeAt,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  stats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  /** Stops all checks; resolves once no probe is left running. States stay readable. */
  stop(): Promise<void> {
    return this.#scheduler.stop();
  }

  #record(done: CompletedProbe<HealthTarget>): void {
    const record = this.#records.get(done.target.id);
    if (record === undefined) return;
    const { target, result } = done;
    const from = record.health.state;
    const stepped = step(record.health, result.ok, record.thresholds);
    const { changed } = stepped;
    const previousWeight = record.health.reportedWeight;
    const reportedWeight = result.ok ? result.weight : previousWeight;
    const next: TargetHealth = reportedWeight === undefined ? stepped.next : { ...stepped.next, reportedWeight };
    const weightChanged = !changed && next.state === "healthy" && reportedWeight !== previousWeight;
    record.health = next;
    record.lastResult = result;
    record.lastProbeAt = done.finishedAt;
    const transition: HealthTransition | undefined = changed
      ? { service: target.service, backend: target.backend, from, to: next.state, result }
      : undefined;
    if (transition) this.#call(this.#listener.transition, transition);
    if (this.#listener.probe === undefined) return;
    this.#call(this.#listener.probe, {
      target,
      result,
      scheduledAt: done.scheduledAt,
      startedAt: done.startedAt,
      finishedAt: done.finishedAt,
      health: next,
      transition,
      weightChanged,
    });
  }

  #call<E>(method: ((event: E) => void) | undefined, event: E): void {
    if (method === undefined) return;
    try {
      method.call(this.#listener, event);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}

/** Thresholds are part of the fingerprint, so a kept record's thresholds never change. */
function thresholdsOf(target: HealthTarget): Thresholds {
  return { failAfter: target.health.fail_after, recoverAfter: target.health.recover_after };
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
