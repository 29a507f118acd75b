/**
 * List then watch one resource into a local store, for ever: bookmarks keep the resourceVersion fresh, a watch
 * that ends (server timeout, cut connection) resumes from the last resourceVersion, ERROR 410 Gone re-lists, and
 * the re-list compares with the store so no change is lost in between. Every failure backs off; a full re-list runs
 * every `resyncMs` besides the watches.
 */

import { exponentialBackoff, type Backoff } from "./backoff.ts";
import type { KubeClient } from "./client.ts";
import { K8sError } from "./errors.ts";
import { objectKey } from "./names.ts";
import type { ObjectMeta, WatchEvent } from "./types.ts";

export interface InformerOptions {
  /** The store changed (any add, update or delete). */
  onChange: () => void;
  /** Every list or watch success (true) and failure (false): the API server's reachability. */
  onConnected: (connected: boolean, error?: Error) => void;
  resyncMs: number;
  /** Server-side watch timeout; randomised per watch like client-go's reflector. */
  watchTimeoutSeconds?: number;
  backoff?: Backoff;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

type Named = { metadata: ObjectMeta };

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

export class Informer<T extends Named> {
  readonly store = new Map<string, T>();
  #synced = false;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  /** Number of lists done: tests and logs see re-lists happen. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    private readonly options: InformerOptions,
  ) {}

  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const backoff = this.options.backoff ?? exponentialBackoff();
    const sleep = this.options.sleep ?? defaultSleep;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        let resourceVersion = await this.#relist();
        this.options.onConnected(true);
        backoff.reset();
        const listedAt = Date.now();
        while (!signal.aborted && Date.now() - listedAt < this.options.resyncMs) {
          const started = Date.now();
          let received = 0;
          const base = this.options.watchTimeoutSeconds ?? 300;
          const timeoutSeconds = Math.max(1, Math.min(Math.round(base * (1 + Math.random())), Math.ceil((this.options.resyncMs - (Date.now() - listedAt)) / 1000)));
          const gone = await this.#watch(resourceVersion, timeoutSeconds, (rv) => {
            resourceVersion = rv;
            received++;
          });
          if (gone) break;
          // A watch that ends at once with nothing in it (a proxy closing it) must not turn into a tight loop.
          if (received === 0 && Date.now() - started < 1000) await sleep(backoff.next(), signal);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.options.onConnected(false, error as Error);
        await sleep(backoff.next(), signal);
      }
    }
  }

  /** Lists every page and makes the store equal to it; returns the list's resourceVersion. */
  async #relist(): Promise<string> {
    const { items, resourceVersion } = await this.client.listAll<T>(this.path, { limit: 500 });
    this.lists++;
    const fresh = new Map(items.map((item) => [objectKey(item.metadata), item]));
    let changed = fresh.size !== this.store.size;
    for (const [key, item] of fresh) {
      if (this.store.get(key)?.metadata.resourceVersion !== item.metadata.resourceVersion) changed = true;
    }
    this.store.clear();
    for (const [key, item] of fresh) this.store.set(key, item);
    this.#synced = true;
    if (changed) this.options.onChange();
    return resourceVersion;
  }

  /** Returns true when the resourceVersion is gone (410): the caller re-lists. */
  async #watch(resourceVersion: string, timeoutSeconds: number, progressed: (rv: string) => void): Promise<boolean> {
    let gone = false;
    await this.client.watch<T>(this.path, { resourceVersion, timeoutSeconds, signal: this.#abort.signal }, (event: WatchEvent<T>) => {
      if (event.type === "ERROR") {
        if (event.object.code === 410) {
          gone = true;
          return;
        }
        throw new K8sError("api-status", `watch ${this.path}: ${event.object.code ?? ""} ${event.object.message ?? "error"}`, event.object.code);
      }
      if (event.type === "BOOKMARK") {
        progressed(event.object.metadata.resourceVersion);
        return;
      }
      const key = objectKey(event.object.metadata);
      if (event.type === "DELETED") this.store.delete(key);
      else this.store.set(key, event.object);
      progressed(event.object.metadata.resourceVersion ?? resourceVersion);
      this.options.onChange();
    }).catch((error: unknown) => {
      if (this.#abort.signal.aborted) return;
      throw error;
    });
    return gone;
  }
}
