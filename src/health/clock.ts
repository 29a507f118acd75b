/**
 * The time source of the scheduler, injected so that tests step time (tests/health/support/fake-clock.ts) and the
 * daemon uses monotonic time: a wall-clock jump (NTP, an operator's `date -s`) must not stall or burst probes.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** Calls `callback` once, about `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): Timer;
}

/** `performance.now()` is monotonic in Bun; timers are the runtime's. */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
};
