/**
 * At most `limit` events per sliding window, per key (a connection or a source address). Pure: the caller passes
 * the time (monotonic milliseconds), so tests drive it with a fake clock.
 */

export class SlidingWindowLimiter {
  readonly #events = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records an event for `key` and says whether it is within the limit (a refused event is not recorded). */
  allow(key: string, now: number): boolean {
    const recent = (this.#events.get(key) ?? []).filter((at) => now - at < this.windowMs);
    if (recent.length >= this.limit) {
      this.#events.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#events.set(key, recent);
    return true;
  }

  /** Forgets keys with no event in the window, so a long-running primary does not grow one entry per source. */
  prune(now: number): void {
    for (const [key, times] of this.#events) if (times.every((at) => now - at >= this.windowMs)) this.#events.delete(key);
  }

  get size(): number {
    return this.#events.size;
  }
}
