/**
 * Undo operations are derived from a change only when the kernel refuses a run (plan/undo.ts). For every kind of
 * change the planners make, the derived operations are the ones the planner used to build with each change, and
 * running them after the change puts the table back as it was.
 */

import { describe, expect, test } from "bun:test";
import type { DestinationSpec, IpvsOperation, KernelServiceEntry, TunnelSettings } from "../../src/ipvs/types.ts";
import { planBackendWeight } from "../../src/plan/backend-weight.ts";
import type { Change } from "../../src/plan/changes.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import { planChanges } from "../../src/plan/diff.ts";
import { applyDrain } from "../../src/plan/drain.ts";
import { executePlan } from "../../src/plan/execute.ts";
import { reconcile } from "../../src/plan/reconcile.ts";
import { undoOperations, UndoUnknownError } from "../../src/plan/undo.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const vips = new Set(["192.0.2.10"]);
const isManagedVip = (address: string) => vips.has(address);
const key = (port: number) => ({ family: 4 as const, protocol: "tcp" as const, address: "192.0.2.10", port });
const settings = (address: string, port: number, weight: number, extra: { upperThreshold?: number; tunnel?: TunnelSettings } = {}): DestinationSpec => ({
  address,
  port,
  family: 4,
  forward: "nat",
  weight,
  upperThreshold: extra.upperThreshold ?? 0,
  lowerThreshold: 0,
  ...(extra.tunnel ? { tunnel: extra.tunnel } : {}),
});

