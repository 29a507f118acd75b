/** The secondary's reconnect delays: exponential, capped, with full jitter so that N secondaries spread out. Pure. */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000 };

/** Delay before reconnect `attempt` (1, 2, …): uniform in [cap/2, cap], cap = min(max, base·2^(attempt-1)). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(cap / 2 + (cap / 2) * random());
}
