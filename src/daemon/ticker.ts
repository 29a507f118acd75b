/**
 * The reconcile loop's clock: ticks at start + k·interval on the injected Clock (monotonic in the daemon, stepped in
 * tests), so a slow reconcile does not push every later one back, and ticks that could not run are skipped instead
 * of run back to back.
 */

import type { Clock, Timer } from "../health/clock.ts";

export class Ticker {
  #interval: number;
  #epoch = 0;
  #cycle = 0;
  #timer: Timer | undefined;
  /** Bumped by start and stop, so a tick that restarted or stopped the schedule does not also re-arm it. */
  #generation = 0;

  constructor(
    private readonly clock: Clock,
    intervalMs: number,
    private readonly onTick: () => void,
  ) {
    this.#interval = intervalMs;
  }

  get intervalMs(): number {
    return this.#interval;
  }

  start(): void {
    this.stop();
    this.#generation++;
    this.#epoch = this.clock.now();
    this.#cycle = 0;
    this.#schedule();
  }

  /** A new interval restarts the schedule from now. */
  setInterval(intervalMs: number): void {
    if (intervalMs === this.#interval) return;
    this.#interval = intervalMs;
    if (this.#timer) this.start();
  }

  stop(): void {
    this.#generation++;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#cycle++;
    const due = this.#epoch + this.#cycle * this.#interval;
    this.#timer = this.clock.setTimer(this.#fire, Math.max(0, due - this.clock.now()));
  }

  readonly #fire = (): void => {
    const generation = this.#generation;
    try {
      this.onTick();
    } finally {
      if (generation === this.#generation) {
        const behind = Math.floor((this.clock.now() - this.#epoch) / this.#interval);
        if (behind > this.#cycle) this.#cycle = behind;
        this.#schedule();
      }
    }
  };
}
