/**
 * Keeps log writing off the daemon's critical path: records are queued as they happen (with their own timestamps)
 * and written later, outside the caller's turn, in batches of one write each. The queue is bounded: a record that
 * finds it full is dropped and counted, and the count is reported in the stream itself (a notice written ahead of
 * the next batch) and to `onDropped` (the metric). Nothing is dropped silently. `flush()` writes everything now
 * (on stop, on exit, before a change of format).
 */

export interface LogQueueOptions<T> {
  /** Records that may wait; beyond it, new records are dropped and counted. */
  capacity: number;
  /** Records per write. */
  batchSize: number;
  /** Writes one batch (one write call to the destination). */
  write(batch: readonly T[]): void;
  /** Runs `flush` later, outside the current call (setImmediate in the daemon). */
  schedule(flush: () => void): void;
  /** The record that reports `count` records dropped since the last notice, written ahead of the next batch. */
  dropNotice(count: number): T;
  /** Told of every drop, for the metric. */
  onDropped?(count: number): void;
  /** A write that threw (the batch is lost, and reported). */
  onWriteError?(error: unknown, records: number): void;
}

export const DEFAULT_LOG_QUEUE_CAPACITY = 50_000;
export const DEFAULT_LOG_BATCH_SIZE = 1_000;

export class LogQueue<T> {
  #items: T[] = [];
  #scheduled = false;
  /** Dropped since the last notice was queued. */
  #unreported = 0;
  #dropped = 0;

  constructor(private readonly options: LogQueueOptions<T>) {}

  /** Records dropped because the queue was full, since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  get pending(): number {
    return this.#items.length;
  }

  /** Queues a record; false when the queue was full and it was dropped (and counted). */
  push(item: T): boolean {
    if (this.#items.length >= this.options.capacity) {
      this.#dropped++;
      this.#unreported++;
      this.options.onDropped?.(1);
      return false;
    }
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.options.schedule(() => this.flush());
    }
    return true;
  }

  /** Writes every queued record now, oldest first, one write per batch; the drop notice goes ahead of them. */
  flush(): void {
    this.#scheduled = false;
    const items = this.#items;
    this.#items = [];
    if (this.#unreported > 0) {
      // The records that were dropped arrived after those queued: the notice stands where they would have been.
      items.push(this.options.dropNotice(this.#unreported));
      this.#unreported = 0;
    }
    const { batchSize } = this.options;
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.length <= batchSize ? items : items.slice(start, start + batchSize);
      try {
        this.options.write(batch);
      } catch (error) {
        this.options.onWriteError?.(error, batch.length);
      }
    }
  }
}
