/**
 * The health state machine of one target (LibraFlux rules, kept): UNKNOWN goes to HEALTHY or UNHEALTHY on the first
 * probe; HEALTHY needs `failAfter` consecutive failures to go down, UNHEALTHY `recoverAfter` consecutive successes to
 * come back. Pure: no clock, no I/O.
 */

import type { HealthState, TargetHealth } from "./types.ts";

export interface Thresholds {
  /** Consecutive failures that take a HEALTHY target down (config `fail_after`, 1-100). */
  failAfter: number;
  /** Consecutive successes that bring an UNHEALTHY target back (config `recover_after`, 1-100). */
  recoverAfter: number;
}

export interface Step {
  next: TargetHealth;
  changed: boolean;
}

export const INITIAL_HEALTH: TargetHealth = Object.freeze({ state: "unknown", consecutiveSuccesses: 0, consecutiveFailures: 0 });

export function step(current: TargetHealth, ok: boolean, thresholds: Thresholds): Step {
  checkThreshold("failAfter", thresholds.failAfter);
  checkThreshold("recoverAfter", thresholds.recoverAfter);
  // The streak counters keep counting across a transition, so snapshots show how long the current streak is.
  const consecutiveSuccesses = ok ? current.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = ok ? 0 : current.consecutiveFailures + 1;
  const state = nextState(current.state, consecutiveSuccesses, consecutiveFailures, thresholds);
  return { next: { state, consecutiveSuccesses, consecutiveFailures }, changed: state !== current.state };
}

function nextState(state: HealthState, successes: number, failures: number, thresholds: Thresholds): HealthState {
  switch (state) {
    case "unknown":
      // No history to protect: the first answer decides, so a dead backend is drained one probe after start.
      return successes > 0 ? "healthy" : "unhealthy";
    case "healthy":
      return failures >= thresholds.failAfter ? "unhealthy" : "healthy";
    case "unhealthy":
      return successes >= thresholds.recoverAfter ? "healthy" : "unhealthy";
  }
}

function checkThreshold(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Health threshold ${name} must be an integer of at least 1, got ${value}`);
}
