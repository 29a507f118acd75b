/**
 * When probes run. Each target is probed at `base + k·interval` (never "last completion + interval", which drifts
 * under load). A global cap bounds the probes in flight; beyond it probes wait in due order. A target never has two
 * probes at once: a tick that finds the previous probe still running or waiting is skipped and counted.
 *
 * Targets are placed on phase slots of their interval (_phases.ts): every target of a slot is due at the same
 * instants, so one timer wake-up starts them all, and a few dozen targets share a handful of wake-ups a second
 * instead of one each (a wake-up of the event loop costs milliseconds of CPU in an emulated guest, far more than a
 * probe's sockets). A new target's first probe comes at its slot's next instant, within the first interval; a
 * target probed at once (the daemon adopting a kernel table, a target whose settings changed) joins its slot after
 * that probe, between half an interval and one and a half later, so that thousands of them do not stay in one herd.
 *
 * Time comes from an injected clock and the scheduler arms one timer for the earliest event (a due slot or a
 * probe's deadline) instead of one runtime timer per target. Wake-ups are at least `wakeQuantumMs` apart, the
 * width of a slot; a wake-up starts every probe due by then, at most the quantum late. With a quantum of 0 there
 * are no slots: each target's first probe comes at a random offset of the interval. It knows nothing of checks or
 * health states: the monitor plugs those in through `probe` and `onResult`.
 */

import { IndexedHeap } from "./_heap.ts";
import { DEFAULT_SLOT_FILL, nextDue, PhaseSlots, type SlotPlace } from "./_phases.ts";
import type { Clock, Timer } from "./clock.ts";
import type { ProbeResult } from "./types.ts";

export interface ScheduledTarget {
  id: string;
  /** A target whose fingerprint changes is rescheduled as new; it must change when the timing below changes. */
  fingerprint: string;
  health: { interval_ms: number; timeout_ms: number };
}

export interface CompletedProbe<T> {
  target: T;
  result: ProbeResult;
  scheduledAt: number;
  startedAt: number;
  finishedAt: number;
}

export interface SchedulerOptions<T> {
  clock: Clock;
  /** One probe; it must honour `signal` (see Checker). A rejection counts as a failed probe. */
  probe: (target: T, signal: AbortSignal) => Promise<ProbeResult>;
  /** Every finished probe, timeouts included; never for a probe of a target that was removed or replaced. */
  onResult: (probe: CompletedProbe<T>) => void;
  /** Probes running at once across all targets (at least 1). */
  maxInFlight: number;
  /** Uniform in [0, 1): first probes in the first interval when there are no slots (quantum 0). Default Math.random. */
  random?: () => number;
  /** Where an exception thrown by `onResult` goes; by default it is rethrown outside the scheduler's bookkeeping. */
  onError?: (error: unknown) => void;
  /** Least time between two timer wake-ups, and the width of a phase slot; a probe or timeout waits at most this long. */
  wakeQuantumMs?: number;
  /** Targets a phase slot takes before the next slot of the interval opens (_phases.ts). */
  slotFill?: number;
}

/** How early a runtime timer may fire (see #wake). */
const EARLY_WAKE_MS = 1;

/** Small beside the 50 ms lateness the scheduler is held to (P4), large beside 0.1 ms between due probes. */
export const DEFAULT_WAKE_QUANTUM_MS = 5;

export interface SyncOptions {
  /** Ids of targets to probe at once, not at their slot's next instant (the daemon adopting a kernel table at start). */
  probeFirst?: Iterable<string>;
}

/** What a sync did, by target id. A target whose fingerprint changed is `replaced` (stopped, then started anew). */
export interface SyncChanges {
  added: string[];
  removed: string[];
  replaced: string[];
  kept: string[];
}

export interface SchedulerStats {
  targets: number;
  inFlight: number;
  /** Probes due but held back by the in-flight cap. */
  waiting: number;
  started: number;
  /** Results delivered, timeouts included. */
  completed: number;
  timedOut: number;
  /** Ticks skipped because the target's previous probe was still running or waiting for a slot. */
  skippedBusy: number;
  /** Ticks that passed unseen because the process was stalled for more than an interval. */
  skippedLate: number;
  /** Times the scheduler's timer fired: what its probes cost the event loop beside their own work. */
  wakeUps: number;
}

const IDLE = 0;
const WAITING = 1;
const RUNNING = 2;

