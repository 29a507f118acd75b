/**
 * "On time" for the health benches (P4, U1), over the probes that should have run, not the ones that finished: a
 * probe the scheduler skipped (its target still busy, or the loop too late) or never started counts against it.
 */

export interface ScheduleInput {
  targets: number;
  /** The measured window; only probes scheduled inside it are counted. */
  windowMs: number;
  intervalMs: number;
  /** Probes scheduled inside the window that finished (whatever their result). */
  finished: number;
  /** Of those, the ones that count as on time (started ≤ N ms late, and for U1 answered correctly). */
  onTime: number;
  /** Ticks the scheduler skipped during the window (skippedBusy + skippedLate). */
  skipped: number;
}

export interface ScheduleShare {
  /** targets × window / interval: with targets spread over the interval, the count due in the window. */
  scheduled: number;
  /** Scheduled, neither finished nor counted as skipped (never started, or still running at the end). */
  missing: number;
  /** onTime / scheduled, in %, at most 100 (the count due in a window is exact only up to the targets' phases). */
  onTimePct: number;
  /** finished / scheduled, in %. */
  finishedPct: number;
}

export function scheduleShare(input: ScheduleInput): ScheduleShare {
  if (!(input.intervalMs > 0) || !(input.windowMs > 0)) throw new RangeError("The interval and the window must be positive");
  const scheduled = Math.round((input.targets * input.windowMs) / input.intervalMs);
  const missing = Math.max(0, scheduled - input.finished - input.skipped);
  const pct = (count: number) => (scheduled === 0 ? 0 : Math.min(100, (count / scheduled) * 100));
  return { scheduled, missing, onTimePct: pct(input.onTime), finishedPct: pct(input.finished) };
}
