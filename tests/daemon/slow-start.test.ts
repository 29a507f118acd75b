/**
 * Slow start in the daemon's controller against an in-memory kernel, on a stepped clock: who ramps (a recovery, an
 * added backend, an enable after a drain; not a restart), one SET_DEST per destination per interval at most, and
 * status, events and audit along the way.
 */

import { describe, expect, test } from "bun:test";
import { Controller } from "../../src/daemon/controller.ts";
import { daemonStatus } from "../../src/daemon/status.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { service, type Patch } from "../support/load-helpers.ts";
import { controllerRig } from "../support/controller-rig.ts";

const INTERVAL = 1000;
const web = (backends: Patch[], health: Patch = { enabled: true }) => service({ ports: [80, 443], backends, health: { slow_start_seconds: 10, ...health } });

function rig(services: Patch[], kernel = new FakeKernel()) {
  return controllerRig(services, { kernel, main: { daemon: { reconcile_interval_ms: INTERVAL } } });
}

/** Ticks every interval for `ms`, recording the backend's weights after each tick and the SET_DESTs of each tick. */
function run(r: ReturnType<typeof rig>, controller: Controller, address: string, ms: number) {
  const seen: number[] = [];
  for (let t = 0; t < ms; t += INTERVAL) {
    const before = r.events.kernelChanges().length;
    r.clock.now += INTERVAL;
    controller.tick();
    const updates = r.events.kernelChanges().slice(before).filter((e) => e.op === "update-destination" && e.backend === `${address}:80`);
    // Two ports: at most one SET_DEST per destination per interval.
    expect(updates.length).toBeLessThanOrEqual(2);
    seen.push(r.weights(address)[0]!);
  }
  return seen;
}

describe("slow start in the controller", () => {
  test("a recovered backend ramps 1 → configured, one step per interval, then reports done", () => {
    const r = rig([web([{ address: "10.0.0.1", weight: 11 }, { address: "10.0.0.2", weight: 11 }])]);
    try {
      r.health.states.set("web/10.0.0.1:80", "healthy");
      const controller = Controller.start(r.deps);
      // No ramp at start: a restarted daemon does not throttle a healthy backend.
      expect(r.weights("10.0.0.1")).toEqual([11, 11]);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "healthy", to: "unhealthy", result: { ok: false, reason: "refused", latencyMs: 1 } });
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      r.health.states.set("web/10.0.0.1:80", "healthy");
      controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "unhealthy", to: "healthy", result: { ok: true, reason: "connected", latencyMs: 1 } });
      expect(r.weights("10.0.0.1")).toEqual([1, 1]);
      const view = daemonStatus(controller, r.health, { stats: false });
      expect(view.services[0]!.destinations.find((d) => d.backend === "10.0.0.1:80")?.slow_start).toEqual({ remaining_seconds: 10 });
      expect(run(r, controller, "10.0.0.1", 12_000)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 11]);
      expect(r.weights("10.0.0.2")).toEqual([11, 11]);
      expect(r.events.ofType("slow-start").map((e) => e.phase)).toEqual(["started", "done"]);
      expect(r.events.ofType("weight-change").filter((e) => e.reason === "slow-start").map((e) => e.to)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(daemonStatus(controller, r.health, { stats: false }).services[0]!.destinations.every((d) => d.slow_start === undefined)).toBe(true);
    } finally {
      r.tree.remove();
    }
  });

  test("a backend added by a reload starts at weight 1; the others keep theirs", () => {
    const r = rig([web([{ address: "10.0.0.1", weight: 6 }], { enabled: false })]);
    try {
      const controller = Controller.start(r.deps);
      expect(r.weights("10.0.0.1")).toEqual([6, 6]);
      r.write([web([{ address: "10.0.0.1", weight: 6 }, { address: "10.0.0.2", weight: 6 }], { enabled: false })]);
      expect(controller.reload().result).toBe("success");
      expect(r.weights("10.0.0.2")).toEqual([1, 1]);
      expect(r.weights("10.0.0.1")).toEqual([6, 6]);
      expect(run(r, controller, "10.0.0.2", 11_000)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    } finally {
      r.tree.remove();
    }
  });

  test("enable after a drain ramps back; slow start off changes weights at once", () => {
    const r = rig([web([{ address: "10.0.0.1", weight: 5 }], { enabled: false })]);
    try {
      const controller = Controller.start(r.deps);
      controller.setOverride({ service: "web", backend: "10.0.0.1", action: "drain", by: { user: "alice" } });
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      controller.setOverride({ service: "web", backend: "10.0.0.1", action: "enable", by: { user: "alice" } });
      expect(r.weights("10.0.0.1")).toEqual([1, 1]);
      r.write([web([{ address: "10.0.0.1", weight: 5 }], { enabled: false, slow_start_seconds: 0 })]);
      expect(controller.reload().result).toBe("success");
      // Slow start turned off mid-ramp: the next tick gives the full weight.
      r.clock.now += INTERVAL;
      controller.tick();
      expect(r.weights("10.0.0.1")).toEqual([5, 5]);
      expect(r.events.ofType("slow-start").map((e) => e.phase)).toEqual(["started", "done"]);
    } finally {
      r.tree.remove();
    }
  });
});
