/**
 * The daemon's drains (config `daemon.drain`): the records of destinations left draining, carried from one plan to
 * the next (plan/drain.ts decides), recorded in state_dir after every change so that a restart resumes them with
 * their deadlines, and reported as events (audit, metrics). A plan's drain result is committed only once the
 * plan ran: a dry run or a refused reload changes nothing.
 */

import type { Config } from "../config/model.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { EventSink } from "../observability/events.ts";
import type { Plan } from "../plan/changes.ts";
import { applyDrain, connectionsOf, drainingView, drainKey, type DrainOutput, type DrainRecord } from "../plan/drain.ts";

export interface DrainStore {
  read(stateDir: string): DrainRecord[];
  write(stateDir: string, records: readonly DrainRecord[]): void;
}

export function drainTimeoutMs(config: Config): number {
  const drain = config.main.daemon.drain;
  return drain.enabled ? drain.timeout_seconds * 1000 : 0;
}

export class Drains {
  #records = new Map<string, DrainRecord>();
  /** The last pass, until its plan runs (commit) or another pass replaces it. */
  #pending: DrainOutput | undefined;

  constructor(
    private readonly store: DrainStore,
    private readonly events: EventSink,
    /** Wall-clock ms (epoch): deadlines outlive the process. */
    private readonly wallClock: () => number,
  ) {}

  /** At start: the drains a previous run left, reported as resumed (a record whose destination is gone ends at the first pass). */
  resume(stateDir: string, kernel: readonly KernelServiceEntry[]): void {
    let records: DrainRecord[];
    try {
      records = this.store.read(stateDir);
    } catch (error) {
      this.events.emit({ type: "error", message: `${(error as Error).message}; removed destinations found at start drain from now` });
      return;
    }
    this.#records = new Map(records.map((r) => [drainKey(r.service, r.destination), r]));
    for (const view of drainingView(this.#records, kernel)) {
      this.events.emit({
        type: "drain-started",
        service: view.service,
        destination: view.destination,
        ...(view.name ? { name: view.name } : {}),
        deadline: view.deadline,
        connections: connectionsOf(view.service, view),
        resumed: true,
      });
    }
  }

  /** The planner's pass (ReconcileRequest.adjust): deletions of destinations with connections become drains. */
  pass(config: Config, plan: Plan, kernel: readonly KernelServiceEntry[], drainable?: (vip: string) => boolean): Plan {
    this.#pending = applyDrain({
      plan,
      kernel,
      draining: this.#records,
      now: this.wallClock(),
      timeoutMs: drainTimeoutMs(config),
      ...(drainable ? { drainable } : {}),
    });
    return this.#pending.plan;
  }

  /** `plan` ran: its drain result becomes the state, is recorded in state_dir and reported. */
  commit(plan: Plan, stateDir: string): void {
    const result = this.#pending;
    this.#pending = undefined;
    if (!result || result.plan !== plan) return;
    this.#records = result.draining;
    if (result.started.length === 0 && result.ended.length === 0) return;
    try {
      this.store.write(stateDir, [...this.#records.values()]);
    } catch (error) {
      this.events.emit({ type: "error", message: `Cannot record the draining destinations in ${stateDir}: ${(error as Error).message}` });
    }
    for (const { record, connections } of result.started) {
      this.events.emit({
        type: "drain-started",
        service: record.service,
        destination: record.destination,
        ...(record.name ? { name: record.name } : {}),
        deadline: record.deadline,
        connections,
        resumed: false,
      });
    }
    for (const { record, reason, connections: left } of result.ended) {
      this.events.emit({ type: "drain-ended", service: record.service, destination: record.destination, ...(record.name ? { name: record.name } : {}), reason, connections: left });
    }
  }

  /** What drains now, with each destination's connections in `kernel`. */
  view(kernel: readonly KernelServiceEntry[]): ReturnType<typeof drainingView> {
    return drainingView(this.#records, kernel);
  }

  get size(): number {
    return this.#records.size;
  }
}
