/** Graceful drain (plan/drain.ts) through the real planner and reconciler, on the in-memory kernel, with a stepped clock. */

import { describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/model.ts";
import { applyDrain, drainKey, type DrainOutput, type DrainRecord } from "../../src/plan/drain.ts";
import { reconcile } from "../../src/plan/reconcile.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const TIMEOUT = 300_000;
const T0 = Date.UTC(2026, 0, 1);
const two = (protocol = "tcp") => configFrom({}, [service({ protocol, backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })]);
const one = (protocol = "tcp") => configFrom({}, [service({ protocol, backends: [{ address: "10.0.0.1" }] })]);

/** A daemon's view of drains, without the daemon: the records carried from pass to pass, a clock stepped by hand. */
class Drainer {
  draining = new Map<string, DrainRecord>();
  now = T0;
  last: DrainOutput | undefined;
  constructor(
    readonly kernel = new FakeKernel(),
    readonly timeoutMs = TIMEOUT,
  ) {}

  pass(config: Config, options: { limits?: { max_services_deleted: number; max_destinations_deleted: number }; drainable?: (s: string) => boolean } = {}) {
    const outcome = reconcile({
      config,
      client: this.kernel,
      managedVips: new Set(["192.0.2.10"]),
      ...(options.limits ? { limits: options.limits } : {}),
      adjust: (plan, kernel) => {
        this.last = applyDrain({ plan, kernel, draining: this.draining, now: this.now, timeoutMs: this.timeoutMs, ...(options.drainable ? { drainable: options.drainable } : {}) });
        return this.last.plan;
      },
    });
    if (outcome.kind === "applied") this.draining = this.last!.draining;
    return outcome;
  }

  /** Sets the kernel's connection counters of a destination, as traffic would. */
  connections(service: string, destination: string, active: number, inactive = 0): void {
    const d = this.kernel.services.get(service)!.destinations.find((x) => `${x.address}:${x.port}` === destination)!;
    d.activeConnections = active;
    d.inactiveConnections = inactive;
  }
}

const WEB = "tcp:192.0.2.10:80";

describe("drain on removal", () => {
  test("a removed backend with connections goes to weight 0, stays while they last, and is deleted once they end", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 3);
    lb.now += 1000;
    const removal = lb.pass(one());
    expect(removal.kind).toBe("applied");
    expect(removal.plan.changes.map((c) => [c.op, c.destination, c.after?.weight, c.reason])).toEqual([["update-destination", "10.0.0.2:80", 0, "drain"]]);
    expect(lb.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 0`);
    expect(lb.last!.started).toEqual([
      { record: { service: WEB, destination: "10.0.0.2:80", name: "web", startedAt: T0 + 1000, deadline: T0 + 1000 + TIMEOUT, serviceRemoved: false }, connections: 3 },
    ]);

    lb.now += 60_000;
    expect(lb.pass(one()).plan.changes).toEqual([]);
    expect(lb.draining.has(drainKey(WEB, "10.0.0.2:80"))).toBe(true);

    lb.connections(WEB, "10.0.0.2:80", 0);
    const end = lb.pass(one());
    expect(end.plan.changes.map((c) => [c.op, c.destination, c.reason])).toEqual([["delete-destination", "10.0.0.2:80", "drain"]]);
    expect(lb.last!.ended.map((e) => e.reason)).toEqual(["drained"]);
    expect(lb.kernel.rules()).toEqual([`-A ${WEB} -s wlc`, `-a ${WEB} -r 10.0.0.1:80 -nat -w 1`]);
    expect(lb.draining.size).toBe(0);
  });

  test("the timeout deletes a destination that still has connections", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 1);
    lb.pass(one());
    lb.now += TIMEOUT - 1;
    expect(lb.pass(one()).plan.changes).toEqual([]);
    lb.now += 1;
    const end = lb.pass(one());
    expect(end.plan.changes.map((c) => c.op)).toEqual(["delete-destination"]);
    expect(lb.last!.ended).toMatchObject([{ reason: "timeout", connections: 1 }]);
  });

  test("a removed backend without connections is deleted at once: nothing to drain", () => {
    const lb = new Drainer();
    lb.pass(two());
    const removal = lb.pass(one());
    expect(removal.plan.changes.map((c) => [c.op, c.reason])).toEqual([["delete-destination", "config"]]);
    expect(lb.last!.started).toEqual([]);
  });

  test("UDP counts InActConns; TCP only ActiveConns", () => {
    for (const [protocol, kept] of [["udp", true], ["tcp", false]] as const) {
      const lb = new Drainer();
      lb.pass(two(protocol));
      lb.connections(`${protocol}:192.0.2.10:80`, "10.0.0.2:80", 0, 4);
      const removal = lb.pass(one(protocol));
      expect(removal.plan.changes[0]!.op).toBe(kept ? "update-destination" : "delete-destination");
    }
  });

  test("a backend put back while draining gets its weight back and its drain ends", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 2);
    lb.pass(one());
    const back = lb.pass(two());
    expect(back.plan.changes.map((c) => [c.op, c.destination, c.after?.weight])).toEqual([["update-destination", "10.0.0.2:80", 1]]);
    expect(lb.last!.ended.map((e) => e.reason)).toEqual(["restored"]);
    expect(lb.draining.size).toBe(0);
    lb.connections(WEB, "10.0.0.2:80", 0);
    expect(lb.pass(two()).plan.changes).toEqual([]);
  });

  test("a removed service stays while a destination drains; its idle destinations go at once, the service with the last", () => {
    const lb = new Drainer();
    lb.pass(configFrom({}, [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] }), service({ name: "api", ports: [81], backends: [{ address: "10.0.0.3" }] })]));
    lb.connections(WEB, "10.0.0.1:80", 5);
    const apiOnly = configFrom({}, [service({ name: "api", ports: [81], backends: [{ address: "10.0.0.3" }] })]);
    const removal = lb.pass(apiOnly);
    expect(removal.plan.changes.map((c) => [c.op, c.destination])).toEqual([
      ["update-destination", "10.0.0.1:80"],
      ["delete-destination", "10.0.0.2:80"],
    ]);
    expect(lb.kernel.rules()).toContain(`-A ${WEB} -s wlc`);
    expect(lb.kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.1:80 -nat -w 0`);
    lb.connections(WEB, "10.0.0.1:80", 0);
    const end = lb.pass(apiOnly);
    expect(end.plan.changes.map((c) => [c.op, c.reason])).toEqual([["delete-service", "drain"]]);
    expect(lb.last!.ended).toMatchObject([{ reason: "drained", record: { serviceRemoved: true } }]);
    expect(lb.kernel.rules().some((r) => r.includes(":80 "))).toBe(false);
  });

  test("change limits count a removal once: when it starts, never when the drain ends", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 1);
    expect(lb.pass(one(), { limits: { max_services_deleted: 0, max_destinations_deleted: 0 } })).toMatchObject({ kind: "limit", limit: { name: "max_destinations_deleted", planned: 1 } });
    expect(lb.pass(one(), { limits: { max_services_deleted: 0, max_destinations_deleted: 1 } }).kind).toBe("applied");
    // Later reloads with limit 0, during the drain and at its end, are not refused: the removal was counted.
    expect(lb.pass(one(), { limits: { max_services_deleted: 0, max_destinations_deleted: 0 } }).kind).toBe("applied");
    lb.connections(WEB, "10.0.0.2:80", 0);
    const end = lb.pass(one(), { limits: { max_services_deleted: 0, max_destinations_deleted: 0 } });
    expect(end.kind).toBe("applied");
    expect(end.plan.changes.map((c) => c.op)).toEqual(["delete-destination"]);
  });

  test("timeout 0 deletes at once and ends drains in progress; so does a service that may not drain", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 1);
    lb.pass(one());
    expect(lb.draining.size).toBe(1);
    const off = new Drainer(lb.kernel, 0);
    off.draining = lb.draining;
    const now = off.pass(one());
    expect(now.plan.changes.map((c) => c.op)).toEqual(["delete-destination"]);
    expect(off.last!.ended.map((e) => e.reason)).toEqual(["timeout"]);

    const gated = new Drainer();
    gated.pass(two());
    gated.connections(WEB, "10.0.0.2:80", 1);
    expect(gated.pass(one(), { drainable: () => false }).plan.changes.map((c) => c.op)).toEqual(["delete-destination"]);
  });

  test("weight drift on a draining destination is set back to 0; one deleted by someone else ends as gone", () => {
    const lb = new Drainer();
    lb.pass(two());
    lb.connections(WEB, "10.0.0.2:80", 1);
    lb.pass(one());
    lb.kernel.services.get(WEB)!.destinations.find((d) => d.address === "10.0.0.2")!.weight = 7;
    expect(lb.pass(one()).plan.changes.map((c) => [c.op, c.after?.weight])).toEqual([["update-destination", 0]]);
    const entry = lb.kernel.services.get(WEB)!;
    entry.destinations = entry.destinations.filter((d) => d.address !== "10.0.0.2");
    lb.pass(one());
    expect(lb.last!.ended.map((e) => e.reason)).toEqual(["gone"]);
  });
});
