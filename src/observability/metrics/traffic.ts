/**
 * IPVS traffic counters per backend that never go backwards while the backend stays configured.
 *
 * The kernel's counters belong to one destination (one service port) and restart at 0 when it is recreated (or
 * zeroed by `ipvsadm -Z`). Each destination keeps the last raw value and a carry of what it had counted before a
 * restart; a destination that disappears retires its total into the backend. The backend's value is the retired
 * part plus, over its live destinations, carry + last: a sum of parts that only grow.
 */

import type { DestinationSample } from "../events.ts";

/** The counters of DestinationSample, in this order. */
export const COUNTER_KEYS = ["connections", "packetsIn", "packetsOut", "bytesIn", "bytesOut"] as const;
export type CounterKey = (typeof COUNTER_KEYS)[number];
const N = COUNTER_KEYS.length;

export type RawCounters = Pick<DestinationSample, CounterKey | "activeConnections" | "weight">;

export class DestinationCounters {
  readonly carry = new Float64Array(N);
  readonly last = new Float64Array(N);
  active = 0;
  weight = 0;
  /** The sample batch this destination was last seen in. */
  seen = 0;

  constructor(
    readonly virtualService: string,
    readonly destination: string,
    readonly owner: BackendTraffic,
  ) {}

  /** A new raw reading: a value below the last one means the kernel restarted this counter. */
  update(raw: RawCounters, batch: number): void {
    this.#set(0, raw.connections);
    this.#set(1, raw.packetsIn);
    this.#set(2, raw.packetsOut);
    this.#set(3, raw.bytesIn);
    this.#set(4, raw.bytesOut);
    this.active = raw.activeConnections;
    this.weight = raw.weight;
    this.seen = batch;
  }

  #set(i: number, value: number): void {
    const last = this.last[i]!;
    if (value < last) this.carry[i]! += last;
    this.last[i] = value;
  }

  /** The kernel object was deleted or created: whatever it reads next starts from 0. */
  restart(): void {
    for (let i = 0; i < N; i++) {
      this.carry[i]! += this.last[i]!;
      this.last[i] = 0;
    }
  }
}

export class BackendTraffic {
  readonly destinations = new Map<string, DestinationCounters>();

  constructor(
    readonly service: string,
    readonly backend: string,
  ) {}

  /** Moves a destination's total into the retired part (it no longer counts for this backend). */
  retire(d: DestinationCounters): void {
    for (let i = 0; i < N; i++) this.retired[i]! += d.carry[i]! + d.last[i]!;
    this.destinations.delete(`${d.virtualService}>${d.destination}`);
  }
  /** Totals of destinations that are gone. */
  readonly retired = new Float64Array(N);
  /** Backend totals as of the last batch, in COUNTER_KEYS order. */
  readonly totals = new Float64Array(N);
  readonly #sums = new Float64Array(N);
  active = 0;
  /** Highest weight among the destinations of the last batch (they normally all have the same). */
  weight: number | undefined;

  /** Retires destinations not seen in `batch`, then recomputes totals, active connections and weight. */
  settle(batch: number, onRetire: (d: DestinationCounters) => void): void {
    let active = 0;
    let weight: number | undefined;
    const sums = this.#sums;
    sums.set(this.retired);
    for (const [key, d] of this.destinations) {
      if (d.seen !== batch) {
        for (let i = 0; i < N; i++) this.retired[i]! += d.carry[i]! + d.last[i]!;
        for (let i = 0; i < N; i++) sums[i]! += d.carry[i]! + d.last[i]!;
        this.destinations.delete(key);
        onRetire(d);
        continue;
      }
      for (let i = 0; i < N; i++) sums[i]! += d.carry[i]! + d.last[i]!;
      active += d.active;
      weight = weight === undefined ? d.weight : Math.max(weight, d.weight);
    }
    // Never below what was exposed before (guards against float rounding of very large counters).
    for (let i = 0; i < N; i++) this.totals[i] = Math.max(this.totals[i]!, sums[i]!);
    this.active = active;
    this.weight = weight;
  }
}
