/** The health-checking core: re-exports only. */

export type { CheckType, Checker, HealthFile, HealthState, HealthTarget, HealthTransition, ProbeEvent, ProbeResult, ProbeTarget, TargetHealth } from "./types.ts";
export { healthTargets } from "./targets.ts";
export { targetId, type TargetId, type TargetKey } from "./target-key.ts";
export { INITIAL_HEALTH, step, type Step, type Thresholds } from "./state-machine.ts";
export { monotonicClock, type Clock, type Timer } from "./clock.ts";
export { ProbeScheduler, type CompletedProbe, type ScheduledTarget, type SchedulerOptions, type SchedulerStats, type SyncChanges, type SyncOptions } from "./scheduler.ts";
export { DEFAULT_MAX_IN_FLIGHT, HealthMonitor, type HealthListener, type MonitorOptions, type TargetSnapshot } from "./monitor.ts";
export { availableCheckTypes, builtinCheckers, checkerFor, resolveCheckers, type CheckerLookup } from "./checks/index.ts";
export { HealthError, UnsupportedCheckError, type HealthErrorCode } from "./errors.ts";
