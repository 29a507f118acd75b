/** The probe scheduler on a fake clock: phase slots, cadence without drift, the in-flight cap, overlap, timeouts, sync, stop. */

import { describe, expect, test } from "bun:test";
import { DEFAULT_WAKE_QUANTUM_MS, ProbeScheduler, type CompletedProbe, type ScheduledTarget } from "../../src/health/scheduler.ts";
import type { ProbeResult } from "../../src/health/types.ts";
import { FakeClock, seededRandom } from "./support/fake-clock.ts";

interface Target extends ScheduledTarget {}

const target = (id: string, interval_ms = 1000, timeout_ms = 500, fingerprint = "v1"): Target => ({ id, fingerprint, health: { interval_ms, timeout_ms } });

interface Start {
  id: string;
  at: number;
  signal: AbortSignal;
}

/**
 * A scheduler whose probes answer `ok` after `duration(id)` ms of fake time (never, for Infinity), and honour the
 * abort signal as a checker must.
 */
function harness(options: { maxInFlight?: number; duration?: (id: string) => number; seed?: number; start?: number } = {}) {
  const clock = new FakeClock(options.start);
  const starts: Start[] = [];
  const results: Array<CompletedProbe<Target>> = [];
  let running = 0;
  let maxRunning = 0;
  const duration = options.duration ?? (() => 10);
  const scheduler = new ProbeScheduler<Target>({
    clock,
    maxInFlight: options.maxInFlight ?? 100,
    random: seededRandom(options.seed ?? 1),
    probe: (t, signal) => {
      starts.push({ id: t.id, at: clock.now(), signal });
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<ProbeResult>((resolve) => {
        const done = (result: ProbeResult) => {
          running--;
          resolve(result);
        };
        const ms = duration(t.id);
        const onAbort = () => {
          timer?.cancel();
          done({ ok: false, reason: "aborted", latencyMs: 0 });
        };
        const timer = Number.isFinite(ms)
          ? clock.setTimer(() => {
              signal.removeEventListener("abort", onAbort);
              done({ ok: true, reason: "ok", latencyMs: ms });
            }, ms)
          : undefined;
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    onResult: (done) => results.push(done),
  });
  const startsOf = (id: string) => starts.filter((s) => s.id === id).map((s) => s.at);
  return { clock, scheduler, starts, results, startsOf, maxRunning: () => maxRunning, running: () => running };
}

describe("first probes", () => {
  test("on phase slots spread over the first interval, a slot's targets sharing one instant", async () => {
    const { clock, scheduler, starts, results } = harness({ maxInFlight: 10_000 });
    scheduler.sync(Array.from({ length: 1000 }, (_, i) => target(`t${i}`)));
    await clock.advance(1020);
    const first = new Map<string, number>();
    for (const { id, at } of starts) if (!first.has(id)) first.set(id, at);
    expect(first.size).toBe(1000);
    const buckets = new Array<number>(10).fill(0);
    for (const at of first.values()) buckets[Math.min(9, Math.floor(at / 100))]!++;
    // Slots open spread over the interval, so each 100 ms slice gets about a tenth; a herd would put all in one.
    for (const count of buckets) expect(count).toBeWithin(60, 141);
    // 1000 targets, 16 a slot: 63 instants a second, each on the 5 ms grid, every probe started at its instant.
    const firstResults = results.filter((r) => r.scheduledAt < 1000);
    const instants = new Set(firstResults.map((r) => r.scheduledAt));
    expect(instants.size).toBe(63);
    for (const at of instants) expect(at % DEFAULT_WAKE_QUANTUM_MS).toBe(0);
    for (const r of firstResults) expect(r.startedAt).toBe(r.scheduledAt);
  });

  test("probe-first targets start at once, the others at their slot's next instant", async () => {
    const { clock, scheduler, startsOf } = harness({ start: 1 });
    scheduler.sync([target("a"), target("b"), target("c")], { probeFirst: ["b"] });
    await clock.advance(0);
    expect(startsOf("b")).toEqual([1]);
    expect(startsOf("a")).toEqual([]);
    await clock.advance(1000);
    // All three share slot 0 (due at whole seconds); b joins it after its probe at once.
    expect(startsOf("a")).toEqual([1000]);
    expect(startsOf("c")).toEqual([1000]);
    expect(startsOf("b")).toEqual([1, 1000]);
  });
});

describe("phase slots", () => {
  /** A scheduler on a clock that counts its timer wake-ups; probes answer after `answerMs` (never, for Infinity). */
  function counted(options: { answerMs?: number | ((id: string) => number); maxInFlight?: number; start?: number } = {}) {
    const clock = new FakeClock(options.start);
    let wakeUps = 0;
    const counting = {
      now: () => clock.now(),
      setTimer: (callback: () => void, delay: number) => clock.setTimer(() => (wakeUps++, callback()), delay),
    };
    const results: Array<CompletedProbe<Target>> = [];
    const answer = options.answerMs ?? 1;
    const scheduler = new ProbeScheduler<Target>({
      clock: counting,
      maxInFlight: options.maxInFlight ?? 10_000,
      probe: (t, signal) =>
        new Promise((resolve) => {
          const ms = typeof answer === "number" ? answer : answer(t.id);
          if (Number.isFinite(ms)) clock.setTimer(() => resolve({ ok: true, reason: "ok", latencyMs: ms }), ms);
          signal.addEventListener("abort", () => resolve({ ok: false, reason: "aborted", latencyMs: 0 }), { once: true });
        }),
      onResult: (done) => results.push(done),
    });
    return { clock, scheduler, results, wakeUps: () => wakeUps };
  }

  test("40 targets at 1 s: three wake-ups a second, each starting its slot's probes at their instant", async () => {
    const { clock, scheduler, results, wakeUps } = counted();
    scheduler.sync(Array.from({ length: 40 }, (_, i) => target(`t${i}`)));
    await clock.advance(999);
    const before = wakeUps();
    const seen = results.length;
    await clock.advance(3000);
    expect(wakeUps() - before).toBe(9);
    expect(scheduler.stats().wakeUps).toBe(wakeUps());
    const probes = results.slice(seen);
    expect(probes.length).toBe(120);
    const byInstant = new Map<number, number>();
    for (const r of probes) byInstant.set(r.scheduledAt, (byInstant.get(r.scheduledAt) ?? 0) + 1);
    expect([...byInstant.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [1000, 16],
      [1250, 8],
      [1500, 16],
      [2000, 16],
      [2250, 8],
      [2500, 16],
      [3000, 16],
      [3250, 8],
      [3500, 16],
    ]);
    expect(probes.every((r) => r.startedAt === r.scheduledAt)).toBe(true);
    await scheduler.stop();
  });

  test("a probe that answers leaves no wake-up at its deadline: one wake-up a probe for a lone target", async () => {
    const { clock, scheduler, results, wakeUps } = counted({ answerMs: 10 });
    scheduler.sync([target("a", 2000, 1000)]);
    await clock.advance(10_000);
    expect(results.map((r) => r.scheduledAt)).toEqual([0, 2000, 4000, 6000, 8000, 10_000].filter((at) => at + 10 <= 10_000));
    expect(wakeUps()).toBe(6);
    await scheduler.stop();
  });

  test("the probes of one slot time out together, in one wake-up, and are reported at their deadline", async () => {
    const { clock, scheduler, results, wakeUps } = counted({ answerMs: Number.POSITIVE_INFINITY });
    scheduler.sync(Array.from({ length: 16 }, (_, i) => target(`dead${i}`, 1000, 300)));
    await clock.advance(999);
    expect(results.length).toBe(16);
    expect(results.every((r) => r.result.reason === "timed out after 300 ms" && r.finishedAt === 300 && r.startedAt === 0)).toBe(true);
    // One wake-up starts the slot, one times it out.
    expect(wakeUps()).toBe(2);
    await scheduler.stop();
  });

  test("a herd probed at once (the daemon adopting its table) spreads over the slots afterwards", async () => {
    const { clock, scheduler, results } = counted({ start: 7, answerMs: 0 });
    const ids = Array.from({ length: 1000 }, (_, i) => `t${i}`);
    scheduler.sync(ids.map((id) => target(id)), { probeFirst: ids });
    await clock.advance(0);
    expect(results.length).toBe(1000);
    expect(results.every((r) => r.startedAt === 7)).toBe(true);
    await clock.advance(2000);
    const later = results.slice(1000);
    const instants = new Map<number, number>();
    for (const r of later) instants.set(r.scheduledAt, (instants.get(r.scheduledAt) ?? 0) + 1);
    // 63 slots of at most 16 targets, not one instant for all.
    expect(Math.max(...instants.values())).toBe(16);
    // Each target's second probe comes between half an interval and one and a half after its first.
    const second = new Map<string, number>();
    for (const r of later) if (!second.has(r.target.id)) second.set(r.target.id, r.scheduledAt);
    expect(second.size).toBe(1000);
    for (const at of second.values()) expect(at - 7).toBeWithin(500, 1500);
    // Then every interval_ms.
    for (const r of later) if (r.scheduledAt !== second.get(r.target.id)) expect(r.scheduledAt - second.get(r.target.id)!).toBe(1000);
    await scheduler.stop();
  });

  test("a slot's batch beyond the in-flight cap waits; each probe reports its slot's instant and its own late start", async () => {
    const clock = new FakeClock();
    const results: Array<CompletedProbe<Target>> = [];
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 10,
      slotFill: 25,
      probe: () => new Promise((resolve) => clock.setTimer(() => resolve({ ok: true, reason: "ok", latencyMs: 20 }), 20)),
      onResult: (done) => results.push(done),
    });
    scheduler.sync(Array.from({ length: 25 }, (_, i) => target(`t${i}`)));
    await clock.advance(100);
    expect(results.length).toBe(25);
    expect(new Set(results.map((r) => r.scheduledAt))).toEqual(new Set([0]));
    // 10 start at the slot's instant, 10 when those answer, 5 after that: late by 0, 20 and 40 ms.
    const lateness = results.map((r) => r.startedAt - r.scheduledAt).sort((a, b) => a - b);
    expect(lateness).toEqual([...Array(10).fill(0), ...Array(10).fill(20), ...Array(5).fill(40)]);
    await scheduler.stop();
  });

  test("a removed target's place goes to the next new one", async () => {
    const { clock, scheduler, results } = counted();
    const ids = Array.from({ length: 17 }, (_, i) => `t${i}`);
    scheduler.sync(ids.map((id) => target(id)));
    // 16 in the slot at 0, the 17th at 500.
    scheduler.sync([...ids.slice(1).map((id) => target(id)), target("new")]);
    await clock.advance(999);
    const at = new Map(results.map((r) => [r.target.id, r.scheduledAt]));
    expect(at.get("new")).toBe(0);
    expect(at.get("t16")).toBe(500);
    expect(at.has("t0")).toBe(false);
    await scheduler.stop();
  });
});

describe("cadence", () => {
  test("every interval_ms after the first probe", async () => {
    const { clock, scheduler, startsOf, results } = harness();
    scheduler.sync([target("a", 250)], { probeFirst: ["a"] });
    await clock.advance(1000);
    expect(startsOf("a")).toEqual([0, 250, 500, 750, 1000]);
    expect(results.map((r) => [r.scheduledAt, r.startedAt, r.finishedAt])).toEqual([
      [0, 0, 10],
      [250, 250, 260],
      [500, 500, 510],
      [750, 750, 760],
    ]);
  });

  test("no drift when probes are slow: start + k·interval, not completion + interval", async () => {
    const { clock, scheduler, startsOf, results } = harness({ duration: () => 700 });
    scheduler.sync([target("a", 1000, 900)], { probeFirst: ["a"] });
    await clock.advance(10_000);
    expect(startsOf("a")).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(results.every((r) => r.result.ok && r.finishedAt === r.startedAt + 700)).toBe(true);
  });

  test("a stall longer than an interval gives one late probe, not a burst", async () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.sync([target("a", 100)], { probeFirst: ["a"] });
    await clock.advance(0);
    await clock.jump(450);
    expect(startsOf("a")).toEqual([0, 450]);
    expect(scheduler.stats().skippedLate).toBe(3);
    await clock.advance(50);
    // Back on the original grid.
    expect(startsOf("a")).toEqual([0, 450, 500]);
  });
});

