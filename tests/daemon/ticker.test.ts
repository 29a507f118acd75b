/** The reconcile ticker on a stepped clock: a fixed schedule that slow ticks do not drift and stalls do not burst. */

import { describe, expect, test } from "bun:test";
import { Ticker } from "../../src/daemon/ticker.ts";
import { FakeClock } from "../health/support/fake-clock.ts";

describe("ticker", () => {
  test("ticks at start + k·interval", async () => {
    const clock = new FakeClock(100);
    const at: number[] = [];
    const ticker = new Ticker(clock, 1000, () => at.push(clock.now()));
    ticker.start();
    await clock.advance(3500);
    expect(at).toEqual([1100, 2100, 3100]);
    ticker.stop();
    await clock.advance(5000);
    expect(at).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  test("a slow tick does not push the next ones back; ticks missed during a stall are skipped, not run back to back", async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    let stallOnce = 0;
    const ticker = new Ticker(clock, 1000, () => {
      at.push(clock.now());
      if (at.length === 1) void clock.jump(300); // a reconcile that takes 300 ms
      if (at.length === 2) stallOnce = 3500; // then the process stalls for 3.5 s
    });
    ticker.start();
    await clock.advance(2000);
    expect(at).toEqual([1000, 2000]);
    await clock.jump(stallOnce);
    await clock.advance(2000);
    // After the stall (now 5500), the next tick is the next slot of the schedule, and there is one per slot.
    expect(at).toEqual([1000, 2000, 5500, 6000, 7000]);
    ticker.stop();
  });

  test("a new interval restarts the schedule from now; the same interval changes nothing", async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const ticker = new Ticker(clock, 1000, () => at.push(clock.now()));
    ticker.start();
    await clock.advance(1500);
    ticker.setInterval(1000);
    ticker.setInterval(400);
    await clock.advance(900);
    expect(at).toEqual([1000, 1900, 2300]);
    expect(ticker.intervalMs).toBe(400);
    ticker.stop();
  });

  test("a tick that throws keeps the schedule", async () => {
    const clock = new FakeClock();
    const ticker = new Ticker(clock, 1000, () => {
      throw new Error("reconcile failed");
    });
    ticker.start();
    await expect(clock.advance(1000)).rejects.toThrow("reconcile failed");
    expect(clock.pendingTimers).toBe(1);
    ticker.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
