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

/**
 * `performance.now()` is monotonic in Bun; timers are the runtime's. The runtime truncates a delay to whole
 * milliseconds and keeps time at that grain, so a timer for 3.7 ms fires after about 3: most fired before the
 * instant asked for and the scheduler, finding nothing due yet, woke once more (a third of its wake-ups with 50
 * targets at 1 s). Rounded up, a few still fire a fraction of a millisecond early (the scheduler allows for it).
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.ceil(delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};
