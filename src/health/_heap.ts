/**
 * A binary min-heap whose items remember their position, so that any item can be removed or re-keyed in O(log n).
 * The scheduler keeps every target in one (by due time) and every running probe in another (by deadline), and arms
 * a single timer for the earliest of both instead of one runtime timer per target.
 */

export interface HeapSlot<T> {
  /** True when `a` must come out before `b`. */
  before(a: T, b: T): boolean;
  /** The item's position, or -1 when it is not in the heap. */
  index(item: T): number;
  setIndex(item: T, index: number): void;
}

export class IndexedHeap<T> {
  readonly #items: T[] = [];
  readonly #slot: HeapSlot<T>;

  constructor(slot: HeapSlot<T>) {
    this.#slot = slot;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    const index = this.#slot.index(item);
    return index >= 0 && this.#items[index] === item;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#slot.setIndex(item, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const index = this.#slot.index(item);
    const last = this.#items.pop() as T;
    this.#slot.setIndex(item, -1);
    if (last === item) return;
    this.#items[index] = last;
    this.#slot.setIndex(last, index);
    this.#down(this.#up(index));
  }

  /** Restores order after the item's key changed. */
  update(item: T): void {
    if (this.has(item)) this.#down(this.#up(this.#slot.index(item)));
  }

  #up(index: number): number {
    return this.#placeAbove(this.#items[index] as T, index, 0);
  }

  /** Puts `item` in the hole at `index`, moved up past earlier parents but never above `floor`; returns where. */
  #placeAbove(item: T, index: number, floor: number): number {
    const items = this.#items;
    while (index > floor) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!this.#slot.before(item, parent)) break;
      items[index] = parent;
      this.#slot.setIndex(parent, index);
      index = parentIndex;
    }
    items[index] = item;
    this.#slot.setIndex(item, index);
    return index;
  }

  /**
   * Sift-down to the bottom first, one comparison a level between the two children, then back up: the scheduler's
   * re-keyed item (a target just probed, now due an interval later) nearly always belongs at the bottom, where the
   * classic sift-down pays two comparisons a level.
   */
  #down(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index] as T;
    const start = index;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.#slot.before(items[right] as T, items[left] as T) ? right : left;
      const moved = items[child] as T;
      items[index] = moved;
      this.#slot.setIndex(moved, index);
      index = child;
    }
    // `item` goes in the hole at the bottom, then up to where it belongs (never above where it started).
    this.#placeAbove(item, index, start);
  }
}
