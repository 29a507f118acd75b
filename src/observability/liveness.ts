/** Whether the daemon loop is alive: a reconcile ran within the last few intervals. Pure; the clock is passed in. */

/** How many reconcile intervals may pass without a reconcile before /health says the loop is stuck. */
export const STUCK_AFTER_INTERVALS = 3;

export interface LivenessInput {
  /** Monotonic ms of the last reconcile event, if any. */
  lastReconcileAt: number | undefined;
  /** Monotonic ms when the daemon started (a grace period before the first reconcile). */
  startedAt: number;
  intervalMs: number;
  now: number;
}

export function isAlive(input: LivenessInput): boolean {
  const since = input.lastReconcileAt ?? input.startedAt;
  return input.now - since <= STUCK_AFTER_INTERVALS * input.intervalMs;
}
