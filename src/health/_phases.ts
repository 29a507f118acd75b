/**
 * Where in its interval each target is probed. The interval is cut into slots a wake quantum wide, and every target
 * of a slot is due at the same instants (the slot's phase + k·interval, on the clock's own scale), so one timer
 * wake-up starts them all. A wake-up costs the event loop far more than a probe's socket work where the CPU is slow
 * or emulated (2-3 ms against a fraction of that in the kernel lab), so targets are packed: a slot takes
 * `fill` targets before the next one opens, and once every slot holds that many they are spread evenly (10,000
 * targets at 1 s in 5 ms slots: 50 a slot, 200 wake-ups a second). Slots open in van der Corput order (0, ½, ¼, ¾ of
 * the interval, ...), so however many are open they are spread over the interval rather than bunched at its start.
 *
 * Targets of different intervals have slots of their own: they share wake-ups only where their instants meet.
 * Pure: no clock, no I/O; the scheduler keeps one and asks it where each new target goes.
 */

/** Targets a slot takes before the next slot opens: a wake-up shared by this many is cheap beside their sockets. */
export const DEFAULT_SLOT_FILL = 16;
/** Slots of one interval at most: a one-hour interval gets 3.6 s slots, not 720,000 of 5 ms. */
export const MAX_SLOTS = 1000;

/** A target's place: `phase` is where in the interval it is due (0 ≤ phase < interval, whole milliseconds). */
export interface SlotPlace {
  readonly interval: number;
  readonly slot: number;
  readonly phase: number;
}

export class PhaseSlots {
  readonly #slotMs: number;
  readonly #fill: number;
  readonly #rings = new Map<number, SlotRing>();

  constructor(slotMs: number, fill = DEFAULT_SLOT_FILL) {
    if (!(Number.isFinite(slotMs) && slotMs > 0)) throw new RangeError(`slotMs must be a positive number, got ${slotMs}`);
    if (!(Number.isInteger(fill) && fill >= 1)) throw new RangeError(`fill must be an integer of at least 1, got ${fill}`);
    this.#slotMs = slotMs;
    this.#fill = fill;
  }

  /** Places one more target of `intervalMs`: the first slot in opening order with room left. */
  take(intervalMs: number): SlotPlace {
    let ring = this.#rings.get(intervalMs);
    if (ring === undefined) {
      ring = new SlotRing(intervalMs, Math.max(1, Math.min(MAX_SLOTS, Math.floor(intervalMs / this.#slotMs))));
      this.#rings.set(intervalMs, ring);
    }
    const slot = ring.take(this.#fill);
    return { interval: intervalMs, slot, phase: ring.phase(slot) };
  }

  /** Gives back a place `take` returned (a target removed or replaced): the next target may fill it. */
  release(place: SlotPlace): void {
    const ring = this.#rings.get(place.interval);
    if (ring === undefined) return;
    ring.release(place.slot);
    if (ring.count === 0) this.#rings.delete(place.interval);
  }

  /** Targets in each slot of `intervalMs`, by slot index (tests, diagnostics). */
  loads(intervalMs: number): number[] {
    const ring = this.#rings.get(intervalMs);
    return ring === undefined ? [] : [...ring.loads];
  }
}

/** The first instant ≥ `t` at which a target of this place is due: phase + k·interval for a whole k. */
export function nextDue(place: SlotPlace, t: number): number {
  return place.phase + Math.ceil((t - place.phase) / place.interval) * place.interval;
}

class SlotRing {
  readonly loads: Uint32Array;
  /** Slots in opening order, and each slot's rank in it. */
  readonly #order: Uint32Array;
  readonly #rank: Uint32Array;
  count = 0;
  /** Every slot ranked before it holds at least `#level` targets. */
  #cursor = 0;
  #level = 0;

  constructor(
    readonly interval: number,
    readonly size: number,
  ) {
    this.loads = new Uint32Array(size);
    this.#order = openingOrder(size);
    this.#rank = new Uint32Array(size);
    for (let r = 0; r < size; r++) this.#rank[this.#order[r]!] = r;
  }

  phase(slot: number): number {
    return Math.floor((slot * this.interval) / this.size);
  }

  take(fill: number): number {
    // A slot may hold more than `fill` only once all hold as many: the level rises by one target a slot at a time.
    const level = Math.max(fill, Math.ceil((this.count + 1) / this.size));
    if (level !== this.#level) {
      if (level > this.#level) this.#cursor = 0;
      this.#level = level;
    }
    // count < level·size, so some slot has room and the cursor stops before the end.
    while (this.loads[this.#order[this.#cursor]!]! >= level) this.#cursor++;
    const slot = this.#order[this.#cursor]!;
    this.loads[slot]!++;
    this.count++;
    return slot;
  }

  release(slot: number): void {
    if (this.loads[slot] === 0) return;
    this.loads[slot]!--;
    this.count--;
    this.#cursor = Math.min(this.#cursor, this.#rank[slot]!);
  }
}

/**
 * 0..size-1 in the order of the van der Corput sequence (0, ½, ¼, ¾, ⅛, ... of `size`, each slot at its first
 * appearance): however many slots are open, they are spread over the interval.
 */
export function openingOrder(size: number): Uint32Array {
  let bits = 0;
  while (1 << bits < size) bits++;
  const span = 1 << bits;
  const order = new Uint32Array(size);
  const seen = new Uint8Array(size);
  let n = 0;
  // span ≥ size, so every slot appears.
  for (let k = 0; k < span; k++) {
    let reversed = 0;
    for (let b = 0; b < bits; b++) if (k & (1 << b)) reversed |= 1 << (bits - 1 - b);
    const slot = Math.floor((reversed * size) / span);
    if (seen[slot] === 0) {
      seen[slot] = 1;
      order[n++] = slot;
    }
  }
  return order;
}