describe("timer wake-ups", () => {
  test("probes due closer together than the quantum share a wake-up, none starts more than the quantum late", async () => {
    const clock = new FakeClock();
    let timers = 0;
    const counting = { now: () => clock.now(), setTimer: (callback: () => void, delay: number) => (timers++, clock.setTimer(callback, delay)) };
    const results: Array<CompletedProbe<Target>> = [];
    // 100 targets of 100 intervals (1000-1099 ms): slots of their own, all due at 0, then 1 ms apart.
    const scheduler = new ProbeScheduler<Target>({
      clock: counting,
      maxInFlight: 1000,
      wakeQuantumMs: 5,
      probe: () => Promise.resolve({ ok: true, reason: "ok", latencyMs: 0 }),
      onResult: (done) => results.push(done),
    });
    scheduler.sync(Array.from({ length: 100 }, (_, i) => target(`t${i}`, 1000 + i)));
    await clock.advance(999);
    expect(results.length).toBe(100);
    timers = 0;
    await clock.advance(150);
    const second = results.slice(100);
    expect(second.length).toBe(100);
    expect(new Set(second.map((r) => r.scheduledAt)).size).toBe(100);
    expect(Math.max(...second.map((r) => r.startedAt - r.scheduledAt))).toBeLessThanOrEqual(5);
    // 100 ms of due probes in wake-ups 5 ms apart: about 20, not one per probe.
    expect(new Set(second.map((r) => r.startedAt)).size).toBeLessThanOrEqual(21);
    expect(timers).toBeLessThanOrEqual(22);
    await scheduler.stop();
  });

  test("a timer that fires a fraction of a millisecond early starts the probes it was armed for, but times out nothing early", async () => {
    const clock = new FakeClock();
    let wakeUps = 0;
    // Bun's timers: whole milliseconds, sometimes up to one early.
    const early = { now: () => clock.now(), setTimer: (callback: () => void, delay: number) => clock.setTimer(() => (wakeUps++, callback()), Math.max(0, delay - 0.5)) };
    const results: Array<CompletedProbe<Target>> = [];
    const starts: number[] = [];
    const scheduler = new ProbeScheduler<Target>({
      clock: early,
      maxInFlight: 10,
      probe: (t, signal) => {
        starts.push(clock.now());
        return new Promise((resolve) => {
          if (t.id === "ok") resolve({ ok: true, reason: "ok", latencyMs: 0 });
          signal.addEventListener("abort", () => resolve({ ok: false, reason: "aborted", latencyMs: 0 }), { once: true });
        });
      },
      onResult: (done) => results.push(done),
    });
    scheduler.sync([target("ok", 1000, 300), target("dead", 1000, 300)]);
    await clock.advance(1999);
    // Slot instants 0 and 1000, each started by one wake-up half a millisecond early; the dead probe's deadline
    // timer also fired early, and a second wake-up at the deadline itself timed it out.
    expect(starts).toEqual([0, 0, 999.5, 999.5]);
    const dead = results.filter((r) => r.target.id === "dead");
    expect(dead.map((r) => [r.scheduledAt, r.startedAt])).toEqual([
      [0, 0],
      [1000, 999.5],
    ]);
    expect(dead.every((r) => r.finishedAt - r.startedAt >= 300)).toBe(true);
    expect(wakeUps).toBeLessThanOrEqual(6);
    await scheduler.stop();
  });

  test("timers that fire late do not push the next slots back: one wake-up a slot, each as late as its timer", async () => {
    const clock = new FakeClock();
    let wakeUps = 0;
    const late = { now: () => clock.now(), setTimer: (callback: () => void, delay: number) => clock.setTimer(() => (wakeUps++, callback()), delay + 1.5) };
    const results: Array<CompletedProbe<Target>> = [];
    // One target a slot: 200 slots 5 ms apart.
    const scheduler = new ProbeScheduler<Target>({
      clock: late,
      maxInFlight: 1000,
      slotFill: 1,
      probe: () => Promise.resolve({ ok: true, reason: "ok", latencyMs: 0 }),
      onResult: (done) => results.push(done),
    });
    scheduler.sync(Array.from({ length: 200 }, (_, i) => target(`t${i}`)));
    await clock.advance(2000);
    const second = results.filter((r) => r.scheduledAt >= 1000 && r.scheduledAt < 2000);
    expect(second.length).toBe(200);
    expect(new Set(second.map((r) => r.startedAt)).size).toBe(200);
    expect(second.every((r) => r.startedAt - r.scheduledAt === 1.5)).toBe(true);
    expect(wakeUps).toBeWithin(399, 402);
    await scheduler.stop();
  });

  test("with a quantum of 0 every probe starts at its own time", async () => {
    const clock = new FakeClock();
    const results: Array<CompletedProbe<Target>> = [];
    let next = 0;
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 1000,
      wakeQuantumMs: 0,
      random: () => (next++ * 0.1) / 1000,
      probe: () => Promise.resolve({ ok: true, reason: "ok", latencyMs: 0 }),
      onResult: (done) => results.push(done),
    });
    scheduler.sync(Array.from({ length: 100 }, (_, i) => target(`t${i}`)));
    await clock.advance(999);
    expect(results.length).toBe(100);
    expect(results.every((r) => r.startedAt === r.scheduledAt)).toBe(true);
    await scheduler.stop();
  });

  test("a timeout is reported at most the quantum late", async () => {
    const { clock, scheduler, results } = harness({ duration: (id) => (id === "dead" ? Number.POSITIVE_INFINITY : 1) });
    scheduler.sync([target("dead", 1000, 300), target("ok", 1000, 500)], { probeFirst: ["dead", "ok"] });
    await clock.advance(305);
    const dead = results.find((r) => r.target.id === "dead");
    expect(dead?.result.reason).toBe("timed out after 300 ms");
    expect(dead!.finishedAt).toBeWithin(300, 300 + DEFAULT_WAKE_QUANTUM_MS + 1e-9);
  });

  test("a negative or non-finite quantum is refused", () => {
    for (const wakeQuantumMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ProbeScheduler<Target>({ clock: new FakeClock(), maxInFlight: 1, wakeQuantumMs, probe: async () => ({ ok: true, reason: "", latencyMs: 0 }), onResult: () => {} })).toThrow(RangeError);
    }
  });
});