/** Port 80: wlc, persistent 300 s, 10.0.0.1 (weight 1) and 10.0.0.2 (weight 3); port 81: rr, 10.0.0.7 weight 4. */
const before = configFrom({}, [
  service({ scheduler: "wlc", persistence: { timeout_seconds: 300 }, backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2", weight: 3 }] }),
  service({ name: "old", ports: [81], scheduler: "rr", backends: [{ address: "10.0.0.7", weight: 4 }] }),
]);
/** Port 80 becomes rr without persistence, 10.0.0.1 weight 9, 10.0.0.2 removed, 10.0.0.3 added; 81 removed; 82 added. */
const after = configFrom({}, [
  service({ scheduler: "rr", backends: [{ address: "10.0.0.1", weight: 9 }, { address: "10.0.0.3" }] }),
  service({ name: "new", ports: [82], backends: [{ address: "10.0.0.5", weight: 2 }] }),
]);

function programmed(): FakeKernel {
  const kernel = new FakeKernel();
  const outcome = reconcile({ client: kernel, config: before, managedVips: vips });
  if (outcome.kind !== "applied") throw new Error(`setting up the table: ${outcome.kind}`);
  return kernel;
}

function find(changes: readonly Change[], op: Change["op"], service: string, destination?: string): Change {
  const found = changes.find((c) => c.op === op && c.service === service && c.destination === destination);
  if (!found) throw new Error(`no ${op} ${service} ${destination ?? ""} in ${changes.map((c) => `${c.op} ${c.service} ${c.destination ?? ""}`).join(", ")}`);
  return found;
}

/** The change alone, then its undo: the table must be back as it was (`first`: changes it needs, made before). */
function roundTrip(kernel: FakeKernel, change: Change, first: readonly Change[] = []): void {
  expect(kernel.execute(first.map((c) => c.operation)).ok).toBe(true);
  const rules = kernel.rules();
  const accepted = kernel.execute([change.operation]);
  expect(accepted.ok).toBe(true);
  expect(kernel.rules()).not.toEqual(rules); // a positive sign the change did something
  expect(kernel.execute(undoOperations(change)).ok).toBe(true);
  expect(kernel.rules()).toEqual(rules);
}

describe("the undo of each kind of change equals the operations the planner used to build", () => {
  const kernel = programmed();
  const dump: KernelServiceEntry[] = kernel.dump();
  const changes = planChanges(desiredServices(after), dump, { isManagedVip }).changes;

  const cases: [Change["op"], string, string | undefined, IpvsOperation[]][] = [
    ["create-service", "tcp:192.0.2.10:82", undefined, [{ kind: "del-service", service: key(82) }]],
    ["create-destination", "tcp:192.0.2.10:82", "10.0.0.5:82", [{ kind: "del-destination", service: key(82), destination: { address: "10.0.0.5", port: 82, family: 4 } }]],
    ["create-destination", "tcp:192.0.2.10:80", "10.0.0.3:80", [{ kind: "del-destination", service: key(80), destination: { address: "10.0.0.3", port: 80, family: 4 } }]],
    [
      "update-service",
      "tcp:192.0.2.10:80",
      undefined,
      [{ kind: "set-service", service: { ...key(80), scheduler: "wlc", flags: 1, timeout: 300, netmask: 0xffffffff, persistenceEngine: "" } }],
    ],
    ["update-destination", "tcp:192.0.2.10:80", "10.0.0.1:80", [{ kind: "set-destination", service: key(80), destination: settings("10.0.0.1", 80, 1) }]],
    ["delete-destination", "tcp:192.0.2.10:80", "10.0.0.2:80", [{ kind: "new-destination", service: key(80), destination: settings("10.0.0.2", 80, 3) }]],
    [
      "delete-service",
      "tcp:192.0.2.10:81",
      undefined,
      [
        { kind: "new-service", service: { ...key(81), scheduler: "rr", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" } },
        { kind: "new-destination", service: key(81), destination: settings("10.0.0.7", 81, 4) },
      ],
    ],
  ];

  test("the plan has every kind of change (a positive sign the cases below are the planner's)", () => {
    expect(new Set(changes.map((c) => c.op))).toEqual(new Set(["create-service", "create-destination", "update-service", "update-destination", "delete-destination", "delete-service"]));
    expect(changes.length).toBe(cases.length);
  });

  for (const [op, serviceId, destination, expected] of cases) {
    test(`${op} ${serviceId} ${destination ?? ""}`, () => {
      const change = find(changes, op, serviceId, destination);
      expect(undoOperations(change)).toEqual(expected);
      // A destination of a new service needs the service first.
      const first = op === "create-destination" && serviceId.endsWith(":82") ? [find(changes, "create-service", serviceId)] : [];
      roundTrip(programmed(), change, first);
    });
  }

  test("a destination keeps its tunnel and thresholds through its undo", () => {
    const table = programmed();
    const current = table.dump();
    const d = current[0]!.destinations[0]!;
    d.upperThreshold = 50;
    d.tunnel = { type: "gue", port: 6080, flags: 0 };
    const change = find(planChanges(desiredServices(after), current, { isManagedVip }).changes, "update-destination", "tcp:192.0.2.10:80", "10.0.0.1:80");
    expect(undoOperations(change)).toEqual([
      { kind: "set-destination", service: key(80), destination: settings("10.0.0.1", 80, 1, { upperThreshold: 50, tunnel: { type: "gue", port: 6080, flags: 0 } }) },
    ]);
  });

  test("a drain by the planner (removal policy) is undone to the destination's weight", () => {
    const drained = planChanges(desiredServices(after), dump, { isManagedVip, removal: () => "drain" }).changes;
    const change = find(drained, "update-destination", "tcp:192.0.2.10:80", "10.0.0.2:80");
    expect(change.reason).toBe("drain");
    expect(undoOperations(change)).toEqual([{ kind: "set-destination", service: key(80), destination: settings("10.0.0.2", 80, 3) }]);
    roundTrip(programmed(), change);
  });
});

describe("the drain pass and the health path derive their undo the same way", () => {
  test("drain.ts: a weight-0 hold and an idle deletion of a removed service's destinations", () => {
    const kernel = programmed();
    const dump = kernel.dump();
    const old = dump.find((e) => e.service.port === 81)!;
    old.destinations[0]!.activeConnections = 5; // holds the service: its destination drains
    const planned = planChanges(desiredServices(after), dump, { isManagedVip });
    const { plan } = applyDrain({ plan: planned, kernel: dump, draining: new Map(), now: 1_000, timeoutMs: 60_000 });
    const hold = find(plan.changes, "update-destination", "tcp:192.0.2.10:81", "10.0.0.7:81");
    expect(undoOperations(hold)).toEqual([{ kind: "set-destination", service: key(81), destination: settings("10.0.0.7", 81, 4) }]);
    roundTrip(programmed(), hold);

    const idle = planChanges(desiredServices(after), kernel.dump(), { isManagedVip });
    const ended = applyDrain({ plan: idle, kernel: kernel.dump(), draining: new Map(), now: 1_000, timeoutMs: 0 }).plan;
    const deletion = find(ended.changes, "delete-destination", "tcp:192.0.2.10:80", "10.0.0.2:80");
    expect(undoOperations(deletion)).toEqual([{ kind: "new-destination", service: key(80), destination: settings("10.0.0.2", 80, 3) }]);
  });

  test("backend-weight.ts: a health update is undone to the weight the kernel had", () => {
    const kernel = programmed();
    const table = new Map(kernel.dump().map((e) => [`tcp:192.0.2.10:${e.service.port}`, e.destinations]));
    const plan = planBackendWeight({
      config: before,
      service: before.services[0]!,
      backend: "10.0.0.2:80",
      weightOf: (_service, backend, weight) => (backend === "10.0.0.2:80" ? 0 : weight),
      known: (id) => table.get(id),
    });
    expect(plan.changes.length).toBe(1);
    expect(undoOperations(plan.changes[0]!)).toEqual([{ kind: "set-destination", service: key(80), destination: settings("10.0.0.2", 80, 3) }]);
    roundTrip(kernel, plan.changes[0]!);
  });
});

describe("rolling back a refused run", () => {
  test("every accepted change is undone, in reverse order, with the derived operations", () => {
    const kernel = programmed();
    const rules = kernel.rules();
    const plan = planChanges(desiredServices(after), kernel.dump(), { isManagedVip });
    // The last change (the deletion of port 81) is refused: everything before it was accepted and must be undone.
    kernel.refuse = (op) => (op.kind === "del-service" && op.service.port === 81 ? "refused by test" : undefined);
    const accepted = kernel.log.length;
    const result = executePlan(kernel, plan);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rolledBack).toBe(true);
    expect(kernel.rules()).toEqual(rules);
    // The undo ran newest first: its first operation undoes the last accepted change (the deletion of 10.0.0.2).
    const undoLog = kernel.log.slice(accepted + plan.changes.length - 1);
    expect(undoLog[0]).toEqual({ kind: "new-destination", service: key(80), destination: settings("10.0.0.2", 80, 3) });
  });

  test("a change that does not say what it replaced is reported as not rolled back, never as undone", () => {
    const kernel = programmed();
    const plan = planChanges(desiredServices(after), kernel.dump(), { isManagedVip });
    const update = find(plan.changes, "update-destination", "tcp:192.0.2.10:80", "10.0.0.1:80");
    delete update.previousDestination;
    expect(() => undoOperations(update)).toThrow(UndoUnknownError);
    kernel.refuse = (op) => (op.kind === "del-service" && op.service.port === 81 ? "refused by test" : undefined);
    const result = executePlan(kernel, plan);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rolledBack).toBe(false);
    expect(result.rollbackError?.message).toContain("cannot undo update-destination tcp:192.0.2.10:80 10.0.0.1:80");
  });
});
