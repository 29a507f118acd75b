/**
 * The whole daemon composed with fakes: a fake kernel, fake signals, a fake control server, the real health monitor
 * with a fake checker, all on a stepped clock. No socket, no timer, no root; the lab runs the real binary.
 */

import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { ConfigError } from "../../src/config/errors.ts";
import type { Config } from "../../src/config/model.ts";
import type { ControlServer } from "../../src/daemon/control-server.ts";
import { createDaemon, type DaemonDeps, type DaemonSignal } from "../../src/daemon/daemon.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { HealthMonitor } from "../../src/health/monitor.ts";
import type { Checker, ProbeResult } from "../../src/health/types.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { BASE_MAIN, merge, service, type Patch } from "../support/load-helpers.ts";
import { FakeClock } from "../health/support/fake-clock.ts";

const INTERVAL = 1000;

class FakeChecker implements Checker {
  readonly type = "tcp" as const;
  readonly down = new Set<string>();
  probe(target: { address: string; port: number }): Promise<ProbeResult> {
    const ok = !this.down.has(`${target.address}:${target.port}`);
    return Promise.resolve(ok ? { ok, reason: "connected", latencyMs: 1 } : { ok, reason: "connection refused", latencyMs: 1 });
  }
}

interface World {
  tree: ConfigTree;
  clock: FakeClock;
  kernel: FakeKernel;
  checker: FakeChecker;
  events: RecordingSink;
  errors: string[];
  notified: string[];
  opened: { ipvs: number; addresses: number; closed: string[] };
  observability: { started: Config[]; reconfigured: Config[]; stopped: number };
  sockets: { path: string; handler: (request: Request) => Response | Promise<Response>; stopped: boolean }[];
  signal(name: DaemonSignal): void;
  handlers: Map<DaemonSignal, Set<() => void>>;
  write(services: Patch[], main?: Patch): void;
  deps: DaemonDeps;
}

function world(services: Patch[], main: Patch = {}): World {
  const tree = configTree();
  const clock = new FakeClock();
  const kernel = new FakeKernel();
  const checker = new FakeChecker();
  const handlers = new Map<DaemonSignal, Set<() => void>>();
  const w: World = {
    tree,
    clock,
    kernel,
    checker,
    events: new RecordingSink(),
    errors: [],
    notified: [],
    opened: { ipvs: 0, addresses: 0, closed: [] },
    observability: { started: [], reconfigured: [], stopped: 0 },
    sockets: [],
    handlers,
    signal: (name) => {
      for (const handler of handlers.get(name) ?? []) handler();
    },
    write(services, main = {}) {
      const settings = merge(merge(BASE_MAIN, { system: { state_dir: tree.path("state") }, daemon: { reconcile_interval_ms: INTERVAL, socket: tree.path("lbctl.sock") } }), main);
      tree.write("config.yaml", stringify(settings));
      tree.write("config.d/s.yaml", stringify({ services }));
    },
    deps: undefined as never,
  };
  w.write(services, main);
  w.deps = {
    sources: [fileSource(tree.main, { env: {} })],
    configFile: tree.main,
    version: "test",
    pid: 4242,
    openIpvs: () => {
      w.opened.ipvs++;
      return { ...bind(kernel), close: () => void w.opened.closed.push("ipvs") };
    },
    openAddresses: () => {
      w.opened.addresses++;
      return { localAddresses: () => new Set(["192.0.2.10"]), close: () => void w.opened.closed.push("addresses") };
    },
    createMonitor: (options) => new HealthMonitor({ ...options, clock, random: () => 0, checkers: (type) => (type === "tcp" ? checker : undefined) }),
    clock,
    observability: {
      sink: w.events,
      logger: { error: (message) => void w.errors.push(message) },
      start: (config) => void w.observability.started.push(config),
      reconfigure: (config) => void w.observability.reconfigured.push(config),
      stop: async () => void w.observability.stopped++,
    },
    serveControl: async (path, handler) => {
      const socket = { path, handler, stopped: false };
      w.sockets.push(socket);
      return { path, stop: () => void (socket.stopped = true) } satisfies ControlServer;
    },
    onSignal: (name, handler) => {
      const set = handlers.get(name) ?? new Set();
      handlers.set(name, set.add(handler));
      return () => void set.delete(handler);
    },
    notify: (state) => void w.notified.push(state),
    vipRecord: { read: () => [], write: () => {} },
  };
  return w;
}