describe("one probe per target", () => {
  test("a tick that finds the previous probe running is skipped and counted", async () => {
    const { clock, scheduler, startsOf, results } = harness({ duration: () => 1200 });
    scheduler.sync([target("a", 1000, 1500)], { probeFirst: ["a"] });
    await clock.advance(4500);
    expect(startsOf("a")).toEqual([0, 2000, 4000]);
    expect(scheduler.stats().skippedBusy).toBe(2);
    expect(results.map((r) => r.scheduledAt)).toEqual([0, 2000]);
  });
});

describe("in-flight cap", () => {
  test("never more than maxInFlight; the rest wait in due order and start as slots free", async () => {
    const { clock, scheduler, starts, results, maxRunning } = harness({ maxInFlight: 5, duration: () => 100 });
    const ids = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    scheduler.sync(ids.map((id) => target(id, 1000, 500)), { probeFirst: ids });
    await clock.advance(0);
    expect(starts.length).toBe(5);
    expect(scheduler.stats()).toMatchObject({ inFlight: 5, waiting: 15 });
    await clock.advance(400);
    expect(maxRunning()).toBe(5);
    expect(starts.map((s) => s.id)).toEqual(ids);
    expect(starts.map((s) => s.at)).toEqual([0, 0, 0, 0, 0, 100, 100, 100, 100, 100, 200, 200, 200, 200, 200, 300, 300, 300, 300, 300]);
    // Lateness is reported: due at 0, started when a slot freed.
    expect(results.filter((r) => r.target.id === "t19").map((r) => [r.scheduledAt, r.startedAt])).toEqual([[0, 300]]);
  });

  test("waiting probes go before later-due ones", async () => {
    const clock = new FakeClock();
    const starts: Array<[string, number]> = [];
    // First probes due at 0 (a), 10 (b) and 20 (c), each taking 50 ms, one slot: b and c wait, then run in due order.
    const offsets: Record<string, number> = { a: 0, b: 0.01, c: 0.02 };
    let next = "";
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 1,
      // No slots: first probes at the offsets above.
      wakeQuantumMs: 0,
      random: () => offsets[next]!,
      probe: (t) => {
        starts.push([t.id, clock.now()]);
        return new Promise((resolve) => clock.setTimer(() => resolve({ ok: true, reason: "ok", latencyMs: 50 }), 50));
      },
      onResult: () => {},
    });
    const added: Target[] = [];
    for (const id of ["c", "b", "a"]) {
      next = id;
      added.push(target(id));
      scheduler.sync([...added]);
    }
    await clock.advance(200);
    expect(starts).toEqual([
      ["a", 0],
      ["b", 50],
      ["c", 100],
    ]);
    await scheduler.stop();
  });

  test("a tick of a target still waiting for a slot is skipped", async () => {
    const { clock, scheduler, startsOf } = harness({ maxInFlight: 1, duration: (id) => (id === "slow" ? 250 : 10) });
    scheduler.sync([target("slow", 1000, 900), target("a", 100)], { probeFirst: ["slow", "a"] });
    await clock.advance(300);
    // a is due at 0, 100, 200 while slow holds the only slot; it runs once when the slot frees at 250.
    expect(startsOf("a")).toEqual([250, 300]);
    expect(scheduler.stats().skippedBusy).toBe(2);
  });
});

