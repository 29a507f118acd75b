/**
 * The ramps of slow start the daemon runs (plan/slow-start.ts has the ramp itself): which backends ramp since
 * when, the weight each has now, and the end of each ramp, reported as events (status, metrics, audit).
 */

import type { Config, LoadedService } from "../config/model.ts";
import { targetId, type TargetId, type TargetKey } from "../health/target-key.ts";
import type { EventSink } from "../observability/events.ts";
import { rampDone, rampRemainingSeconds, slowStartWeight, type Ramp } from "../plan/slow-start.ts";

interface Running extends Ramp {
  key: TargetKey;
}

export function slowStartMs(service: Pick<LoadedService, "health">): number {
  return (service.health.slow_start_seconds ?? 0) * 1000;
}

export class SlowStarts {
  readonly #ramps = new Map<TargetId, Running>();
  /** Backend keys with a ramp, for the reason of a converge's weight changes. */
  readonly #backends = new Map<string, number>();

  constructor(private readonly events: EventSink) {}

  get size(): number {
    return this.#ramps.size;
  }

  /** Starts (or restarts) the ramp of a backend whose service has slow start; returns whether it did. */
  start(service: LoadedService, backend: string, now: number): boolean {
    if (slowStartMs(service) <= 0) return false;
    const id = targetId({ service: service.name, backend });
    if (!this.#ramps.has(id)) this.#backends.set(backend, (this.#backends.get(backend) ?? 0) + 1);
    this.#ramps.set(id, { key: { service: service.name, backend }, startedAt: now });
    this.events.emit({ type: "slow-start", service: service.name, backend, phase: "started", durationMs: slowStartMs(service) });
    return true;
  }

  /** The weight of a backend now: its ramp's, or `target` when it has none. */
  weight(service: LoadedService, backend: string, target: number, now: number, stepMs: number): number {
    if (this.#ramps.size === 0) return target;
    const ramp = this.#ramps.get(targetId({ service: service.name, backend }));
    return ramp ? slowStartWeight(target, ramp, now, slowStartMs(service), stepMs) : target;
  }

  /** Seconds left of a backend's ramp, if it has one. */
  remaining(service: LoadedService | undefined, backend: string, now: number): number | undefined {
    if (!service) return undefined;
    const ramp = this.#ramps.get(targetId({ service: service.name, backend }));
    return ramp ? rampRemainingSeconds(ramp, now, slowStartMs(service)) : undefined;
  }

  /** Some service has a ramp on this backend key (a converge labels its weight changes `slow-start`). */
  rampsBackend(backend: string): boolean {
    return this.#backends.has(backend);
  }

  /** Ends the ramps that are done, and those whose service or slow start went away; after the converge that applied them. */
  finish(config: Config, now: number): void {
    if (this.#ramps.size === 0) return;
    const byName = new Map(config.services.map((s) => [s.name, s]));
    for (const [id, ramp] of this.#ramps) {
      const service = byName.get(ramp.key.service);
      if (service && !rampDone(ramp, now, slowStartMs(service))) continue;
      this.#ramps.delete(id);
      const left = (this.#backends.get(ramp.key.backend) ?? 1) - 1;
      if (left > 0) this.#backends.set(ramp.key.backend, left);
      else this.#backends.delete(ramp.key.backend);
      this.events.emit({ type: "slow-start", service: ramp.key.service, backend: ramp.key.backend, phase: "done" });
    }
  }
}
