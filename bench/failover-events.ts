/**
 * P3's bookkeeping, pure: pairs each backend stop the bench made with the daemon's verdict on it and with the
 * instant an independent observer saw weight 0 on every destination of that backend. Only failures are counted:
 * recoveries and start-up transitions never enter, because every figure hangs off a stop the bench made.
 * All times are epoch milliseconds from the same machine's clock.
 */

export interface Observation {
  /** When the read that showed this state ended. */
  t: number;
  /** When the read before it began: the state changed after that (absent on the first line). */
  since?: number;
  total: number;
  zero: number;
}

export interface FailoverInputs {
  /** When the bench stopped the backend, one per failure, increasing. */
  stops: readonly number[];
  /** When the daemon decided the backend was unhealthy (its audit record `health_state_changed new_state=unhealthy`). */
  verdicts: readonly number[];
  /** The daemon's own figure for each health-triggered weight change: when it was logged, and its duration_ms. */
  reconciles: ReadonlyArray<{ t: number; durationMs: number }>;
  /** The observer's lines, in time order. */
  observations: readonly Observation[];
  /** How many destinations the backend has: weight 0 on all of them is the end of a failover. */
  destinations: number;
}

export interface Failover {
  stopAt: number;
  verdictAt: number;
  kernelZeroAt: number;
  /** The health check's part: stop → verdict (interval × fail_after at most, plus the failing probe's own time). */
  stopToVerdictMs: number;
  /** lbctl's part as an outsider sees it: verdict → the read that showed weight 0 in the kernel's table. */
  verdictToKernelMs: number;
  /** The same from the read before, which did not show it yet: the change happened between the two. */
  verdictToKernelAtLeastMs: number;
  stopToKernelMs: number;
  /** The daemon's own measurement of the same change (verdict → kernel acknowledgement), when it logged one. */
  daemonMs: number | undefined;
}

export interface FailoverReport {
  failovers: Failover[];
  /** Unhealthy verdicts that followed no stop of the bench (a flap): reported, not counted as failures. */
  unexpectedVerdicts: number;
}

/** Throws naming the failure that has no verdict or no observed weight 0: the run then measured nothing for it. */
export function pairFailovers(inputs: FailoverInputs): FailoverReport {
  const { stops, verdicts, reconciles, observations, destinations } = inputs;
  const failovers: Failover[] = [];
  let expected = 0;
  stops.forEach((stopAt, index) => {
    const until = stops[index + 1] ?? Number.POSITIVE_INFINITY;
    // Audit times are whole milliseconds: a verdict in the same millisecond as the stop still follows it.
    const within = (t: number) => t >= Math.floor(stopAt) && t < until;
    const verdictAt = verdicts.find(within);
    if (verdictAt === undefined) throw new RangeError(`Failure ${index + 1}: the daemon logged no unhealthy verdict after the backend stopped`);
    expected++;
    const zero = observations.find((o) => within(o.t) && o.t >= verdictAt && o.total === destinations && o.zero === destinations);
    if (zero === undefined) throw new RangeError(`Failure ${index + 1}: the observer never saw weight 0 on all ${destinations} destinations`);
    const reconcile = reconciles.find((r) => within(r.t) && r.t >= verdictAt);
    failovers.push({
      stopAt,
      verdictAt,
      kernelZeroAt: zero.t,
      stopToVerdictMs: verdictAt - stopAt,
      verdictToKernelMs: zero.t - verdictAt,
      verdictToKernelAtLeastMs: Math.max(0, (zero.since ?? zero.t) - verdictAt),
      stopToKernelMs: zero.t - stopAt,
      daemonMs: reconcile?.durationMs,
    });
  });
  return { failovers, unexpectedVerdicts: verdicts.length - expected };
}

/** Median and worst of a list of milliseconds. */
export function spread(values: readonly number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, worst: sorted.at(-1) ?? Number.NaN };
}