describe("timeouts", () => {
  test("at timeout_ms the probe is aborted with a TimeoutError and reported failed; its slot frees", async () => {
    const { clock, scheduler, starts, results } = harness({ maxInFlight: 1, duration: (id) => (id === "dead" ? Number.POSITIVE_INFINITY : 10) });
    scheduler.sync([target("dead", 1000, 300), target("ok")], { probeFirst: ["dead", "ok"] });
    await clock.advance(299);
    expect(results).toEqual([]);
    await clock.advance(1);
    const signal = starts[0]!.signal;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe("TimeoutError");
    expect(results[0]).toMatchObject({ target: { id: "dead" }, result: { ok: false, reason: "timed out after 300 ms", latencyMs: 300 }, finishedAt: 300 });
    await clock.advance(10);
    expect(results[1]).toMatchObject({ target: { id: "ok" }, scheduledAt: 0, startedAt: 300, result: { ok: true } });
    expect(scheduler.stats()).toMatchObject({ timedOut: 1, completed: 2, inFlight: 0 });
  });

  test("a signal that did not abort serves the target's next probe; an aborted one is replaced", async () => {
    const { clock, scheduler, starts } = harness({ duration: (id) => (id === "dead" ? Number.POSITIVE_INFINITY : 10) });
    scheduler.sync([target("ok", 100, 50), target("dead", 100, 50)], { probeFirst: ["ok", "dead"] });
    await clock.advance(250);
    const signals = (id: string) => starts.filter((s) => s.id === id).map((s) => s.signal);
    expect(new Set(signals("ok")).size).toBe(1);
    expect(signals("ok")[0]!.aborted).toBe(false);
    expect(signals("dead").length).toBe(3);
    expect(new Set(signals("dead")).size).toBe(3);
    expect(signals("dead").slice(0, 2).every((s) => s.aborted)).toBe(true);
  });

  test("a probe that rejects or throws counts as a failure", async () => {
    const clock = new FakeClock();
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 2,
      probe: (t) => {
        if (t.id === "throws") throw new Error("bad checker");
        return Promise.reject(new Error("boom"));
      },
      onResult: (done) => results.push(done.result),
    });
    scheduler.sync([target("throws"), target("rejects")], { probeFirst: ["throws", "rejects"] });
    await clock.advance(0);
    expect(results.map((r) => r.reason).sort()).toEqual(["check failed: bad checker", "check failed: boom"]);
    expect(results.every((r) => !r.ok)).toBe(true);
    await scheduler.stop();
  });
});