class Entry<T> {
  /** The next probe: base + tick·interval, or the one probe at once before that schedule (`atOnce`). */
  due: number;
  tick = 0;
  atOnce = false;
  phase = IDLE;
  active = true;
  scheduledAt = 0;
  startedAt = 0;
  deadline = 0;
  controller: AbortController | undefined = undefined;
  /** The controller of the last probe when it finished without aborting, for reuse. */
  spare: AbortController | undefined = undefined;
  dueIndex = -1;
  deadlineIndex = -1;

  constructor(
    public target: T,
    readonly seq: number,
    readonly base: number,
    readonly interval: number,
    readonly timeout: number,
    /** Its phase slot; undefined without slots. */
    readonly place: SlotPlace | undefined,
  ) {
    this.due = base;
  }
}

export class ProbeScheduler<T extends ScheduledTarget> {
  readonly #clock: Clock;
  readonly #probe: SchedulerOptions<T>["probe"];
  readonly #onResult: SchedulerOptions<T>["onResult"];
  readonly #onError: (error: unknown) => void;
  readonly #random: () => number;
  readonly #maxInFlight: number;
  readonly #entries = new Map<string, Entry<T>>();
  // Ties go to the target added first, so equal due times start in a stable order.
  readonly #due = new IndexedHeap<Entry<T>>({
    before: (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq),
    index: (e) => e.dueIndex,
    setIndex: (e, i) => void (e.dueIndex = i),
  });
  readonly #deadlines = new IndexedHeap<Entry<T>>({
    before: (a, b) => a.deadline < b.deadline,
    index: (e) => e.deadlineIndex,
    setIndex: (e, i) => void (e.deadlineIndex = i),
  });
  /** FIFO of entries waiting for a slot; `#waitHead` is its front. Removed entries are skipped when reached. */
  #waiting: Entry<T>[] = [];
  #waitHead = 0;
  #waitingCount = 0;
  #inFlight = 0;
  #added = 0;
  /** Probe promises not settled yet, timed-out and cancelled ones included: `stop()` waits for them. */
  #outstanding = 0;
  #drained: (() => void) | undefined;
  #stopped: Promise<void> | undefined;
  #timer: Timer | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #wakeQuantum: number;
  readonly #slots: PhaseSlots | undefined;
  #lastWake = Number.NEGATIVE_INFINITY;
  readonly #stats = { started: 0, completed: 0, timedOut: 0, skippedBusy: 0, skippedLate: 0, wakeUps: 0 };
  readonly #onTimer = () => {
    const armedFor = this.#timerAt;
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#stats.wakeUps++;
    this.#wake(armedFor);
  };

  constructor(options: SchedulerOptions<T>) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be an integer of at least 1, got ${options.maxInFlight}`);
    }
    this.#clock = options.clock;
    this.#probe = options.probe;
    this.#onResult = options.onResult;
    this.#random = options.random ?? Math.random;
    this.#maxInFlight = options.maxInFlight;
    this.#onError = options.onError ?? rethrowLater;
    const quantum = options.wakeQuantumMs ?? DEFAULT_WAKE_QUANTUM_MS;
    if (!(Number.isFinite(quantum) && quantum >= 0)) throw new RangeError(`wakeQuantumMs must be a number of at least 0, got ${quantum}`);
    this.#wakeQuantum = quantum;
    this.#slots = quantum > 0 ? new PhaseSlots(quantum, options.slotFill ?? DEFAULT_SLOT_FILL) : undefined;
  }

  /** Makes the running set equal `targets`: starts and stops only what changed (by id and fingerprint). */
  sync(targets: readonly T[], options: SyncOptions = {}): SyncChanges {
    if (this.#stopped) throw new Error("Health checks are stopped: create a new scheduler");
    const wanted = new Map<string, T>();
    for (const target of targets) {
      if (wanted.has(target.id)) throw new RangeError(`Health target ${target.id} is listed twice`);
      checkTiming(target);
      wanted.set(target.id, target);
    }
    const probeFirst = new Set(options.probeFirst ?? []);
    const changes: SyncChanges = { added: [], removed: [], replaced: [], kept: [] };
    for (const [id, entry] of this.#entries) {
      const next = wanted.get(id);
      if (next !== undefined && next.fingerprint === entry.target.fingerprint) continue;
      this.#remove(entry, next === undefined ? "Health target removed from the config" : "Health settings changed");
      (next === undefined ? changes.removed : changes.replaced).push(id);
    }
    const now = this.#clock.now();
    const replaced = new Set(changes.replaced);
    for (const [id, target] of wanted) {
      const entry = this.#entries.get(id);
      if (entry !== undefined) {
        entry.target = target;
        changes.kept.push(id);
        continue;
      }
      // A replaced target starts over as UNKNOWN (configured weight): probe it now rather than serve a backend that
      // was down for up to an interval.
      this.#add(target, now, probeFirst.has(id) || replaced.has(id));
      if (!replaced.has(id)) changes.added.push(id);
    }
    this.#drainWaiting(now);
    this.#arm();
    return changes;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  stats(): SchedulerStats {
    return { targets: this.#entries.size, inFlight: this.#inFlight, waiting: this.#waitingCount, ...this.#stats };
  }

  /** Stops every timer and aborts probes in flight; resolves once every probe has settled. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const entry of [...this.#entries.values()]) this.#remove(entry, "Health checks stopped");
    this.#stopped = this.#outstanding === 0 ? Promise.resolve() : new Promise((resolve) => (this.#drained = resolve));
    return this.#stopped;
  }

  #add(target: T, now: number, atOnce: boolean): void {
    const interval = target.health.interval_ms;
    const place = this.#slots?.take(interval);
    let base: number;
    if (place === undefined) base = atOnce ? now : now + this.#random() * interval;
    else base = nextDue(place, atOnce ? now + interval / 2 : now);
    const entry = new Entry(target, this.#added++, base, interval, target.health.timeout_ms, place);
    if (atOnce && place !== undefined) {
      entry.due = now;
      entry.atOnce = true;
    }
    this.#entries.set(target.id, entry);
    this.#due.push(entry);
  }

  #remove(entry: Entry<T>, why: string): void {
    entry.active = false;
    this.#entries.delete(entry.target.id);
    if (entry.place !== undefined) this.#slots?.release(entry.place);
    this.#due.remove(entry);
    if (entry.phase === RUNNING) {
      this.#deadlines.remove(entry);
      this.#inFlight--;
      const controller = entry.controller;
      entry.controller = undefined;
      controller?.abort(new DOMException(why, "AbortError"));
    } else if (entry.phase === WAITING) {
      this.#waitingCount--;
    }
    entry.phase = IDLE;
  }

  /** `armedFor`: the instant the timer that woke us was armed for. */
  #wake(armedFor: number): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    // The quantum counts from the instant the timer was armed for, not from a late firing: measured from the firing,
    // each late wake-up would push the next slot's wake-up back, until one wake-up served two slots, late.
    this.#lastWake = Math.min(now, armedFor);
    // Bun keeps timer time in whole milliseconds and fires up to one before the instant asked for: the probes the
    // timer was armed for start now (a fraction of a millisecond early, as reported) rather than at another wake-up
    // a quantum later. Deadlines are never taken early: a probe gets its whole timeout.
    const dueBy = armedFor > now && armedFor - now < EARLY_WAKE_MS ? armedFor : now;
    let timedOut: Array<CompletedProbe<T>> | undefined;
    for (let entry = this.#deadlines.peek(); entry !== undefined && entry.deadline <= now; entry = this.#deadlines.peek()) {
      this.#deadlines.pop();
      (timedOut ??= []).push(this.#timeOut(entry, now));
    }
    this.#drainWaiting(now);
    for (let entry = this.#due.peek(); entry !== undefined && entry.due <= dueBy; entry = this.#due.peek()) {
      if (entry.atOnce) {
        entry.atOnce = false;
        this.#fire(entry, entry.due, now);
        entry.due = entry.base;
        this.#due.update(entry);
        continue;
      }
      // After a stall longer than an interval, fire once for the newest tick rather than a burst for every missed one.
      const behind = Math.floor((now - entry.due) / entry.interval);
      if (behind > 0) {
        entry.tick += behind;
        this.#stats.skippedLate += behind;
      }
      this.#fire(entry, entry.base + entry.tick * entry.interval, now);
      entry.tick += 1;
      entry.due = entry.base + entry.tick * entry.interval;
      this.#due.update(entry);
    }
    this.#arm();
    // Results go out last, once the bookkeeping is consistent: a listener may call sync().
    if (timedOut) for (const done of timedOut) this.#deliver(done);
  }

  #fire(entry: Entry<T>, scheduledAt: number, now: number): void {
    if (entry.phase !== IDLE) {
      this.#stats.skippedBusy++;
      return;
    }
    entry.scheduledAt = scheduledAt;
    if (this.#inFlight < this.#maxInFlight) {
      this.#start(entry, now);
    } else {
      entry.phase = WAITING;
      this.#waitingCount++;
      this.#waiting.push(entry);
    }
  }

  #start(entry: Entry<T>, now: number): void {
    entry.phase = RUNNING;
    entry.startedAt = now;
    entry.deadline = now + entry.timeout;
    this.#inFlight++;
    this.#stats.started++;
    this.#deadlines.push(entry);
    // A controller that never aborted serves the next probe of the same target too: allocating one per probe was
    // the largest cost of scheduling (checkers remove their abort listeners when they settle).
    const controller = entry.spare !== undefined && !entry.spare.signal.aborted ? entry.spare : new AbortController();
    entry.spare = undefined;
    entry.controller = controller;
    this.#outstanding++;
    let answer: Promise<ProbeResult>;
    try {
      answer = this.#probe(entry.target, controller.signal);
    } catch (error) {
      answer = Promise.resolve(crashed(error));
    }
    answer.then(
      (result) => this.#settle(entry, controller, result),
      (error: unknown) => this.#settle(entry, controller, crashed(error)),
    );
  }

  #settle(entry: Entry<T>, controller: AbortController, result: ProbeResult): void {
    this.#outstanding--;
    if (this.#outstanding === 0 && this.#drained) this.#drained();
    // A probe that timed out, or whose target was removed or replaced, was already accounted for.
    if (entry.controller !== controller) return;
    const now = this.#clock.now();
    entry.controller = undefined;
    entry.spare = controller;
    entry.phase = IDLE;
    this.#inFlight--;
    this.#deadlines.remove(entry);
    const done: CompletedProbe<T> = { target: entry.target, result, scheduledAt: entry.scheduledAt, startedAt: entry.startedAt, finishedAt: now };
    this.#drainWaiting(now);
    this.#arm();
    this.#deliver(done);
  }

  #timeOut(entry: Entry<T>, now: number): CompletedProbe<T> {
    const controller = entry.controller;
    entry.controller = undefined;
    entry.phase = IDLE;
    this.#inFlight--;
    this.#stats.timedOut++;
    const reason = `timed out after ${entry.timeout} ms`;
    controller?.abort(new DOMException(reason, "TimeoutError"));
    return {
      target: entry.target,
      result: { ok: false, reason, latencyMs: now - entry.startedAt },
      scheduledAt: entry.scheduledAt,
      startedAt: entry.startedAt,
      finishedAt: now,
    };
  }

  #deliver(done: CompletedProbe<T>): void {
    this.#stats.completed++;
    try {
      this.#onResult(done);
    } catch (error) {
      this.#onError(error);
    }
  }

  #drainWaiting(now: number): void {
    const queue = this.#waiting;
    while (this.#inFlight < this.#maxInFlight && this.#waitHead < queue.length) {
      const entry = queue[this.#waitHead++] as Entry<T>;
      if (!entry.active || entry.phase !== WAITING) continue;
      this.#waitingCount--;
      this.#start(entry, now);
    }
    if (this.#waitHead === queue.length) {
      queue.length = 0;
      this.#waitHead = 0;
    } else if (this.#waitHead > 1024 && this.#waitHead * 2 > queue.length) {
      this.#waiting = queue.slice(this.#waitHead);
      this.#waitHead = 0;
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const next = Math.min(this.#due.peek()?.due ?? Number.POSITIVE_INFINITY, this.#deadlines.peek()?.deadline ?? Number.POSITIVE_INFINITY);
    const at = Math.max(next, this.#lastWake + this.#wakeQuantum);
    if (at === Number.POSITIVE_INFINITY) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = at;
      return;
    }
    // Re-armed when the next event moved either way: a timer left armed for the deadline of a probe that has since
    // answered would be a wake-up for nothing (one per probe where few targets share a slot).
    if (this.#timer !== undefined && this.#timerAt === at) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(this.#onTimer, Math.max(0, at - this.#clock.now()));
  }
}

function checkTiming(target: ScheduledTarget): void {
  const { interval_ms: interval, timeout_ms: timeout } = target.health;
  if (!(Number.isFinite(interval) && interval > 0)) throw new RangeError(`Health target ${target.id}: interval_ms must be positive, got ${interval}`);
  if (!(Number.isFinite(timeout) && timeout > 0)) throw new RangeError(`Health target ${target.id}: timeout_ms must be positive, got ${timeout}`);
}

function crashed(error: unknown): ProbeResult {
  return { ok: false, reason: `check failed: ${error instanceof Error ? error.message : String(error)}`, latencyMs: 0 };
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
