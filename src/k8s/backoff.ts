/** Exponential backoff with jitter, so that a failing API server is never hammered in a tight loop. Pure. */

export interface Backoff {
  /** The next delay in ms (grows until `maxMs`). */
  next(): number;
  reset(): void;
}

export function exponentialBackoff(initialMs = 500, maxMs = 30_000, random: () => number = Math.random): Backoff {
  let attempt = 0;
  return {
    next() {
      const base = Math.min(maxMs, initialMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      // ±20 % so that many directors do not retry in step.
      return Math.round(base * (0.8 + 0.4 * random()));
    },
    reset() {
      attempt = 0;
    },
  };
}
