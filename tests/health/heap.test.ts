/** The indexed heap against a sorted list, through random pushes, pops, removals and re-keys. */

import { expect, test } from "bun:test";
import { IndexedHeap } from "../../src/health/_heap.ts";
import { seededRandom } from "./support/fake-clock.ts";

interface Item {
  key: number;
  index: number;
  name: number;
}

test("pops in key order through random operations", () => {
  const random = seededRandom(7);
  const heap = new IndexedHeap<Item>({ before: (a, b) => a.key < b.key, index: (i) => i.index, setIndex: (i, at) => void (i.index = at) });
  const live = new Set<Item>();
  const popped: number[] = [];
  for (let n = 0; n < 5000; n++) {
    const op = random();
    if (op < 0.45 || live.size === 0) {
      const item = { key: Math.floor(random() * 1000), index: -1, name: n };
      heap.push(item);
      live.add(item);
    } else if (op < 0.65) {
      const top = heap.pop()!;
      const least = Math.min(...[...live].map((i) => i.key));
      expect(top.key).toBe(least);
      live.delete(top);
      popped.push(top.key);
    } else if (op < 0.85) {
      const victim = [...live][Math.floor(random() * live.size)]!;
      heap.remove(victim);
      expect(heap.has(victim)).toBe(false);
      live.delete(victim);
    } else {
      const item = [...live][Math.floor(random() * live.size)]!;
      item.key = Math.floor(random() * 1000);
      heap.update(item);
    }
    expect(heap.size).toBe(live.size);
  }
  const rest: number[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) rest.push(item.key);
  expect(rest).toEqual([...rest].sort((a, b) => a - b));
  expect(rest.length).toBe(live.size);
  expect(popped.length).toBeGreaterThan(500);
});

test("removing an item that is not in the heap does nothing", () => {
  const heap = new IndexedHeap<Item>({ before: (a, b) => a.key < b.key, index: (i) => i.index, setIndex: (i, at) => void (i.index = at) });
  const a = { key: 1, index: -1, name: 1 };
  const stranger = { key: 0, index: 0, name: 2 };
  heap.push(a);
  heap.remove(stranger);
  expect(heap.size).toBe(1);
  expect(heap.peek()).toBe(a);
});

test("re-keying the top to the largest key costs about one comparison a level, not two", () => {
  let comparisons = 0;
  const heap = new IndexedHeap<Item>({
    before: (a, b) => (comparisons++, a.key < b.key),
    index: (i) => i.index,
    setIndex: (i, at) => void (i.index = at),
  });
  const items = Array.from({ length: 1023 }, (_, n) => ({ key: n, index: -1, name: n }));
  for (const item of items) heap.push(item);
  const top = heap.peek()!;
  top.key = 10_000;
  comparisons = 0;
  heap.update(top);
  // 10 levels below the top: a sift-down by two comparisons a level would take 20.
  expect(comparisons).toBeLessThanOrEqual(12);
  expect(heap.peek()!.key).toBe(1);
  const order: number[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) order.push(item.key);
  expect(order).toEqual([...order].sort((a, b) => a - b));
});
