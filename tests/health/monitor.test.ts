/** The monitor: probes to states to weights and events, reloads, refusal of unknown check types; fake clock and checker. */

import { describe, expect, test } from "bun:test";
import { CHECK_TYPES } from "../../src/config/schema/health.ts";
import { availableCheckTypes } from "../../src/health/checks/index.ts";
import { UnsupportedCheckError } from "../../src/health/errors.ts";
import { HealthMonitor, type HealthListener } from "../../src/health/monitor.ts";
import { healthTargets } from "../../src/health/targets.ts";
import type { TargetId } from "../../src/health/target-key.ts";
import type { Checker, CheckType, HealthTransition, ProbeEvent, ProbeResult, ProbeTarget } from "../../src/health/types.ts";
import { configFrom, service, type Patch } from "../support/load-helpers.ts";
import { FakeClock } from "./support/fake-clock.ts";

const HEALTH = { enabled: true, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2 };

/** Answers after 5 ms of fake time: up endpoints connect, down ones are refused. */
class FakeChecker implements Checker {
  readonly type: CheckType = "tcp";
  readonly down = new Set<string>();
  probes = 0;
  constructor(private readonly clock: FakeClock) {}
  probe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    this.probes++;
    const down = this.down.has(`${target.address}:${target.port}`);
    return new Promise((resolve) => {
      const onAbort = () => {
        timer.cancel();
        resolve({ ok: false, reason: "cancelled", latencyMs: 0 });
      };
      const timer = this.clock.setTimer(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(down ? { ok: false, reason: "connection refused", latencyMs: 5 } : { ok: true, reason: "connected in 5.0 ms", latencyMs: 5 });
      }, 5);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

const id = (text: string) => text as TargetId;

function setup(services: Patch[] = [service({ backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2", weight: 2 }], health: HEALTH })]) {
  const clock = new FakeClock();
  const checker = new FakeChecker(clock);
  const transitions: HealthTransition[] = [];
  const probes: ProbeEvent[] = [];
  const order: string[] = [];
  const listener: HealthListener = {
    transition: (event) => {
      transitions.push(event);
      order.push(`transition ${event.service}/${event.backend}`);
    },
    probe: (event) => {
      probes.push(event);
      order.push(`probe ${event.target.id}`);
    },
  };
  const monitor = new HealthMonitor({ clock, listener, checkers: (type) => (type === "tcp" ? checker : undefined) });
  const config = configFrom({}, services);
  return { clock, checker, monitor, transitions, probes, order, config, targets: healthTargets(config) };
}

describe("health monitor", () => {
  test("a backend that stops answering goes down after fail_after probes and comes back after recover_after", async () => {
    const { clock, checker, monitor, transitions, targets } = setup();
    const ids = targets.map((t) => t.id);
    monitor.sync(targets, { probeFirst: ids });
    expect(monitor.state(id("web/10.0.0.1:80"))).toEqual({ state: "unknown", consecutiveSuccesses: 0, consecutiveFailures: 0 });
    await clock.advance(10);
    expect(transitions.map((t) => [`${t.service}/${t.backend}`, t.from, t.to])).toEqual([
      ["web/10.0.0.1:80", "unknown", "healthy"],
      ["web/10.0.0.2:80", "unknown", "healthy"],
    ]);

    checker.down.add("10.0.0.1:80");
    await clock.advance(2000);
    expect(monitor.state(id("web/10.0.0.1:80"))).toEqual({ state: "healthy", consecutiveSuccesses: 0, consecutiveFailures: 2 });
    await clock.advance(1000);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unhealthy");
    expect(transitions.at(-1)).toEqual({
      service: "web",
      backend: "10.0.0.1:80",
      from: "healthy",
      to: "unhealthy",
      result: { ok: false, reason: "connection refused", latencyMs: 5 },
    });
    expect(monitor.state(id("web/10.0.0.2:80"))!.state).toBe("healthy");

    checker.down.delete("10.0.0.1:80");
    await clock.advance(1000);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unhealthy");
    await clock.advance(1000);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("healthy");
    expect(transitions.at(-1)).toMatchObject({ from: "unhealthy", to: "healthy", result: { ok: true } });
    expect(transitions.length).toBe(4);
  });

  test("a backend down from the start is drained after its first probe", async () => {
    const { clock, checker, monitor, targets } = setup();
    checker.down.add("10.0.0.2:80");
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(10);
    expect(monitor.state(id("web/10.0.0.2:80"))!.state).toBe("unhealthy");
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("healthy");
  });

  test("every probe is reported with its timing; the transition comes first and rides along", async () => {
    const { clock, monitor, probes, order, targets } = setup();
    monitor.sync(targets.slice(0, 1), { probeFirst: [targets[0]!.id] });
    await clock.advance(1010);
    expect(order).toEqual(["transition web/10.0.0.1:80", "probe web/10.0.0.1:80", "probe web/10.0.0.1:80"]);
    expect(probes[0]).toMatchObject({ scheduledAt: 0, startedAt: 0, finishedAt: 5, health: { state: "healthy" }, transition: { from: "unknown", to: "healthy" } });
    expect(probes[1]).toMatchObject({ scheduledAt: 1000, startedAt: 1000, finishedAt: 1005, transition: undefined });
  });

  test("stateAfterSync: a target keeps its state through a weight edit and starts unknown after a check edit", async () => {
    const { clock, checker, monitor, targets } = setup();
    checker.down.add("10.0.0.1:80");
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(10);
    const reweighted = healthTargets(configFrom({}, [service({ backends: [{ address: "10.0.0.1", weight: 9 }], health: HEALTH })]));
    const rechecked = healthTargets(configFrom({}, [service({ backends: [{ address: "10.0.0.1", weight: 9 }], health: { ...HEALTH, fail_after: 5 } })]));
    const added = healthTargets(configFrom({}, [service({ backends: [{ address: "10.0.0.3" }], health: HEALTH })]));
    expect(monitor.stateAfterSync(reweighted[0]!)).toBe("unhealthy");
    expect(monitor.stateAfterSync(rechecked[0]!)).toBe("unknown");
    expect(monitor.stateAfterSync(added[0]!)).toBe("unknown");
    // What it predicted is what sync does.
    monitor.sync(rechecked);
    expect(monitor.state(rechecked[0]!.id)!.state).toBe("unknown");
  });

  test("a reload that edits weights keeps health state; one that edits the check resets it", async () => {
    const { clock, checker, monitor, targets } = setup();
    checker.down.add("10.0.0.1:80");
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(10);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unhealthy");

    const reweighted = healthTargets(configFrom({}, [service({ backends: [{ address: "10.0.0.1", weight: 9 }, { address: "10.0.0.2", weight: 9 }], health: HEALTH })]));
    expect(monitor.sync(reweighted)).toMatchObject({ kept: ["web/10.0.0.1:80", "web/10.0.0.2:80"], replaced: [] });
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unhealthy");

    const retimed = healthTargets(configFrom({}, [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }], health: { ...HEALTH, interval_ms: 2000 } })]));
    expect(monitor.sync(retimed).replaced).toEqual(["web/10.0.0.1:80", "web/10.0.0.2:80"]);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unknown");
    // A replaced target is probed at once, so a down backend is not served for long.
    await clock.advance(10);
    expect(monitor.state(id("web/10.0.0.1:80"))!.state).toBe("unhealthy");
  });

  test("a removed target is forgotten", async () => {
    const { clock, monitor, targets } = setup();
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(10);
    monitor.sync(targets.slice(1));
    expect(monitor.state(id("web/10.0.0.1:80"))).toBeUndefined();
    expect(monitor.snapshot().map((s): string => s.id)).toEqual(["web/10.0.0.2:80"]);
  });

  test("a check type this build lacks is refused before anything changes", () => {
    const { monitor, targets } = setup();
    monitor.sync(targets);
    const udp = healthTargets(
      configFrom({}, [
        service({ health: HEALTH }),
        service({ name: "dns", protocol: "udp", ports: [53], health: { ...HEALTH, type: "udp_dns", dns_query: "example.org" } }),
        service({ name: "dns2", protocol: "udp", ports: [54], health: { ...HEALTH, type: "udp_dns", dns_query: "example.org" } }),
        service({ name: "echo", protocol: "udp", ports: [7], health: { ...HEALTH, type: "udp_echo" } }),
      ]),
    );
    let error: unknown;
    try {
      monitor.sync(udp);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedCheckError);
    expect((error as UnsupportedCheckError).code).toBe("E_CHECK_UNSUPPORTED");
    expect((error as Error).message).toBe(
      "Health check types not available in this version of lbctl: udp_dns (services dns, dns2); udp_echo (service echo); available: tcp",
    );
    expect(monitor.snapshot().map((s): string => s.id)).toEqual(["web/10.0.0.1:80", "web/10.0.0.2:80"]);
  });

  test("the built-in registry runs every check type the config accepts", () => {
    expect(availableCheckTypes()).toEqual([...CHECK_TYPES]);
    const monitor = new HealthMonitor({ clock: new FakeClock() });
    const targets = healthTargets(configFrom({}, [service({ name: "sip", protocol: "udp", ports: [5060], health: { ...HEALTH, type: "udp_sip" } })]));
    expect(monitor.sync(targets).added).toEqual(["sip/10.0.0.1:5060"]);
    return monitor.stop();
  });

  test("snapshot shows state, counters and the last result", async () => {
    const { clock, monitor, targets } = setup();
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(10);
    expect(monitor.snapshot()[0]).toEqual({
      id: id("web/10.0.0.1:80"),
      service: "web",
      backend: "10.0.0.1:80",
      address: "10.0.0.1",
      port: 80,
      type: "tcp",
      state: "healthy",
      consecutiveSuccesses: 1,
      consecutiveFailures: 0,
      lastResult: { ok: true, reason: "connected in 5.0 ms", latencyMs: 5 },
      lastProbeAt: 5,
    });
  });

  test("a listener that throws does not stop checks", async () => {
    const clock = new FakeClock();
    const checker = new FakeChecker(clock);
    const errors: unknown[] = [];
    const monitor = new HealthMonitor({
      clock,
      checkers: () => checker,
      listener: {
        probe: () => {
          throw new Error("metrics bug");
        },
      },
      onListenerError: (error) => errors.push(error),
    });
    const targets = healthTargets(configFrom({}, [service({ health: HEALTH })]));
    monitor.sync(targets, { probeFirst: [targets[0]!.id] });
    await clock.advance(3010);
    expect(checker.probes).toBe(4);
    expect(errors.length).toBe(4);
    expect(monitor.state(targets[0]!.id)!.consecutiveSuccesses).toBe(4);
  });

  test("stop ends the checks; states stay readable", async () => {
    const { clock, checker, monitor, targets } = setup();
    monitor.sync(targets, { probeFirst: targets.map((t) => t.id) });
    await clock.advance(2);
    await monitor.stop();
    await clock.advance(5000);
    expect(checker.probes).toBe(2);
    expect(monitor.state(targets[0]!.id)!.state).toBe("unknown");
    expect(monitor.stats()).toMatchObject({ targets: 0, inFlight: 0 });
  });
});

describe("health monitor on real sockets and time", () => {
  test("a backend whose listener stops is marked down, and up again when it listens", async () => {
    const open = () => Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {}, open() {}, close() {}, error() {} } });
    let server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {}, close() {}, error() {} } });
    const port = server.port;
    const transitions: HealthTransition[] = [];
    const monitor = new HealthMonitor({ listener: { transition: (event) => transitions.push(event) } });
    const targets = healthTargets(
      configFrom({}, [service({ ports: [port], backends: [{ address: "127.0.0.1" }], health: { enabled: true, interval_ms: 100, timeout_ms: 50, fail_after: 2, recover_after: 2 } })]),
    );
    monitor.sync(targets, { probeFirst: [targets[0]!.id] });
    const waitFor = async (state: string) => {
      for (let i = 0; i < 100 && monitor.state(targets[0]!.id)!.state !== state; i++) await Bun.sleep(20);
      return monitor.state(targets[0]!.id)!.state;
    };
    try {
      expect(await waitFor("healthy")).toBe("healthy");
      server.stop(true);
      expect(await waitFor("unhealthy")).toBe("unhealthy");
      expect(transitions.at(-1)!.result.reason).toBe("connection refused");
      server = open();
      expect(await waitFor("healthy")).toBe("healthy");
      expect(transitions.map((t) => t.to)).toEqual(["healthy", "unhealthy", "healthy"]);
    } finally {
      await monitor.stop();
      server.stop(true);
    }
  });
});
