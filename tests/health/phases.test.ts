/** Phase slots: where in its interval each target is probed, packed for few wake-ups, spread once slots are full. */

import { describe, expect, test } from "bun:test";
import { openingOrder, MAX_SLOTS, nextDue, PhaseSlots } from "../../src/health/_phases.ts";

describe("placement", () => {
  test("a slot takes `fill` targets before the next one opens, and slots open spread over the interval", () => {
    const slots = new PhaseSlots(5, 16);
    const places = Array.from({ length: 40 }, () => slots.take(1000));
    // 40 targets at 1 s: three wake-ups a second (at 0, 500 and 250 ms), not forty.
    expect(places.map((p) => p.phase)).toEqual([...Array(16).fill(0), ...Array(16).fill(500), ...Array(8).fill(250)]);
    const loads = slots.loads(1000);
    expect(loads.length).toBe(200);
    expect(loads.filter((n) => n > 0)).toEqual([16, 8, 16]);
  });

  test("once every slot holds `fill` targets, they are spread evenly: 10,000 targets at 1 s in 5 ms slots, 50 each", () => {
    const slots = new PhaseSlots(5, 16);
    for (let i = 0; i < 10_000; i++) slots.take(1000);
    expect(new Set(slots.loads(1000))).toEqual(new Set([50]));
    // One more goes to the first slot in opening order.
    expect(slots.take(1000).phase).toBe(0);
  });

  test("a freed place is filled before a new slot opens", () => {
    const slots = new PhaseSlots(5, 4);
    const places = Array.from({ length: 8 }, () => slots.take(1000));
    expect(places.map((p) => p.phase)).toEqual([0, 0, 0, 0, 500, 500, 500, 500]);
    slots.release(places[1]!);
    slots.release(places[5]!);
    expect([slots.take(1000).phase, slots.take(1000).phase, slots.take(1000).phase]).toEqual([0, 500, 250]);
  });

  test("each interval has slots of its own; a released interval is forgotten", () => {
    const slots = new PhaseSlots(5, 2);
    const a = [slots.take(1000), slots.take(1000), slots.take(1000)];
    const b = slots.take(300);
    expect(a.map((p) => p.phase)).toEqual([0, 0, 500]);
    expect(b).toEqual({ interval: 300, slot: 0, phase: 0 });
    expect(slots.loads(300).length).toBe(60);
    slots.release(b);
    expect(slots.loads(300)).toEqual([]);
    expect(slots.loads(1000).filter((n) => n > 0)).toEqual([2, 1]);
  });

  test("phases stay inside the interval, on whole milliseconds, for intervals that are not a multiple of the slot", () => {
    const slots = new PhaseSlots(5, 1);
    const phases = Array.from({ length: 201 }, () => slots.take(1003).phase);
    expect(phases.every((p) => Number.isInteger(p) && p >= 0 && p < 1003)).toBe(true);
    // 200 slots of about 5 ms; the 201st target shares one.
    expect(new Set(phases).size).toBe(200);
  });

  test("a long interval gets at most MAX_SLOTS slots", () => {
    const slots = new PhaseSlots(5, 1);
    slots.take(3_600_000);
    expect(slots.loads(3_600_000).length).toBe(MAX_SLOTS);
    expect(slots.take(3_600_000).phase).toBe(1_800_000);
  });

  test("refuses a slot width or fill that cannot work", () => {
    expect(() => new PhaseSlots(0)).toThrow(RangeError);
    expect(() => new PhaseSlots(Number.NaN)).toThrow(RangeError);
    expect(() => new PhaseSlots(5, 0)).toThrow(RangeError);
    expect(() => new PhaseSlots(5, 1.5)).toThrow(RangeError);
  });
});

describe("opening order", () => {
  test("bit-reversed: each new slot halves the largest gap for a power of two", () => {
    expect([...openingOrder(8)]).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
  });

  test("is a permutation for any size", () => {
    for (const size of [1, 2, 3, 7, 200, 1000]) {
      const order = [...openingOrder(size)];
      expect(order.length).toBe(size);
      expect(new Set(order).size).toBe(size);
      expect(Math.max(...order)).toBe(size - 1);
    }
  });

  test("the first slots of 200 are spread: 8 open slots leave no gap above a quarter of the interval", () => {
    const first = [...openingOrder(200)].slice(0, 8).sort((x, y) => x - y);
    const gaps = first.map((slot, i) => (first[i + 1] ?? first[0]! + 200) - slot);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(50);
  });
});

describe("nextDue", () => {
  test("the first instant at or after t on the place's grid", () => {
    const place = { interval: 1000, slot: 50, phase: 250 };
    expect(nextDue(place, 0)).toBe(250);
    expect(nextDue(place, 250)).toBe(250);
    expect(nextDue(place, 250.5)).toBe(1250);
    expect(nextDue(place, 5_000_100)).toBe(5_000_250);
  });
});
