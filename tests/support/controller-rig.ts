/**
 * A Controller's dependencies for tests: a config tree written by the test, the in-memory kernel, health states the
 * test sets by target id, an event recorder and a stepped clock. The daemon's own tests (tests/daemon/daemon.test.ts)
 * run the whole composition instead.
 */

import { stringify } from "yaml";
import type { ControllerDeps, HealthChecks } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import type { TargetId } from "../../src/health/target-key.ts";
import type { HealthState, HealthTarget } from "../../src/health/types.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { configTree } from "./config-tree.ts";
import { FakeKernel } from "./fake-ipvs.ts";
import { BASE_MAIN, merge, type Patch } from "./load-helpers.ts";

/**
 * Health as the test sets it: `states.set(id, "healthy")`; a target never set is unknown. A weight the check
 * reports (http_weight_header) is set apart: `reportedWeights.set(id, 3)`.
 */
export class FakeHealth implements HealthChecks {
  readonly states = new Map<string, HealthState>();
  readonly reportedWeights = new Map<string, number>();
  sync(_targets: readonly HealthTarget[]): void {}
  state(id: TargetId) {
    const state = this.states.get(id);
    if (!state) return undefined;
    const reportedWeight = this.reportedWeights.get(id);
    return reportedWeight === undefined ? { state } : { state, reportedWeight };
  }
  stateAfterSync(target: HealthTarget): HealthState {
    return this.states.get(target.id) ?? "unknown";
  }
}

export interface ControllerRigOptions {
  /** Merged over BASE_MAIN (with `system.state_dir` in the tree). */
  main?: Patch;
  kernel?: FakeKernel;
}

export function controllerRig(services: Patch[], options: ControllerRigOptions = {}) {
  const tree = configTree();
  const write = (list: Patch[]) => {
    tree.write("config.yaml", stringify(merge(merge(BASE_MAIN, { system: { state_dir: tree.path("state") } }), options.main ?? {})));
    tree.write("config.d/s.yaml", stringify({ services: list }));
  };
  write(services);
  const kernel = options.kernel ?? new FakeKernel();
  const health = new FakeHealth();
  const events = new RecordingSink();
  const clock = { now: 0, wall: Date.UTC(2026, 11, 3, 10, 0, 0) };
  const deps: ControllerDeps = {
    sources: [fileSource(tree.main, { env: {} })],
    ipvs: kernel,
    addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
    health,
    events,
    vipRecord: { read: () => [], write: () => {} },
    now: () => clock.now,
  };
  /** The kernel weights of a backend's destinations, one per port. */
  const weights = (address: string) => kernel.rules().filter((r) => r.includes(`-r ${address}:`)).map((r) => Number(/-w (\d+)/.exec(r)![1]));
  return { tree, kernel, health, events, clock, deps, write, weights };
}
