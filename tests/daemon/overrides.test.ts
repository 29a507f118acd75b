/**
 * Overrides in the daemon's controller against an in-memory kernel: applied before the call returns, persisted
 * (a restarted controller keeps them), expired by TTL on an injected wall clock, and joined with health.
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { Controller, type ControllerDeps } from "../../src/daemon/controller.ts";
import { fileOverrideStore, overridesFile } from "../../src/daemon/overrides-store.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { auditRecords } from "../../src/observability/audit.ts";
import { service } from "../support/load-helpers.ts";
import { controllerRig } from "../support/controller-rig.ts";

const alice = { user: "alice", login_uid: 1000, sudo_user: "alice" };
const WEB = service({ ports: [80, 443], health: { enabled: true }, backends: [{ address: "10.0.0.1", weight: 5 }, { address: "10.0.0.2", weight: 5 }] });

function rig() {
  const r = controllerRig([WEB]);
  const deps: ControllerDeps = { ...r.deps, wallNow: () => r.clock.wall, overrides: fileOverrideStore };
  return { ...r, deps };
}

describe("overrides in the controller", () => {
  test("drain sets weight 0 on every port before returning, persists, and enable puts the weight back", () => {
    const r = rig();
    try {
      const controller = Controller.start(r.deps);
      expect(r.weights("10.0.0.1")).toEqual([5, 5]);
      const drained = controller.setOverride({ service: "web", backend: "10.0.0.1", action: "drain", by: alice });
      expect(drained).toMatchObject({ result: "applied", backend: "10.0.0.1:80", override: { kind: "drain", weight: 0 }, previous: null });
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      expect(r.weights("10.0.0.2")).toEqual([5, 5]);
      const saved = JSON.parse(readFileSync(overridesFile(r.tree.path("state")), "utf8"));
      expect(saved.overrides).toEqual([expect.objectContaining({ service: "web", backend: "10.0.0.1:80", kind: "drain", by: alice })]);
      // A periodic converge keeps it (the override is part of the desired state, not a one-off write).
      r.clock.now += 1000;
      controller.tick();
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      const records = r.events.events.flatMap(auditRecords);
      expect(records.find((a) => a.event === "backend_override_set")?.fields).toMatchObject({ service: "web", backend: "10.0.0.1:80", kind: "drain", user: "alice", login_uid: 1000, sudo_user: "alice" });
      expect(records.find((a) => a.event === "backend_weight_changed")?.fields).toMatchObject({ backend: "10.0.0.1:80", old_weight: 5, new_weight: 0, reason: "override" });

      const bob = { user: "bob" };
      expect(controller.setOverride({ service: "web", backend: "10.0.0.1:80", action: "enable", by: bob })).toMatchObject({ result: "applied", override: null, previous: { kind: "drain" } });
      expect(r.weights("10.0.0.1")).toEqual([5, 5]);
      expect(r.events.events.flatMap(auditRecords).find((a) => a.event === "backend_override_cleared")?.fields).toMatchObject({ kind: "drain", user: "bob" });
      expect(JSON.parse(readFileSync(overridesFile(r.tree.path("state")), "utf8")).overrides).toEqual([]);
    } finally {
      r.tree.remove();
    }
  });

  test("a restarted controller restores the overrides from state_dir before its first plan, and a reload keeps them", () => {
    const r = rig();
    try {
      const first = Controller.start(r.deps);
      first.setOverride({ service: "web", backend: "10.0.0.2:80", action: "weight", weight: 9, by: alice });
      expect(r.weights("10.0.0.2")).toEqual([9, 9]);
      // Someone resets the weight behind the daemon's back while no daemon runs.
      r.kernel.execute([{ kind: "set-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destination: { address: "10.0.0.2", port: 80, family: 4, forward: "nat", weight: 5, upperThreshold: 0, lowerThreshold: 0 } }]);
      const events = new RecordingSink();
      r.health.states.set("web/10.0.0.2:80", "healthy");
      const second = Controller.start({ ...r.deps, events });
      expect(second.overrides).toHaveLength(1);
      expect(events.ofType("backend-override")).toEqual([expect.objectContaining({ action: "restored" })]);
      r.clock.now += 1000;
      second.tick();
      expect(r.weights("10.0.0.2")).toEqual([9, 9]);
      expect(second.reload().result).toBe("success");
      expect(r.weights("10.0.0.2")).toEqual([9, 9]);
      // The backend leaves the config: its override is kept (it applies again if it comes back) and can be removed.
      r.tree.write("config.d/s.yaml", stringify({ services: [service({ ports: [80, 443], health: { enabled: true }, backends: [{ address: "10.0.0.1", weight: 5 }] })] }));
      expect(second.reload().result).toBe("success");
      expect(second.overrides.map((o) => o.backend)).toEqual(["10.0.0.2:80"]);
      expect(second.setOverride({ service: "web", backend: "10.0.0.2:80", action: "enable", by: alice })).toMatchObject({ result: "applied", override: null, previous: { weight: 9 }, changes: [] });
      expect(second.overrides).toEqual([]);
    } finally {
      r.tree.remove();
    }
  });

  test("a TTL expires on the wall clock at the next tick: weight back, audit `expired`, file emptied", () => {
    const r = rig();
    try {
      const controller = Controller.start(r.deps);
      controller.setOverride({ service: "web", backend: "10.0.0.1:80", action: "drain", ttl_ms: 60_000, by: alice });
      r.clock.now += 1000;
      r.clock.wall += 59_000;
      controller.tick();
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      r.clock.now += 1000;
      r.clock.wall += 1000;
      controller.tick();
      expect(r.weights("10.0.0.1")).toEqual([5, 5]);
      expect(r.events.ofType("backend-override").map((e) => e.action)).toEqual(["set", "expired"]);
      expect(controller.overrides).toEqual([]);
      expect(JSON.parse(readFileSync(overridesFile(r.tree.path("state")), "utf8")).overrides).toEqual([]);
    } finally {
      r.tree.remove();
    }
  });

  test("weight never revives a backend health says is down unless --force; health recovering applies it", () => {
    const r = rig();
    try {
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      const controller = Controller.start(r.deps);
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      controller.setOverride({ service: "web", backend: "10.0.0.1:80", action: "weight", weight: 2, by: alice });
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      r.health.states.set("web/10.0.0.1:80", "healthy");
      controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "unhealthy", to: "healthy", result: { ok: true, reason: "connected", latencyMs: 1 } });
      expect(r.weights("10.0.0.1")).toEqual([2, 2]);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "healthy", to: "unhealthy", result: { ok: false, reason: "refused", latencyMs: 1 } });
      expect(r.weights("10.0.0.1")).toEqual([0, 0]);
      controller.setOverride({ service: "web", backend: "10.0.0.1:80", action: "weight", weight: 2, force: true, by: alice });
      expect(r.weights("10.0.0.1")).toEqual([2, 2]);
    } finally {
      r.tree.remove();
    }
  });

  test("bad requests change nothing; a corrupt overrides file stops the start naming it", () => {
    const r = rig();
    try {
      const controller = Controller.start(r.deps);
      expect(controller.setOverride({ service: "nope", backend: "10.0.0.1", action: "drain", by: alice })).toMatchObject({ result: "refused", status: 404 });
      expect(controller.setOverride({ service: "web", backend: "10.0.0.1", action: "weight", by: alice })).toMatchObject({ result: "refused", status: 400 });
      expect(r.weights("10.0.0.1")).toEqual([5, 5]);
      expect(r.events.ofType("backend-override")).toEqual([]);
      r.tree.write("state/overrides.json", "{not json");
      expect(() => Controller.start(r.deps)).toThrow(`${overridesFile(r.tree.path("state"))} is not valid JSON`);
    } finally {
      r.tree.remove();
    }
  });
});
