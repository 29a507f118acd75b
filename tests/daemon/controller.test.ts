/** The daemon's decisions against an in-memory kernel; the lab tests drive the real daemon against a real kernel. */

import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { Controller, type ControllerDeps, type HealthChecks } from "../../src/daemon/controller.ts";
import { kernelChangesOf, RecordingSink } from "../../src/observability/events.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import type { TargetId } from "../../src/health/target-key.ts";
import type { HealthState, HealthTarget, HealthTransition } from "../../src/health/types.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel, foreignService } from "../support/fake-ipvs.ts";
import { BASE_MAIN, merge, service, type Patch } from "../support/load-helpers.ts";

class FakeHealth implements HealthChecks {
  states = new Map<string, HealthState>();
  /** Targets whose checks a reload replaces: they start over as unknown (the monitor's fingerprint rule). */
  replaced = new Set<string>();
  synced: { targets: string[]; probeFirst: string[] }[] = [];
  sync(targets: readonly HealthTarget[], options: { probeFirst?: Iterable<TargetId> } = {}): void {
    for (const id of this.replaced) this.states.delete(id);
    this.synced.push({ targets: targets.map((t) => t.id), probeFirst: [...(options.probeFirst ?? [])] });
  }
  state(id: TargetId) {
    const state = this.states.get(id);
    return state ? { state } : undefined;
  }
  stateAfterSync(target: HealthTarget): HealthState {
    return this.replaced.has(target.id) ? "unknown" : (this.states.get(target.id) ?? "unknown");
  }
}

interface Rig {
  tree: ConfigTree;
  kernel: FakeKernel;
  health: FakeHealth;
  events: RecordingSink;
  local: Set<string>;
  recorded: string[];
  deps: ControllerDeps;
  /** Monotonic test time, ms: ticks come a reconcile interval apart, so the state cache has expired. */
  clock: { now: number };
  write(services: Patch[], main?: Patch): void;
}

function rig(services: Patch[], main: Patch = {}, kernel = new FakeKernel()): Rig {
  const tree = configTree();
  const r: Rig = {
    tree,
    kernel,
    health: new FakeHealth(),
    events: new RecordingSink(),
    local: new Set(["192.0.2.10"]),
    recorded: [],
    deps: undefined as never,
    clock: { now: 0 },
    write(services, main = {}) {
      tree.write("config.yaml", stringify(merge(merge(BASE_MAIN, { system: { state_dir: tree.path("state") } }), main)));
      tree.write("config.d/s.yaml", stringify({ services }));
    },
  };
  r.write(services, main);
  r.deps = {
    sources: [fileSource(tree.main, { env: {} })],
    ipvs: kernel,
    addresses: { localAddresses: () => r.local },
    health: r.health,
    events: r.events,
    vipRecord: { read: () => [...r.recorded], write: (_dir, vips) => void (r.recorded = [...vips].sort()) },
    now: () => r.clock.now,
  };
  return r;
}

const checked = (patch: Patch) => service({ health: { enabled: true }, ...patch });
const transition = (service: string, backend: string, from: HealthTransition["from"], to: HealthTransition["to"]): HealthTransition => ({
  service,
  backend,
  from,
  to,
  result: { ok: to === "healthy", reason: to === "healthy" ? "connected" : "connection refused", latencyMs: 1 },
});

