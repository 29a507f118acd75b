/**
 * Quorum and the sorry server in the daemon's controller against an in-memory kernel: below quorum the sorry server
 * is a destination and the live backends get 0; at quorum it goes; hysteresis holds the state in between; a reload
 * that adds a sorry server to a service already below quorum applies it; status shows it.
 */

import { describe, expect, test } from "bun:test";
import { Controller } from "../../src/daemon/controller.ts";
import { daemonStatus } from "../../src/daemon/status.ts";
import { service, type Patch } from "../support/load-helpers.ts";
import { controllerRig } from "../support/controller-rig.ts";

const BACKENDS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((address) => ({ address, weight: 2 }));

function rig(services: Patch[]) {
  const r = controllerRig(services);
  const rules = () => r.kernel.rules().filter((rule) => rule.startsWith("-a tcp:192.0.2.10:80 "));
  return { ...r, rules };
}

function flip(r: ReturnType<typeof rig>, controller: Controller, address: string, to: "healthy" | "unhealthy") {
  const backend = `${address}:80`;
  const from = r.health.states.get(`web/${backend}`) ?? "unknown";
  r.health.states.set(`web/${backend}`, to);
  controller.onHealthTransition({ service: "web", backend, from, to, result: { ok: to === "healthy", reason: "test", latencyMs: 1 } });
}

describe("quorum and the sorry server in the controller", () => {
  test("below quorum: sorry server in, live backends at 0; back at quorum + hysteresis: sorry server out, weights back", () => {
    const r = rig([service({ backends: BACKENDS, health: { enabled: true }, quorum: 4, quorum_hysteresis: 1, sorry_server: "10.0.0.99:8080" })]);
    try {
      for (const b of BACKENDS) r.health.states.set(`web/${b.address}:80`, "healthy");
      const controller = Controller.start(r.deps);
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 2", "-a tcp:192.0.2.10:80 -r 10.0.0.2:80 -nat -w 2", "-a tcp:192.0.2.10:80 -r 10.0.0.3:80 -nat -w 2"]);
      flip(r, controller, "10.0.0.1", "unhealthy"); // live 4: quorum 4 holds
      expect(r.rules().some((l) => l.includes("10.0.0.99"))).toBe(false);
      flip(r, controller, "10.0.0.2", "unhealthy"); // live 2 < 4 - 1: lost
      expect(r.rules()).toEqual([
        "-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0",
        "-a tcp:192.0.2.10:80 -r 10.0.0.2:80 -nat -w 0",
        "-a tcp:192.0.2.10:80 -r 10.0.0.3:80 -nat -w 0",
        "-a tcp:192.0.2.10:80 -r 10.0.0.99:8080 -nat -w 1",
      ]);
      expect(r.events.ofType("quorum")).toEqual([{ type: "quorum", service: "web", up: false, liveWeight: 2, quorum: 4, hysteresis: 1, sorryServer: "10.0.0.99:8080" }]);
      const sorry = daemonStatus(controller, r.health, { stats: false }).services[0]!.destinations.find((d) => d.destination === "10.0.0.99:8080");
      expect(sorry).toMatchObject({ sorry_server: true, weight: 1, health: "disabled" });
      flip(r, controller, "10.0.0.1", "healthy"); // live 4 < 4 + 1: still lost
      expect(r.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.99:8080 -nat -w 1");
      expect(r.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      // A periodic tick keeps the state (nothing flaps without a health change).
      controller.tick();
      expect(r.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.99:8080 -nat -w 1");
      flip(r, controller, "10.0.0.2", "healthy"); // live 6 ≥ 5: regained
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 2", "-a tcp:192.0.2.10:80 -r 10.0.0.2:80 -nat -w 2", "-a tcp:192.0.2.10:80 -r 10.0.0.3:80 -nat -w 2"]);
      expect(r.events.ofType("quorum").map((e) => e.up)).toEqual([false, true]);
    } finally {
      r.tree.remove();
    }
  });

  test("quorum without a sorry server only reports; a reload adding one to a service below quorum applies it", () => {
    const r = rig([service({ backends: BACKENDS.slice(0, 1), health: { enabled: true }, quorum: 1 })]);
    try {
      r.health.states.set("web/10.0.0.1:80", "unhealthy");
      const controller = Controller.start(r.deps);
      expect(r.events.ofType("quorum").map((e) => [e.up, e.sorryServer])).toEqual([[false, undefined]]);
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0"]);
      r.write([service({ backends: BACKENDS.slice(0, 1), health: { enabled: true }, quorum: 1, sorry_server: "10.0.0.99" })]);
      expect(controller.reload().result).toBe("success");
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0", "-a tcp:192.0.2.10:80 -r 10.0.0.99:80 -nat -w 1"]);
      // Dropping the keys from the config removes the sorry server at that reload.
      r.write([service({ backends: BACKENDS.slice(0, 1), health: { enabled: true } })]);
      expect(controller.reload().result).toBe("success");
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0"]);
    } finally {
      r.tree.remove();
    }
  });

  test("a daemon restarted below quorum keeps the sorry server until its first probes say otherwise", () => {
    const r = rig([service({ backends: BACKENDS.slice(0, 2), health: { enabled: true }, sorry_server: "10.0.0.99" })]);
    try {
      for (const b of BACKENDS.slice(0, 2)) r.health.states.set(`web/${b.address}:80`, "unhealthy");
      Controller.start(r.deps);
      const below = r.rules();
      expect(below).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.99:80 -nat -w 1");
      // A new daemon: health unknown, the backends adopted at the kernel's weight (0).
      r.health.states.clear();
      const restarted = Controller.start(r.deps);
      expect(r.rules()).toEqual(below);
      expect(restarted.sorryActive(restarted.config.services[0]!)).toBe(true);
      // The first probe finds a backend healthy: quorum is back, the sorry server goes.
      flip(r, restarted, "10.0.0.1", "healthy");
      expect(r.rules()).toEqual(["-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 2", "-a tcp:192.0.2.10:80 -r 10.0.0.2:80 -nat -w 0"]);
    } finally {
      r.tree.remove();
    }
  });
});
