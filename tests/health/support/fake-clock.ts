/**
 * A Clock whose time moves only when a test says so (like Deno std's FakeTime). `advance` fires due timers in time
 * order and lets promise callbacks run after each, so probe answers settle before the next timer fires.
 */

import type { Clock, Timer } from "../../../src/health/clock.ts";

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const pending: Pending = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(pending);
    return { cancel: () => void (pending.cancelled = true) };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let next = this.#next(end); next !== undefined; next = this.#next(end)) {
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Moves time forward without firing anything on the way (a stalled process), then fires what is due. */
  async jump(ms: number): Promise<void> {
    this.#now += ms;
    await this.advance(0);
  }

  #next(end: number): Pending | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let best: Pending | undefined;
    for (const timer of this.#timers) {
      if (timer.at <= end && (best === undefined || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq))) best = timer;
    }
    return best;
  }
}

/** Lets every queued promise callback run (a macrotask turn drains the microtask queue). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Deterministic uniform [0, 1) numbers (mulberry32), for jitter tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
