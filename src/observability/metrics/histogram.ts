/** A histogram's counts: one per bucket (not cumulative), the sum and the count. */

export class HistogramCounts {
  readonly buckets: readonly number[];
  /** counts[i]: observations ≤ buckets[i] and > buckets[i-1]; the last slot is above every bucket (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per bucket, ending with +Inf (= count): what `_bucket` series carry. */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (const n of this.counts) out.push((total += n));
    return out;
  }
}