describe("sync", () => {
  test("unchanged targets keep their schedule; changed ones restart at once; new ones get jitter", async () => {
    const { clock, scheduler, startsOf } = harness();
    const first = scheduler.sync([target("keep", 1000), target("edit", 1000), target("drop", 1000)]);
    expect(first).toEqual({ added: ["keep", "edit", "drop"], removed: [], replaced: [], kept: [] });
    await clock.advance(2500);
    const keepBefore = startsOf("keep");
    const phase = keepBefore[0]!;
    expect(keepBefore).toEqual([0, 1, 2].map((k) => phase + k * 1000).filter((at) => at <= 2500));
    const changes = scheduler.sync([target("keep", 1000), target("edit", 2000, 500, "v2"), target("new", 1000)]);
    expect(changes).toEqual({ added: ["new"], removed: ["drop"], replaced: ["edit"], kept: ["keep"] });
    const editBefore = startsOf("edit").length;
    const dropBefore = startsOf("drop").length;
    await clock.advance(0);
    expect(startsOf("edit").length).toBe(editBefore + 1);
    expect(startsOf("edit").at(-1)).toBe(2500);
    await clock.advance(4000);
    // Same phase as before the sync.
    expect(startsOf("keep")).toEqual([0, 1, 2, 3, 4, 5, 6].map((k) => phase + k * 1000).filter((at) => at <= 6500));
    // After its probe at once, edit joins its slot (due at even seconds) no sooner than half an interval later.
    expect(startsOf("edit").slice(editBefore)).toEqual([2500, 4000, 6000]);
    expect(startsOf("drop").length).toBe(dropBefore);
    expect(startsOf("new").length).toBe(4);
  });

  test("a removed target's running probe is aborted and its answer never delivered", async () => {
    const { clock, scheduler, starts, results } = harness({ duration: () => 100 });
    scheduler.sync([target("a"), target("b")], { probeFirst: ["a", "b"] });
    await clock.advance(50);
    scheduler.sync([target("b")]);
    const signalOfA = starts.find((s) => s.id === "a")!.signal;
    expect(signalOfA.aborted).toBe(true);
    expect((signalOfA.reason as DOMException).name).toBe("AbortError");
    await clock.advance(100);
    expect(results.map((r) => r.target.id)).toEqual(["b"]);
    expect(scheduler.stats()).toMatchObject({ targets: 1, inFlight: 0 });
  });

  test("kept targets report the newest target object", async () => {
    const { clock, scheduler, results } = harness();
    scheduler.sync([target("a")], { probeFirst: ["a"] });
    const fresh = target("a");
    scheduler.sync([fresh]);
    await clock.advance(20);
    expect(results[0]!.target).toBe(fresh);
  });

  test("refuses duplicate ids and bad timings without changing anything", async () => {
    const { scheduler } = harness();
    scheduler.sync([target("a")]);
    expect(() => scheduler.sync([target("b"), target("b")])).toThrow("Health target b is listed twice");
    expect(() => scheduler.sync([target("b", 0)])).toThrow(RangeError);
    expect(() => scheduler.sync([target("b", 1000, Number.NaN)])).toThrow(/timeout_ms must be positive/);
    expect(scheduler.has("a")).toBe(true);
    expect(scheduler.has("b")).toBe(false);
  });

  test("refuses a cap below 1", () => {
    expect(() => harnessWithCap(0)).toThrow(RangeError);
  });
});

