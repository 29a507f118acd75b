/**
 * The daemon's view of the kernel table, re-read at most every `ttl_ms` (daemon.state_cache) and dropped after
 * every write, so status requests and event-driven work do not each dump a large table.
 */

import type { IpvsClient, KernelServiceEntry } from "../ipvs/types.ts";

export interface StateCacheSettings {
  enabled: boolean;
  ttl_ms: number;
}

export class StateCache {
  #entries: KernelServiceEntry[] | undefined;
  #readAt = 0;
  #settings: StateCacheSettings;
  hits = 0;
  misses = 0;

  constructor(
    private readonly client: Pick<IpvsClient, "dump">,
    private readonly now: () => number,
    settings: StateCacheSettings,
  ) {
    this.#settings = settings;
  }

  configure(settings: StateCacheSettings): void {
    this.#settings = settings;
    this.invalidate();
  }

  get(): KernelServiceEntry[] {
    const fresh = this.#entries !== undefined && this.#settings.enabled && this.now() - this.#readAt < this.#settings.ttl_ms;
    if (fresh) {
      this.hits++;
      return this.#entries!;
    }
    this.misses++;
    this.#entries = this.client.dump();
    this.#readAt = this.now();
    return this.#entries;
  }

  invalidate(): void {
    this.#entries = undefined;
  }
}
