/**
 * The overrides the daemon holds: in memory for the weight rule (looked up on every weight decision), persisted to
 * `state_dir` after each change, expired on the injected wall clock. The decisions are plan/overrides.ts's; this
 * keeps the set and reports its changes as events (audit records and the `lbctl_backend_override` metric).
 */

import type { EventSink } from "../observability/events.ts";
import { expiredOverrides, overrideKey, type BackendOverride, type OverrideActor } from "../plan/overrides.ts";
import type { OverrideStore } from "./overrides-store.ts";

export class BackendOverrides {
  readonly #byKey = new Map<string, BackendOverride>();

  constructor(
    private readonly store: OverrideStore,
    private stateDir: string,
    private readonly events: EventSink,
  ) {}

  /** Reads the persisted set (throws OverrideFileError on a bad file) and reports each as restored. */
  load(): void {
    for (const override of this.store.read(this.stateDir)) {
      this.#byKey.set(overrideKey(override.service, override.backend), override);
      this.events.emit({ type: "backend-override", action: "restored", override });
    }
  }

  /** A reload may move state_dir: later writes go to the new one (what it holds now is written there at once). */
  moveTo(stateDir: string): void {
    if (stateDir === this.stateDir) return;
    this.stateDir = stateDir;
    if (this.#byKey.size > 0) this.#save();
  }

  get size(): number {
    return this.#byKey.size;
  }

  get(service: string, backend: string): BackendOverride | undefined {
    return this.#byKey.get(overrideKey(service, backend));
  }

  list(): BackendOverride[] {
    return [...this.#byKey.values()];
  }

  /**
   * Sets (or with `undefined`, clears) the override of one backend, persisting first: when the file cannot be
   * written nothing changes and the error is thrown. Returns the override replaced or cleared.
   */
  put(service: string, backend: string, override: BackendOverride | undefined, by: OverrideActor): BackendOverride | undefined {
    const key = overrideKey(service, backend);
    const previous = this.#byKey.get(key);
    if (!override && !previous) return undefined;
    if (override) this.#byKey.set(key, override);
    else this.#byKey.delete(key);
    try {
      this.#save();
    } catch (error) {
      if (previous) this.#byKey.set(key, previous);
      else this.#byKey.delete(key);
      throw error;
    }
    if (override) this.events.emit({ type: "backend-override", action: "set", override, ...(previous ? { previous } : {}) });
    else this.events.emit({ type: "backend-override", action: "cleared", override: previous!, by });
    return previous;
  }

  /** Drops the overrides whose TTL ran out at `wallNow`; returns them. A failed write keeps them for the next try. */
  expire(wallNow: number): BackendOverride[] {
    const expired = expiredOverrides(this.#byKey.values(), wallNow);
    if (expired.length === 0) return [];
    for (const override of expired) this.#byKey.delete(overrideKey(override.service, override.backend));
    try {
      this.#save();
    } catch (error) {
      for (const override of expired) this.#byKey.set(overrideKey(override.service, override.backend), override);
      throw error;
    }
    for (const override of expired) this.events.emit({ type: "backend-override", action: "expired", override });
    return expired;
  }

  #save(): void {
    this.store.write(this.stateDir, this.#byKey.values());
  }
}