function harnessWithCap(maxInFlight: number) {
  return new ProbeScheduler<Target>({ clock: new FakeClock(), maxInFlight, probe: async () => ({ ok: true, reason: "", latencyMs: 0 }), onResult: () => {} });
}

describe("stop", () => {
  test("aborts probes in flight, fires nothing more, resolves once probes settled", async () => {
    const { clock, scheduler, starts, results, running } = harness({ duration: () => 300 });
    scheduler.sync([target("a"), target("b")], { probeFirst: ["a", "b"] });
    await clock.advance(10);
    expect(running()).toBe(2);
    await scheduler.stop();
    expect(running()).toBe(0);
    expect(starts.every((s) => s.signal.aborted)).toBe(true);
    await clock.advance(5000);
    expect(starts.length).toBe(2);
    expect(results).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(() => scheduler.sync([target("a")])).toThrow(/stopped/);
    await scheduler.stop();
  });

  test("waits for a probe that settles late after its abort", async () => {
    const clock = new FakeClock();
    let settleLate: (() => void) | undefined;
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 1,
      probe: () => new Promise((resolve) => (settleLate = () => resolve({ ok: false, reason: "cancelled", latencyMs: 0 }))),
      onResult: () => {},
    });
    scheduler.sync([target("a")], { probeFirst: ["a"] });
    await clock.advance(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(stopped).toBe(false);
    settleLate!();
    await stopping;
    expect(stopped).toBe(true);
  });
});

