/**
 * Slow start (`health.slow_start_seconds`): a backend that turns healthy, is added, or comes back from a drain gets
 * its kernel weight ramped from 1 to its full weight linearly over that time, so that a cold cache or a warming JIT
 * is not handed every new connection at once (wlc and lc would give a fresh backend all of them). Pure: times are
 * the caller's monotonic ms.
 *
 * The ramp moves in steps of one reconcile interval, counted from its start: whatever runs the plan (the periodic
 * converge, a health verdict, an override), the weight changes at most once per interval, so the kernel sees a
 * bounded number of SET_DEST per destination (duration / interval + 1).
 */

export interface Ramp {
  /** Monotonic ms when the ramp began. */
  startedAt: number;
}

/**
 * The weight at `now` of a ramp towards `target`: 1 at the start, `target` once `durationMs` has passed, linear in
 * between, rounded down and held for a whole step. A target of 0 or 1 has nothing to ramp.
 */
export function slowStartWeight(target: number, ramp: Ramp, now: number, durationMs: number, stepMs: number): number {
  if (target <= 1 || durationMs <= 0) return target;
  const elapsed = Math.max(0, now - ramp.startedAt);
  if (elapsed >= durationMs) return target;
  const step = Math.max(1, stepMs);
  const held = Math.floor(elapsed / step) * step;
  return Math.min(target, Math.max(1, Math.floor(1 + ((target - 1) * held) / durationMs)));
}

/** True once the ramp has reached its end. */
export function rampDone(ramp: Ramp, now: number, durationMs: number): boolean {
  return durationMs <= 0 || now - ramp.startedAt >= durationMs;
}

/** Whole seconds left of a ramp (for status). */
export function rampRemainingSeconds(ramp: Ramp, now: number, durationMs: number): number {
  return Math.max(0, Math.ceil((ramp.startedAt + durationMs - now) / 1000));
}
