/**
 * The real health path for one service: its YAML settings are validated by the config loader, turned into targets,
 * and probed by the HealthMonitor with the built-in checkers on the real clock.
 */

import { HealthMonitor } from "../../../../src/health/monitor.ts";
import { healthTargets } from "../../../../src/health/targets.ts";
import type { HealthState, HealthTransition, ProbeResult } from "../../../../src/health/types.ts";
import { configFrom, service, type Patch } from "../../../support/load-helpers.ts";

/** A transition, when it was seen, and the index in `results` of the probe that caused it. */
export type WatchedTransition = HealthTransition & { at: number; probe: number };

export interface Watched {
  readonly transitions: readonly WatchedTransition[];
  /** Every probe's result, in the order they completed, with when it was seen. */
  readonly results: ReadonlyArray<ProbeResult & { at: number }>;
  state(): HealthState;
  /** Resolves when the target reaches `state` (at once if it is there), with when it got there; throws after `timeoutMs`. */
  waitFor(state: HealthState, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Checks one backend, 127.0.0.1:`port`, of a service of `protocol` with `health` (enabled added). */
export function watchBackend(protocol: "tcp" | "udp", port: number, health: Patch): Watched {
  const config = configFrom({}, [service({ name: "svc", protocol, ports: [port], backends: [{ address: "127.0.0.1" }], health: { enabled: true, ...health } })]);
  const targets = healthTargets(config);
  const id = targets[0]!.id;
  const transitions: WatchedTransition[] = [];
  const results: Array<ProbeResult & { at: number }> = [];
  let state: HealthState = "unknown";
  const monitor = new HealthMonitor({
    listener: {
      transition(event) {
        // The monitor reports a probe's transition before the probe itself: its result is the next one pushed.
        transitions.push({ ...event, at: performance.now(), probe: results.length });
        state = event.to;
      },
      probe(event) {
        results.push({ ...event.result, at: performance.now() });
      },
    },
  });
  monitor.sync(targets, { probeFirst: [id] });
  return {
    transitions,
    results,
    state: () => state,
    async waitFor(wanted, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const reached = transitions.findLast((t) => t.to === wanted);
        if (state === wanted && reached) return reached.at;
        if (performance.now() > deadline) {
          const last = results.at(-1);
          throw new Error(`Still ${state} after ${timeoutMs} ms (wanted ${wanted}); last probe: ${last ? `${last.ok} ${last.reason}` : "none"}`);
        }
        await Bun.sleep(10);
      }
    },
    stop: () => monitor.stop(),
  };
}
