/**
 * Reports of a repeating failure, at most one per key per window, with how many were suppressed in between. Pure:
 * the caller passes the time.
 */

export class ReportThrottle {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly windowMs: number) {}

  /** undefined: stay quiet; a number: report now, mentioning that many suppressed repeats. */
  allow(key: string, now: number): number | undefined {
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
