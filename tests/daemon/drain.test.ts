/**
 * The daemon's drains (config daemon.drain) against the in-memory kernel, with stepped clocks and the real
 * state_dir record: a reload starts a drain, ticks end it, a restart resumes it with its deadline.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { stringify } from "yaml";
import { Controller, type ControllerDeps } from "../../src/daemon/controller.ts";
import { daemonStatus } from "../../src/daemon/status.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { drainStateFile, readDrainState, writeDrainState } from "../../src/system/drain-state.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { BASE_MAIN, merge, service, type Patch } from "../support/load-helpers.ts";

const WEB = "tcp:192.0.2.10:80";
const T0 = Date.UTC(2026, 5, 1);
const both = [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })];
const first = [service({ backends: [{ address: "10.0.0.1" }] })];

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function rig(services: Patch[], main: Patch = {}) {
  tree = configTree();
  const t = tree;
  const state = t.path("state");
  const write = (s: Patch[], m: Patch = main) => {
    t.write("config.yaml", stringify(merge(merge(BASE_MAIN, { system: { state_dir: state } }), m)));
    t.write("config.d/s.yaml", stringify({ services: s }));
  };
  write(services);
  const r = {
    kernel: new FakeKernel(),
    events: new RecordingSink(),
    clock: { now: 0, wall: T0 },
    state,
    write,
    deps: undefined as unknown as ControllerDeps,
    start: () => Controller.start(r.deps),
    tick(controller: Controller) {
      r.clock.now += 1000;
      r.clock.wall += 1000;
      return controller.tick();
    },
    connections(destination: string, active: number) {
      r.kernel.services.get(WEB)!.destinations.find((d) => `${d.address}:${d.port}` === destination)!.activeConnections = active;
    },
  };
  r.deps = {
    sources: [fileSource(t.main, { env: {} })],
    ipvs: r.kernel,
    addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
    health: { sync: () => {}, state: () => undefined, stateAfterSync: () => "unknown" },
    events: r.events,
    vipRecord: { read: () => [], write: () => {} },
    now: () => r.clock.now,
    wallClock: () => r.clock.wall,
    drainStore: { read: readDrainState, write: writeDrainState },
  };
  return r;
}

describe("daemon drains", () => {
  test("a reload removing a backend with connections drains it; a tick deletes it once they end", () => {
    const r = rig(both, { daemon: { drain: { timeout_seconds: 60 } } });
    const controller = r.start();
    r.connections("10.0.0.2:80", 2);
    r.write(first);
    const reload = controller.reload();
    expect(reload).toMatchObject({ result: "success", draining: [{ service: WEB, destination: "10.0.0.2:80", activeConnections: 2, deadline: T0 + 60_000 }] });
    expect(r.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 0`);
    expect(r.events.ofType("drain-started")).toMatchObject([{ destination: "10.0.0.2:80", connections: 2, resumed: false, name: "web" }]);
    expect(readDrainState(r.state)).toMatchObject([{ service: WEB, destination: "10.0.0.2:80", deadline: T0 + 60_000 }]);

    // Status shows it with its connections and deadline.
    const status = daemonStatus(controller, { state: () => undefined }, { stats: false });
    expect(status.services[0]!.destinations.find((d) => d.destination === "10.0.0.2:80")).toMatchObject({
      weight: 0,
      draining: { connections: 2, deadline: new Date(T0 + 60_000).toISOString() },
    });

    r.tick(controller);
    expect(r.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 0`);
    expect(r.events.ofType("drain-ended")).toEqual([]);
    r.connections("10.0.0.2:80", 0);
    r.tick(controller);
    expect(r.kernel.rules()).toEqual([`-A ${WEB} -s wlc`, `-a ${WEB} -r 10.0.0.1:80 -nat -w 1`]);
    expect(r.events.ofType("drain-ended")).toMatchObject([{ destination: "10.0.0.2:80", reason: "drained" }]);
    expect(readDrainState(r.state)).toEqual([]);
    expect(r.events.kernelChanges().at(-1)).toMatchObject({ op: "delete-destination", destination: "10.0.0.2:80", reason: "drain" });
  });

  test("a restarted daemon resumes the drain with its deadline, and the deadline deletes it", () => {
    const r = rig(both, { daemon: { drain: { timeout_seconds: 60 } } });
    const before = r.start();
    r.connections("10.0.0.2:80", 1);
    r.write(first);
    before.reload();
    expect(existsSync(drainStateFile(r.state))).toBe(true);

    r.clock.wall += 30_000;
    const after = r.start();
    expect(r.events.ofType("drain-started").at(-1)).toMatchObject({ destination: "10.0.0.2:80", resumed: true, deadline: T0 + 60_000, connections: 1 });
    expect(r.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 0`);
    r.clock.wall = T0 + 60_000 - 1000;
    r.tick(after);
    expect(r.events.ofType("drain-ended")).toMatchObject([{ reason: "timeout", connections: 1 }]);
    expect(r.kernel.rules().some((rule) => rule.includes("10.0.0.2"))).toBe(false);
    expect(JSON.parse(readFileSync(drainStateFile(r.state), "utf8"))).toEqual({ draining: [] });
  });

  test("drain off (enabled: false) deletes at once, as does a destination without connections", () => {
    const r = rig(both, { daemon: { drain: { enabled: false } } });
    const controller = r.start();
    r.connections("10.0.0.2:80", 5);
    r.write(first, { daemon: { drain: { enabled: false } } });
    const reload = controller.reload();
    expect(reload).toMatchObject({ result: "success", draining: [] });
    expect(reload.result === "success" && reload.changes.map((c) => c.op)).toEqual(["delete-destination"]);
    expect(r.events.ofType("drain-started")).toEqual([]);
  });

  test("a reload dry run plans the drain but starts nothing", () => {
    const r = rig(both);
    const controller = r.start();
    r.connections("10.0.0.2:80", 1);
    r.write(first);
    const planned = controller.reload({ dryRun: true });
    expect(planned.result === "planned" && planned.changes.map((c) => [c.op, c.reason, c.after?.weight])).toEqual([["update-destination", "drain", 0]]);
    expect(r.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 1`);
    expect(r.events.ofType("drain-started")).toEqual([]);
    expect(controller.draining()).toEqual([]);
  });

  test("a reload that deletes saves a snapshot of the table before it first; one that deletes nothing, or a dry run, does not", () => {
    const r = rig(first);
    const taken: { rules: string[]; managed: string[] }[] = [];
    r.deps.snapshot = (_config, kernel, managed) => {
      taken.push({ rules: kernel.flatMap((e) => e.destinations.map((d) => `${d.address}:${d.port}`)), managed: [...managed] });
      return `snap-${taken.length}`;
    };
    const controller = r.start();
    r.write(both);
    expect(controller.reload()).toMatchObject({ result: "success" });
    expect(controller.reload()).not.toHaveProperty("snapshot");
    r.write(first);
    expect(controller.reload({ dryRun: true }).result).toBe("planned");
    expect(taken).toEqual([]);
    const removal = controller.reload();
    expect(removal).toMatchObject({ result: "success", snapshot: "snap-1" });
    expect(taken).toEqual([{ rules: ["10.0.0.1:80", "10.0.0.2:80"], managed: ["192.0.2.10"] }]);
    expect(r.kernel.rules().some((rule) => rule.includes("10.0.0.2"))).toBe(false);
  });
});