describe("one timer", () => {
  test("thousands of targets arm a single clock timer", async () => {
    const { clock, scheduler } = harness({ maxInFlight: 10_000, duration: () => 5 });
    scheduler.sync(Array.from({ length: 5000 }, (_, i) => target(`t${i}`)));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1500);
    // One for the scheduler plus the fake probes' own answer timers still pending.
    expect(clock.pendingTimers).toBeLessThan(100);
    await scheduler.stop();
  });
});

describe("re-entrance", () => {
  test("onResult may sync: a result that removes every target ends the checks cleanly", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const scheduler: ProbeScheduler<Target> = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 1,
      probe: (t, signal) =>
        new Promise((resolve) => {
          if (t.id === "slow") signal.addEventListener("abort", () => resolve({ ok: false, reason: "cancelled", latencyMs: 0 }), { once: true });
          else resolve({ ok: false, reason: "refused", latencyMs: 0 });
        }),
      onResult: (done) => {
        seen.push(done.target.id);
        scheduler.sync([]);
      },
    });
    scheduler.sync([target("fast", 100, 50), target("slow", 100, 50)], { probeFirst: ["fast", "slow"] });
    await clock.advance(1000);
    // "fast" answered first; the sync it caused cancelled "slow", waiting or running, whose result never came.
    expect(seen).toEqual(["fast"]);
    expect(scheduler.stats()).toMatchObject({ targets: 0, inFlight: 0, waiting: 0 });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("onResult errors", () => {
  test("go to onError and do not stop the schedule", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let calls = 0;
    const scheduler = new ProbeScheduler<Target>({
      clock,
      maxInFlight: 1,
      probe: async () => ({ ok: true, reason: "ok", latencyMs: 0 }),
      onResult: () => {
        calls++;
        throw new Error("listener bug");
      },
      onError: (error) => errors.push(error),
    });
    scheduler.sync([target("a", 100)], { probeFirst: ["a"] });
    await clock.advance(250);
    expect(calls).toBe(3);
    expect(errors.length).toBe(3);
    await scheduler.stop();
  });
});