describe("daemon controller", () => {
  test("start: converges an empty table and records the managed VIPs", () => {
    const r = rig([service({ ports: [80, 443] })]);
    try {
      Controller.start(r.deps);
      expect(r.kernel.rules()).toHaveLength(4);
      expect(r.recorded).toEqual(["192.0.2.10"]);
      expect(r.events.ofType("config-loaded")[0]).toMatchObject({ startup: true, services: 1, backends: 1 });
      expect(r.events.ofType("reconcile")[0]).toMatchObject({ result: "success", trigger: "startup", changes: 4 });
      expect(r.events.ofType("vip-transition")).toEqual([{ type: "vip-transition", vip: "192.0.2.10", direction: "acquire" }]);
    } finally {
      r.tree.remove();
    }
  });

  test("a start-up reconcile reaches the sinks as one kernel-changes event, each destination named by its backend", () => {
    // A port range with a backend on a fixed port beside two that follow the service port: 3 × 4 destinations.
    const backends = [{ address: "10.0.0.1", weight: 2 }, { address: "10.0.0.2", weight: 3 }, { address: "10.0.0.3", port: 8080, weight: 5 }];
    const r = rig([service({ ports: ["7000-7003"], backends })]);
    try {
      Controller.start(r.deps);
      const batches = r.events.ofType("kernel-changes");
      expect(batches).toHaveLength(1);
      expect(batches[0]!.bulk).toBe(true);
      const changes = batches[0]!.changes;
      expect(changes).toHaveLength(4 + 12);
      expect(r.events.ofType("reconcile")[0]).toMatchObject({ changes: 16, ops: { "create-service": 4, "create-destination": 12 } });
      expect(changes.filter((c) => c.op === "create-service").map((c) => [c.service, c.backend])).toEqual([7000, 7001, 7002, 7003].map((p) => [`tcp:192.0.2.10:${p}`, undefined]));
      // The backend key is the backend's address with its own port, or the service's lowest port (config.md).
      const named = changes.filter((c) => c.op === "create-destination").map((c) => `${c.service}>${c.destination} ${c.backend} w${c.weight}`);
      expect(named).toEqual(
        [7000, 7001, 7002, 7003].flatMap((p) => [
          `tcp:192.0.2.10:${p}>10.0.0.1:${p} 10.0.0.1:7000 w2`,
          `tcp:192.0.2.10:${p}>10.0.0.2:${p} 10.0.0.2:7000 w3`,
          `tcp:192.0.2.10:${p}>10.0.0.3:8080 10.0.0.3:8080 w5`,
        ]),
      );
      expect(r.kernel.rules()).toHaveLength(16);
    } finally {
      r.tree.remove();
    }
  });

  test("drift repair: an external flush is undone on the next tick, without change limits", () => {
    const r = rig([service({ ports: ["80-99"] })], { daemon: { change_limits: { max_services_deleted: 0 } } });
    try {
      const controller = Controller.start(r.deps);
      const before = r.kernel.rules();
      r.kernel.services.clear();
      r.kernel.addForeign(foreignService("192.0.2.10", 8080));
      (r.clock.now += 1000), controller.tick();
      expect(r.kernel.rules()).toEqual(before);
      expect(r.events.kernelChanges().filter((e) => e.reason === "drift").length).toBeGreaterThan(20);
    } finally {
      r.tree.remove();
    }
  });

  test("a health transition sets the weight of every port's destination at once, and recovery restores it", () => {
    const r = rig([checked({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2" }] })]);
    try {
      const controller = Controller.start(r.deps);
      const dumps = r.kernel.dumps;
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "healthy", "unhealthy"));
      expect(r.kernel.dumps).toBe(dumps); // no table read on the failover path
      expect(r.kernel.rules().filter((l) => l.includes("10.0.0.1"))).toEqual([
        "-a tcp:192.0.2.10:443 -r 10.0.0.1:443 -nat -w 0",
        "-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0",
      ]);
      expect(r.events.ofType("weight-change")).toEqual([{ type: "weight-change", service: "web", backend: "10.0.0.1:80", from: 4, to: 0, reason: "health" }]);
      (r.clock.now += 1000), controller.tick();
      expect(r.kernel.rules().filter((l) => l.includes("10.0.0.1") && l.endsWith("-w 0"))).toHaveLength(2);
      r.health.states.set("web/10.0.0.1:80", "healthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "unhealthy", "healthy"));
      expect(r.kernel.rules().filter((l) => l.includes("10.0.0.1") && l.endsWith("-w 4"))).toHaveLength(2);
    } finally {
      r.tree.remove();
    }
  });

  test("adoption: a programmed table keeps the kernel's weights until each target's first probe, probed first", () => {
    const kernel = new FakeKernel();
    const first = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2", weight: 2 }] })], {}, kernel);
    try {
      Controller.start(first.deps);
      kernel.execute([{ kind: "set-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destination: { address: "10.0.0.1", port: 80, family: 4, forward: "nat", weight: 0, upperThreshold: 0, lowerThreshold: 0 } }]);
      const second = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2", weight: 2 }] })], {}, kernel);
      const restarted = Controller.start(second.deps);
      expect(second.health.synced[0]!.probeFirst.sort()).toEqual(["web/10.0.0.1:80", "web/10.0.0.2:80"]);
      expect(kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      (second.clock.now += 1000), restarted.tick();
      expect(kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      second.health.states.set("web/10.0.0.1:80", "healthy");
      restarted.onHealthTransition(transition("web", "10.0.0.1:80", "unknown", "healthy"));
      expect(kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 4");
      second.tree.remove();
    } finally {
      first.tree.remove();
    }
  });

  test("warm standby keeps a non-held VIP programmed; cold standby removes it; acquiring brings it back", () => {
    for (const standby of ["warm", "cold"] as const) {
      const r = rig([service({ name: "a" }), service({ name: "b", vip: "192.0.2.20" })], { daemon: { standby } });
      try {
        const controller = Controller.start(r.deps);
        const onB = () => r.kernel.rules().filter((l) => l.includes("192.0.2.20"));
        expect(onB().length).toBe(standby === "warm" ? 2 : 0);
        r.local.add("192.0.2.20");
        (r.clock.now += 1000), controller.tick();
        expect(onB()).toHaveLength(2);
        expect(r.events.ofType("vip-transition").at(-1)).toEqual({ type: "vip-transition", vip: "192.0.2.20", direction: "acquire" });
        r.local.delete("192.0.2.20");
        (r.clock.now += 1000), controller.tick();
        expect(onB().length).toBe(standby === "warm" ? 2 : 0);
        expect(r.events.ofType("vip-transition").at(-1)).toEqual({ type: "vip-transition", vip: "192.0.2.20", direction: "release" });
        expect(r.kernel.rules().filter((l) => l.includes("192.0.2.10"))).toHaveLength(2);
      } finally {
        r.tree.remove();
      }
    }
  });

  test("reload: an invalid config changes nothing; a valid one swaps in at once", () => {
    const r = rig([service({ scheduler: "rr" })]);
    try {
      const controller = Controller.start(r.deps);
      const before = r.kernel.rules();
      r.tree.write("config.d/s.yaml", "services:\n  - name: web\n    ports: [80]\n    scheduler: nope\n");
      const refused = controller.reload();
      expect(refused.result).toBe("failure");
      expect(r.events.ofType("config-refused")[0]).toMatchObject({ reason: "invalid" });
      expect(r.kernel.rules()).toEqual(before);
      (r.clock.now += 1000), controller.tick();
      expect(r.kernel.rules()).toEqual(before);
      r.write([service({ scheduler: "wrr" })]);
      const ok = controller.reload();
      expect(ok.result).toBe("success");
      expect(r.kernel.rules()).toContain("-A tcp:192.0.2.10:80 -s wrr");
      expect(r.events.ofType("config-loaded").at(-1)).toMatchObject({ startup: false });
    } finally {
      r.tree.remove();
    }
  });

  test("reload over a change limit is refused and keeps the old config running", () => {
    const r = rig([service({ ports: ["80-84"] })], { daemon: { change_limits: { max_services_deleted: 2 } } });
    try {
      const controller = Controller.start(r.deps);
      const before = r.kernel.rules();
      r.write([service({ ports: [80] })], { daemon: { change_limits: { max_services_deleted: 2 } } });
      const result = controller.reload();
      expect(result).toMatchObject({ result: "refused", limit: { name: "max_services_deleted", limit: 2, planned: 4 } });
      expect(r.kernel.rules()).toEqual(before);
      (r.clock.now += 1000), controller.tick();
      expect(r.kernel.rules()).toEqual(before);
      expect(r.events.ofType("change-limit-hit")).toHaveLength(1);
      expect(controller.reload({ force: true }).result).toBe("success");
      expect(r.kernel.rules().filter((l) => l.startsWith("-A"))).toEqual(["-A tcp:192.0.2.10:80 -s wlc"]);
    } finally {
      r.tree.remove();
    }
  });

  test("reload --dry-run plans with the new config and changes nothing", () => {
    const r = rig([service({})]);
    try {
      const controller = Controller.start(r.deps);
      const before = r.kernel.rules();
      r.write([service({ scheduler: "sh" })]);
      const plan = controller.reload({ dryRun: true });
      expect(plan.result).toBe("planned");
      expect(plan.result === "planned" && plan.changes.map((c) => c.op)).toEqual(["update-service"]);
      expect(r.kernel.rules()).toEqual(before);
      expect(controller.config.services[0]!.scheduler).toBe("wlc");
    } finally {
      r.tree.remove();
    }
  });

  test("a reload keeps health: a backend that is down stays at weight 0 after an unrelated edit", () => {
    const r = rig([checked({ backends: [{ address: "10.0.0.1" }] }), service({ name: "other", ports: [81] })]);
    try {
      const controller = Controller.start(r.deps);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "healthy", "unhealthy"));
      r.write([checked({ backends: [{ address: "10.0.0.1", weight: 3 }] }), service({ name: "other", ports: [81], scheduler: "rr" })]);
      expect(controller.reload().result).toBe("success");
      expect(r.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      expect(r.health.synced.at(-1)!.targets).toEqual(["web/10.0.0.1:80"]);
    } finally {
      r.tree.remove();
    }
  });

  test("a VIP dropped from the config is cleaned up, then forgotten", () => {
    const r = rig([service({ name: "old", vip: "192.0.2.30" })]);
    try {
      const controller = Controller.start(r.deps);
      expect(r.recorded).toEqual(["192.0.2.30"]);
      r.write([service({ name: "new", vip: "192.0.2.40" })]);
      expect(controller.reload().result).toBe("success");
      expect(r.kernel.rules().some((l) => l.includes("192.0.2.30"))).toBe(false);
      expect(r.recorded).toEqual(["192.0.2.40"]);
    } finally {
      r.tree.remove();
    }
  });

  test("adoption: a backend the kernel had at weight 0 is audited 0→4 when its first probe finds it healthy", () => {
    const kernel = new FakeKernel();
    const first = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }] })], {}, kernel);
    const second = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }] })], {}, kernel);
    try {
      Controller.start(first.deps);
      kernel.execute([{ kind: "set-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destination: { address: "10.0.0.1", port: 80, family: 4, forward: "nat", weight: 0, upperThreshold: 0, lowerThreshold: 0 } }]);
      const restarted = Controller.start(second.deps);
      const dumps = kernel.dumps;
      second.health.states.set("web/10.0.0.1:80", "healthy");
      restarted.onHealthTransition(transition("web", "10.0.0.1:80", "unknown", "healthy"));
      expect(kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 4");
      expect(second.events.ofType("weight-change")).toEqual([{ type: "weight-change", service: "web", backend: "10.0.0.1:80", from: 0, to: 4, reason: "health" }]);
      expect(second.events.kernelChanges().at(-1)).toMatchObject({ op: "update-destination", backend: "10.0.0.1:80", weight: 4, previousWeight: 0, reason: "health" });
      expect(kernel.dumps).toBe(dumps); // the previous weight came from what the daemon knew, not from a read
    } finally {
      first.tree.remove();
      second.tree.remove();
    }
  });

  test("a transition that changes no weight (unknown → healthy) writes nothing and reports nothing", () => {
    const r = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }] })]);
    try {
      const controller = Controller.start(r.deps);
      const log = r.kernel.log.length;
      const reconciles = r.events.ofType("reconcile").length;
      r.health.states.set("web/10.0.0.1:80", "healthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "unknown", "healthy"));
      expect(r.events.ofType("health-transition")).toHaveLength(1); // the transition was handled
      expect(r.kernel.log.length).toBe(log);
      expect(r.events.ofType("reconcile").length).toBe(reconciles);
      expect(r.events.ofType("weight-change")).toEqual([]);
    } finally {
      r.tree.remove();
    }
  });

  test("a refused health update is rolled back and asks for a converge instead of recursing into one", () => {
    const r = rig([checked({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 4 }] })]);
    let requested = 0;
    try {
      const controller = Controller.start({ ...r.deps, requestConverge: () => void requested++ });
      const before = r.kernel.rules();
      const ticks = r.events.ofType("reconcile").length;
      r.kernel.refuse = (op) => (op.kind === "set-destination" && op.service.port === 443 && op.destination.weight === 0 ? "No such destination" : undefined);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "healthy", "unhealthy"));
      expect(r.kernel.rules()).toEqual(before); // the port-80 update was undone
      expect(requested).toBe(1);
      const reconciles = r.events.ofType("reconcile").slice(ticks);
      expect(reconciles).toEqual([expect.objectContaining({ result: "failure", trigger: "health", changes: 0, error: "No such destination" })]);
      expect(r.events.ofType("weight-change")).toEqual([]);
      // The converge the daemon then runs repairs it once the kernel accepts.
      r.kernel.refuse = undefined;
      (r.clock.now += 1000), controller.tick("health");
      expect(r.kernel.rules().filter((l) => l.includes("10.0.0.1") && l.endsWith("-w 0"))).toHaveLength(2);
    } finally {
      r.tree.remove();
    }
  });

  test("a destination deleted behind the daemon's back makes the health path ask for a converge", () => {
    const r = rig([checked({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 4 }] })]);
    let requested = 0;
    try {
      const controller = Controller.start({ ...r.deps, requestConverge: () => void requested++ });
      (r.clock.now += 1000), controller.tick();
      r.kernel.execute([{ kind: "del-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 443 }, destination: { address: "10.0.0.1", port: 443, family: 4 } }]);
      (r.clock.now += 1000), controller.tick(); // the daemon reads the table (and repairs it): it now knows the destination
      r.kernel.execute([{ kind: "del-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 443 }, destination: { address: "10.0.0.1", port: 443, family: 4 } }]);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "healthy", "unhealthy"));
      expect(requested).toBe(1);
    } finally {
      r.tree.remove();
    }
  });

  test("reload plans once: what it returns is what it applied, with the states the new checks start in", () => {
    const r = rig([checked({ backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2" }] })]);
    try {
      const controller = Controller.start(r.deps);
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      controller.onHealthTransition(transition("web", "10.0.0.1:80", "healthy", "unhealthy"));
      expect(r.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      // New check settings: the target starts over as unknown, so it gets its configured weight back until probed.
      r.health.replaced.add("web/10.0.0.1:80");
      r.write([checked({ backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2" }], health: { enabled: true, fail_after: 5 } })]);
      const dumps = r.kernel.dumps;
      const seen = r.events.events.length;
      const result = controller.reload();
      expect(result.result).toBe("success");
      const applied = kernelChangesOf(r.events.events.slice(seen));
      expect(result.result === "success" && result.changes.map((c) => [c.destination, c.before?.weight, c.after?.weight])).toEqual([["10.0.0.1:80", 0, 4]]);
      expect(applied).toEqual([expect.objectContaining({ destination: "10.0.0.1:80", previousWeight: 0, weight: 4, reason: "config" })]);
      expect(r.kernel.dumps - dumps).toBeLessThanOrEqual(1);
      expect(r.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 4");
    } finally {
      r.tree.remove();
    }
  });
});
