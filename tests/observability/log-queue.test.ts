/** The log queue: records wait outside the caller's turn, are written in batches, and a full queue counts its drops. */

import { describe, expect, test } from "bun:test";
import { LogQueue } from "../../src/observability/log-queue.ts";

function rig(capacity: number, batchSize: number) {
  const writes: string[][] = [];
  const scheduled: (() => void)[] = [];
  const drops: number[] = [];
  const queue = new LogQueue<string>({
    capacity,
    batchSize,
    write: (batch) => void writes.push([...batch]),
    schedule: (flush) => void scheduled.push(flush),
    dropNotice: (count) => `dropped ${count}`,
    onDropped: (count) => void drops.push(count),
  });
  return { queue, writes, scheduled, drops, runScheduled: () => scheduled.splice(0).forEach((flush) => flush()) };
}

describe("log queue", () => {
  test("nothing is written in the caller's turn; the scheduled flush writes everything in order, one write per batch", () => {
    const r = rig(100, 4);
    for (let i = 0; i < 10; i++) r.queue.push(`r${i}`);
    expect(r.writes).toEqual([]);
    // One flush is scheduled for the whole burst, not one per record.
    expect(r.scheduled).toHaveLength(1);
    r.runScheduled();
    expect(r.writes).toEqual([
      ["r0", "r1", "r2", "r3"],
      ["r4", "r5", "r6", "r7"],
      ["r8", "r9"],
    ]);
    expect(r.queue.pending).toBe(0);
    r.queue.push("later");
    expect(r.scheduled).toHaveLength(1);
    r.runScheduled();
    expect(r.writes.at(-1)).toEqual(["later"]);
  });

  test("a full queue drops new records, counts each, and writes a notice where they were lost", () => {
    const r = rig(3, 10);
    const accepted = ["a", "b", "c", "d", "e"].map((record) => r.queue.push(record));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(r.queue.dropped).toBe(2);
    expect(r.drops).toEqual([1, 1]);
    r.runScheduled();
    expect(r.writes).toEqual([["a", "b", "c", "dropped 2"]]);
    // Reported once: the next flush has no notice unless more were dropped.
    r.queue.push("f");
    r.runScheduled();
    expect(r.writes.at(-1)).toEqual(["f"]);
    expect(r.queue.dropped).toBe(2);
  });

  test("flush() writes what waits now (on stop), and the flush scheduled before finds nothing left", () => {
    const r = rig(100, 100);
    r.queue.push("x");
    r.queue.push("y");
    r.queue.flush();
    expect(r.writes).toEqual([["x", "y"]]);
    r.runScheduled();
    expect(r.writes).toEqual([["x", "y"]]);
  });

  test("a write that throws loses its batch only, and is reported", () => {
    const errors: string[] = [];
    const written: string[] = [];
    let first = true;
    const queue = new LogQueue<string>({
      capacity: 10,
      batchSize: 2,
      write: (batch) => {
        if (first) {
          first = false;
          throw new Error("EAGAIN");
        }
        written.push(...batch);
      },
      schedule: () => {},
      dropNotice: (count) => `dropped ${count}`,
      onWriteError: (error, records) => void errors.push(`${(error as Error).message} ${records}`),
    });
    for (const record of ["a", "b", "c"]) queue.push(record);
    queue.flush();
    expect(errors).toEqual(["EAGAIN 2"]);
    expect(written).toEqual(["c"]);
  });
});