/** The fake kernel's methods bound to it, so the daemon can close its copy without closing the test's. */
function bind(kernel: FakeKernel) {
  return {
    info: () => kernel.info(),
    dump: () => kernel.dump(),
    listServices: () => kernel.listServices(),
    listDestinations: (key: Parameters<FakeKernel["listDestinations"]>[0]) => kernel.listDestinations(key),
    execute: (operations: Parameters<FakeKernel["execute"]>[0]) => kernel.execute(operations),
    getTimeouts: () => kernel.getTimeouts(),
    setTimeouts: (timeouts: Parameters<FakeKernel["setTimeouts"]>[0]) => kernel.setTimeouts(timeouts),
  };
}

async function request(w: World, method: string, path: string): Promise<{ status: number; body: any }> {
  const response = await w.sockets.at(-1)!.handler(new Request(`http://lbctl${path}`, { method }));
  return { status: response.status, body: await response.json() };
}

const checked = { enabled: true, interval_ms: 500, timeout_ms: 200, fail_after: 2, recover_after: 1 };

describe("daemon composition", () => {
  test("a missing main file throws before anything is opened (exit 2); an invalid config likewise (exit 1)", () => {
    const w = world([service({})]);
    try {
      w.tree.remove();
      let thrown: unknown;
      try {
        createDaemon(w.deps);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).code).toBe("unreadable");
      expect((thrown as ConfigError).message).toContain("does not exist");
      const bad = world([service({ scheduler: "nope" })]);
      try {
        createDaemon(bad.deps);
        throw new Error("createDaemon accepted an invalid config");
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe("invalid");
        expect((error as ConfigError).issues[0]).toMatchObject({ file: bad.tree.path("config.d/s.yaml"), path: "services[0].scheduler" });
      } finally {
        bad.tree.remove();
      }
      expect(w.opened).toEqual({ ipvs: 0, addresses: 0, closed: [] });
      expect(w.observability.started).toEqual([]);
    } finally {
      w.tree.remove();
    }
  });

  test("start: programs the kernel, serves the control API, tells systemd it is ready", async () => {
    const w = world([service({ ports: [80, 443] })]);
    try {
      const daemon = createDaemon(w.deps);
      expect(await daemon.ready).toBe("ready");
      expect(w.kernel.rules()).toHaveLength(4);
      expect(w.notified).toEqual(["READY=1\nMAINPID=4242\nSTATUS=Managing 1 VIP(s)"]);
      expect(w.sockets.map((s) => s.path)).toEqual([w.tree.path("lbctl.sock")]);
      expect(await request(w, "GET", "/v1/health")).toEqual({ status: 200, body: { ok: true, pid: 4242, config: w.tree.main } });
      const status = await request(w, "GET", "/v1/status");
      expect(status.body).toMatchObject({ daemon: true, vips: [{ vip: "192.0.2.10", held: true }] });
      expect(status.body.services).toHaveLength(2);
      const [started] = w.events.ofType("daemon-started");
      expect(w.events.ofType("daemon-started")).toEqual([{ type: "daemon-started", node: "lb-a", pid: 4242, version: "test", startup: expect.any(Object) }]);
      // Where the start-up went, step by step, for the daemon_started record (no exec time without the process's start).
      expect(Object.keys(started!.startup!)).toEqual(["config", "observability", "open", "converge", "control"]);
      w.signal("SIGTERM");
      expect(await daemon.exited).toBe(0);
    } finally {
      w.tree.remove();
    }
  });

  test("a metrics port that cannot be bound stops the start before IPVS is opened (exit 1)", async () => {
    const w = world([service({})]);
    try {
      w.deps.observability.start = () => {
        throw new Error("Cannot listen on 127.0.0.1:9100: address in use");
      };
      const daemon = createDaemon(w.deps);
      expect(await daemon.ready).toBe(1);
      expect(await daemon.exited).toBe(1);
      expect(w.opened.ipvs).toBe(0);
      expect(w.errors).toEqual(["Cannot start: Cannot listen on 127.0.0.1:9100: address in use"]);
    } finally {
      w.tree.remove();
    }
  });

  test("a control socket that cannot be served releases what was opened and exits 1, leaving the kernel table", async () => {
    const w = world([service({})]);
    try {
      w.deps.serveControl = async () => {
        throw new Error("Another lbctl daemon answers on the socket: stop it first");
      };
      const daemon = createDaemon(w.deps);
      expect(await daemon.exited).toBe(1);
      expect(w.opened.closed.sort()).toEqual(["addresses", "ipvs"]);
      expect(w.kernel.rules()).toHaveLength(2);
      expect(w.notified).toEqual([]);
    } finally {
      w.tree.remove();
    }
  });

  test("ticks on the injected clock repair drift every interval", async () => {
    const w = world([service({})]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      const before = w.kernel.rules();
      w.kernel.services.clear();
      await w.clock.advance(INTERVAL - 1);
      expect(w.kernel.rules()).toEqual([]);
      expect(w.events.ofType("reconcile").filter((e) => e.trigger === "interval")).toHaveLength(0);
      await w.clock.advance(1);
      expect(w.kernel.rules()).toEqual(before);
      await w.clock.advance(3 * INTERVAL);
      expect(w.events.ofType("reconcile").filter((e) => e.trigger === "interval")).toHaveLength(4);
      w.signal("SIGTERM");
      await daemon.exited;
    } finally {
      w.tree.remove();
    }
  });

  test("bgp: the last healthy backend's verdict withdraws the VIP at once, not at the next reconcile tick", async () => {
    const bgp = { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.254", remote_asn: 65000 }] };
    const w = world([service({ mode: "dr", scheduler: "mh", backends: [{ address: "10.0.0.1" }], health: checked })], { bgp, daemon: { reconcile_interval_ms: 5000 } });
    const announced = new Set<string>();
    const routes = { list: () => [...announced], add: (vip: string) => void announced.add(vip), remove: (vip: string) => void announced.delete(vip), listLocal: () => [], addLocal: () => {}, removeLocal: () => {} };
    try {
      const daemon = createDaemon({ ...w.deps, announcementRoutes: routes });
      await daemon.ready;
      await w.clock.advance(10);
      expect([...announced]).toEqual(["192.0.2.10"]);
      w.checker.down.add("10.0.0.1:80");
      // Probes at 500 and 1000 fail (fail_after 2); the next tick is at 5000.
      await w.clock.advance(990);
      expect(w.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -dr -w 0");
      expect([...announced]).toEqual([]);
      expect(w.events.ofType("bgp-announcement").map((e) => [e.announced, e.reason])).toEqual([
        [true, "serving"],
        [false, "no backend with a weight above 0"],
      ]);
      w.checker.down.clear();
      await w.clock.advance(500);
      expect([...announced]).toEqual(["192.0.2.10"]);
      w.signal("SIGTERM");
      expect([...announced]).toEqual([]); // withdrawn first, then bgp.drain_seconds on the clock
      await w.clock.advance(60_000);
      await daemon.exited;
    } finally {
      w.tree.remove();
    }
  });

  test("health verdicts reach the kernel through the monitor on the same clock, and back", async () => {
    const w = world([service({ backends: [{ address: "10.0.0.1", weight: 3 }, { address: "10.0.0.2" }], health: checked })]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      await w.clock.advance(10);
      expect(w.events.ofType("health-transition").map((e) => e.to)).toEqual(["healthy", "healthy"]);
      w.checker.down.add("10.0.0.1:80");
      await w.clock.advance(1000);
      expect(w.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
      expect(w.events.ofType("weight-change")).toEqual([{ type: "weight-change", service: "web", backend: "10.0.0.1:80", from: 3, to: 0, reason: "health" }]);
      expect((await request(w, "GET", "/v1/status")).body.services[0].destinations[0]).toMatchObject({ health: "unhealthy", weight: 0, configured_weight: 3 });
      w.checker.down.clear();
      await w.clock.advance(500);
      expect(w.kernel.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 3");
      w.signal("SIGTERM");
      await daemon.exited;
    } finally {
      w.tree.remove();
    }
  });

  test("SIGHUPs that arrive together are one reload; its settings take effect (interval, socket, observability)", async () => {
    const w = world([service({})]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      w.write([service({ scheduler: "rr" })], { daemon: { reconcile_interval_ms: 5000, socket: w.tree.path("moved.sock") } });
      w.signal("SIGHUP");
      w.signal("SIGHUP");
      w.signal("SIGHUP");
      await w.clock.advance(0);
      expect(w.events.ofType("config-loaded").filter((e) => !e.startup)).toHaveLength(1);
      expect(w.kernel.rules()).toContain("-A tcp:192.0.2.10:80 -s rr");
      expect(w.observability.reconfigured).toHaveLength(1);
      expect(w.sockets.map((s) => [s.path, s.stopped])).toEqual([
        [w.tree.path("lbctl.sock"), true],
        [w.tree.path("moved.sock"), false],
      ]);
      const ticks = () => w.events.ofType("reconcile").filter((e) => e.trigger === "interval").length;
      await w.clock.advance(4999);
      expect(ticks()).toBe(0);
      await w.clock.advance(1);
      expect(ticks()).toBe(1);
      w.signal("SIGTERM");
      await daemon.exited;
    } finally {
      w.tree.remove();
    }
  });

  test("an invalid config on SIGHUP is refused and the daemon keeps running the old one", async () => {
    const w = world([service({})]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      const before = w.kernel.rules();
      w.tree.write("config.d/s.yaml", "services:\n  - name: web\n    ports: [80]\n    scheduler: bogus\n");
      w.signal("SIGHUP");
      await w.clock.advance(0);
      expect(w.events.ofType("config-refused")).toHaveLength(1);
      expect(w.observability.reconfigured).toEqual([]);
      await w.clock.advance(INTERVAL);
      expect(w.kernel.rules()).toEqual(before);
      w.signal("SIGTERM");
      expect(await daemon.exited).toBe(0);
    } finally {
      w.tree.remove();
    }
  });

  test("SIGTERM stops checks, ticks and listeners, exits 0, and leaves the IPVS rules in place", async () => {
    const w = world([service({ health: checked })]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      await w.clock.advance(10);
      const before = w.kernel.rules();
      w.signal("SIGTERM");
      expect(await daemon.exited).toBe(0);
      expect(w.notified.at(-1)).toBe("STOPPING=1");
      expect(w.events.ofType("daemon-stopping")).toEqual([{ type: "daemon-stopping", node: "lb-a", signal: "SIGTERM" }]);
      expect(w.kernel.rules()).toEqual(before);
      expect(w.opened.closed.sort()).toEqual(["addresses", "ipvs"]);
      expect(w.sockets[0]!.stopped).toBe(true);
      expect(w.observability.stopped).toBe(1);
      expect([...w.handlers.values()].every((set) => set.size === 0)).toBe(true);
      // Nothing runs after the stop: no probe, no tick.
      const seen = w.events.events.length;
      w.kernel.services.clear();
      await w.clock.advance(5 * INTERVAL);
      expect(w.events.events.length).toBe(seen);
      expect(w.clock.pendingTimers).toBe(0);
    } finally {
      w.tree.remove();
    }
  });

  test("a health update the kernel refuses is rolled back, then a converge runs at the next turn", async () => {
    const w = world([service({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 3 }], health: checked })]);
    try {
      const daemon = createDaemon(w.deps);
      await daemon.ready;
      await w.clock.advance(10);
      w.checker.down.add("10.0.0.1:80");
      await w.clock.advance(500); // one failure: still healthy
      await w.clock.advance(489); // probes come at 0, 500, 1000 (no random offset): stop short of the second failure
      const before = w.events.ofType("reconcile").length;
      w.kernel.refuse = (op) => {
        if (op.kind === "set-destination" && op.service.port === 443 && op.destination.weight === 0) {
          w.kernel.refuse = undefined; // refuses once: the converge that follows succeeds
          return "No such destination";
        }
        return undefined;
      };
      await w.clock.advance(1);
      const reconciles = w.events.ofType("reconcile").slice(before).filter((e) => e.trigger !== "interval");
      expect(reconciles.map((e) => [e.trigger, e.result])).toEqual([
        ["health", "failure"],
        ["health", "success"],
      ]);
      expect(w.kernel.rules().filter((l) => l.includes("10.0.0.1") && l.endsWith("-w 0"))).toHaveLength(2);
      w.signal("SIGTERM");
      await daemon.exited;
    } finally {
      w.tree.remove();
    }
  });
});
