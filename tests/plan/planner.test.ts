/** The planner and reconciler against an in-memory kernel; the kernel lab checks the same against the real one. */

import { describe, expect, test } from "bun:test";
import { desiredServices } from "../../src/plan/desired.ts";
import { reconcile, type ReconcileRequest } from "../../src/plan/reconcile.ts";
import { FakeKernel, foreignService } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const managed = (...vips: string[]) => new Set(vips.length ? vips : ["192.0.2.10"]);

function run(request: Omit<ReconcileRequest, "client"> & { client?: FakeKernel }) {
  const client = request.client ?? new FakeKernel();
  return { client, outcome: reconcile({ ...request, client }) };
}

describe("desired state", () => {
  test("expands ports, lists and ranges, with port-0 backends on every port", () => {
    const config = configFrom({}, [service({ ports: [80, "8000-8001"], port_ranges: [{ start: 9000, end: 9000 }], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2", port: 8080, weight: 3 }] })]);
    const desired = desiredServices(config);
    expect(desired.map((s) => s.id)).toEqual(["tcp:192.0.2.10:80", "tcp:192.0.2.10:8000", "tcp:192.0.2.10:8001", "tcp:192.0.2.10:9000"]);
    expect(desired[1]!.destinations.map((d) => [d.id, d.weight, d.backend])).toEqual([
      ["10.0.0.1:8000", 1, "10.0.0.1:80"],
      ["10.0.0.2:8080", 3, "10.0.0.2:8080"],
    ]);
  });

  test("per-service VIP, IPv6, forward method, persistence and the health overlay", () => {
    const config = configFrom({ mode: "dr" }, [
      service({ name: "v6", vip: "2001:db8::10", backends: [{ address: "2001:db8::1" }], mode: "tun", persistence: { timeout_seconds: 60 } }),
      service({ name: "v4", ports: [443] }),
    ]);
    const desired = desiredServices(config, { weightOf: (svc, backend, weight) => (svc.name === "v4" && backend === "10.0.0.1:443" ? 0 : weight) });
    expect(desired[0]).toMatchObject({ id: "tcp:[2001:db8::10]:80", family: 6, flags: 1, timeout: 60, netmask: 128 });
    expect(desired[0]!.destinations[0]).toMatchObject({ id: "[2001:db8::1]:80", forward: "tun" });
    expect(desired[1]!.destinations[0]).toMatchObject({ forward: "dr", weight: 0, configuredWeight: 1 });
  });
});

describe("reconcile", () => {
  test("from an empty table: services first, then their destinations", () => {
    const config = configFrom({}, [service({ ports: [80, 443], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })]);
    const { client, outcome } = run({ config, managedVips: managed() });
    expect(outcome.kind).toBe("applied");
    expect(outcome.plan.changes.map((c) => c.op)).toEqual([
      "create-service",
      "create-service",
      "create-destination",
      "create-destination",
      "create-destination",
      "create-destination",
    ]);
    expect(client.rules()).toEqual([
      "-A tcp:192.0.2.10:443 -s wlc",
      "-A tcp:192.0.2.10:80 -s wlc",
      "-a tcp:192.0.2.10:443 -r 10.0.0.1:443 -nat -w 1",
      "-a tcp:192.0.2.10:443 -r 10.0.0.2:443 -nat -w 1",
      "-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 1",
      "-a tcp:192.0.2.10:80 -r 10.0.0.2:80 -nat -w 1",
    ]);
  });

  test("a second run has nothing to do", () => {
    const config = configFrom({}, [service({ ports: [80, "81-82"], persistence: {}, backends: [{ address: "10.0.0.1" }] })]);
    const { client } = run({ config, managedVips: managed() });
    const again = reconcile({ config, client, managedVips: managed() });
    expect(again.kind).toBe("applied");
    expect(again.plan.changes).toEqual([]);
  });

  test("scheduler, persistence and weight changes happen in place, never delete and recreate", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ scheduler: "rr" })]), managedVips: managed() });
    client.log.length = 0;
    const edited = configFrom({}, [service({ scheduler: "wrr", persistence: { timeout_seconds: 30 }, backends: [{ address: "10.0.0.1", weight: 5 }] })]);
    const { outcome } = run({ client, config: edited, managedVips: managed() });
    expect(outcome.plan.changes.map((c) => [c.op, c.service, c.destination])).toEqual([
      ["update-service", "tcp:192.0.2.10:80", undefined],
      ["update-destination", "tcp:192.0.2.10:80", "10.0.0.1:80"],
    ]);
    expect(client.log.map((op) => op.kind)).toEqual(["set-service", "set-destination"]);
    expect(client.rules()).toContain("-A tcp:192.0.2.10:80 -s wrr -p 30");
  });

  test("removed destinations and services are deleted: destinations before services", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ name: "a", backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] }), service({ name: "b", ports: [81] })]), managedVips: managed() });
    const { outcome } = run({ client, config: configFrom({}, [service({ name: "a", backends: [{ address: "10.0.0.1" }] })]), managedVips: managed() });
    expect(outcome.plan.changes.map((c) => `${c.op} ${c.service} ${c.destination ?? ""}`.trim())).toEqual([
      "delete-destination tcp:192.0.2.10:80 10.0.0.2:80",
      "delete-service tcp:192.0.2.10:81",
    ]);
  });

  test("foreign services (other addresses, fwmark) are never touched; stale ones on a managed VIP are removed", () => {
    const client = new FakeKernel();
    client.addForeign(foreignService("198.51.100.1", 80));
    client.addForeign({ ...foreignService("", 0), fwmark: 7 });
    client.addForeign(foreignService("192.0.2.10", 8080));
    const { outcome } = run({ client, config: configFrom(), managedVips: managed() });
    expect(outcome.plan.changes.filter((c) => c.op === "delete-service").map((c) => c.service)).toEqual(["tcp:192.0.2.10:8080"]);
    expect(client.rules().filter((r) => r.startsWith("-A"))).toEqual(["-A fwmark:7 -s rr", "-A tcp:192.0.2.10:80 -s wlc", "-A tcp:198.51.100.1:80 -s rr"]);
  });

  test("a VIP dropped from the config is cleaned up while it is still managed", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ vip: "192.0.2.50" })]), managedVips: managed("192.0.2.50") });
    const { outcome } = run({ client, config: configFrom({}, [service({ vip: "192.0.2.60" })]), managedVips: managed("192.0.2.50", "192.0.2.60") });
    expect(outcome.plan.changes.map((c) => `${c.op} ${c.service}`)).toContain("delete-service tcp:192.0.2.50:80");
    expect(client.rules().some((r) => r.includes("192.0.2.50"))).toBe(false);
  });

  test("--dry-run plans and changes nothing", () => {
    const client = new FakeKernel();
    const { outcome } = run({ client, config: configFrom(), managedVips: managed(), dryRun: true });
    expect(outcome.kind).toBe("planned");
    expect(outcome.plan.changes).toHaveLength(2);
    expect(client.log).toEqual([]);
  });

  test("change limits count deletions per run, in kernel terms", () => {
    const client = new FakeKernel();
    const backends = Array.from({ length: 5 }, (_, i) => ({ address: `10.0.0.${i + 1}` }));
    run({ client, config: configFrom({}, [service({ ports: ["80-83"], backends })]), managedVips: managed() });
    const fewer = configFrom({}, [service({ ports: ["80-83"], backends: backends.slice(0, 2) })]);
    const limits = { max_services_deleted: 10, max_destinations_deleted: 11 };
    const over = reconcile({ client, config: fewer, managedVips: managed(), limits });
    expect(over.kind).toBe("limit");
    expect(over.kind === "limit" && over.limit).toEqual({ name: "max_destinations_deleted", limit: 11, planned: 12 });
    const atLimit = reconcile({ client, config: fewer, managedVips: managed(), limits: { ...limits, max_destinations_deleted: 12 } });
    expect(atLimit.kind).toBe("applied");
  });

  test("exempt deletions (another source's truth, e.g. the Kubernetes cluster) do not count; the others still do", () => {
    const client = new FakeKernel();
    const backends = Array.from({ length: 5 }, (_, i) => ({ address: `10.0.0.${i + 1}` }));
    run({ client, config: configFrom({}, [service({ ports: ["80-83"], backends })]), managedVips: managed() });
    const fewer = configFrom({}, [service({ ports: ["80-83"], backends: backends.slice(0, 2) })]);
    const limits = { max_services_deleted: 10, max_destinations_deleted: 3 };
    // 12 destination deletions: those of 10.0.0.3 and 10.0.0.4 (8) are exempt, the 4 of 10.0.0.5 count.
    const exemptFromLimits = (change: { destination?: string }) => /^10\.0\.0\.[34]:/.test(change.destination ?? "");
    const over = reconcile({ client, config: fewer, managedVips: managed(), limits, exemptFromLimits, dryRun: true });
    expect(over.kind === "limit" && over.limit).toEqual({ name: "max_destinations_deleted", limit: 3, planned: 4 });
    const within = reconcile({ client, config: fewer, managedVips: managed(), limits: { ...limits, max_destinations_deleted: 4 }, exemptFromLimits });
    expect(within.kind).toBe("applied");
  });

  test("destinations of a deleted service do not count against max_destinations_deleted", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ ports: ["80-82"], backends: Array.from({ length: 30 }, (_, i) => ({ address: `10.0.1.${i + 1}` })) })]), managedVips: managed() });
    const outcome = reconcile({ client, config: configFrom({}, []), managedVips: managed(), limits: { max_services_deleted: 3, max_destinations_deleted: 0 } });
    expect(outcome.kind).toBe("applied");
  });

  test("a refused operation rolls back everything this run did", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })]), managedVips: managed() });
    const before = client.rules();
    const edited = configFrom({}, [
      service({ scheduler: "rr", backends: [{ address: "10.0.0.1", weight: 9 }, { address: "10.0.0.3" }] }),
      service({ name: "new", ports: [81], scheduler: "twos" }),
    ]);
    const { outcome } = run({ client, config: edited, managedVips: managed() });
    expect(outcome.kind).toBe("failed");
    if (outcome.kind !== "failed") return;
    expect(outcome.execution.failed).toMatchObject({ op: "create-service", service: "tcp:192.0.2.10:81" });
    expect(outcome.execution.rolledBack).toBe(true);
    expect(client.rules()).toEqual(before);
  });

  test("a failure in the middle (after deletions started) restores deleted objects too", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ name: "a" }), service({ name: "b", ports: [81], backends: [{ address: "10.0.0.7", weight: 4 }] })]), managedVips: managed() });
    const before = client.rules();
    client.refuse = (op) => (op.kind === "del-service" && op.service.port === 80 ? "refused by test" : undefined);
    const { outcome } = run({ client, config: configFrom({}, [service({ name: "c", ports: [82] })]), managedVips: managed() });
    expect(outcome.kind).toBe("failed");
    client.refuse = undefined;
    expect(client.rules()).toEqual(before);
  });

  test("a drain policy sets weight 0 instead of deleting", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })]), managedVips: managed() });
    const fewer = configFrom({}, [service({ backends: [{ address: "10.0.0.1" }] })]);
    const { outcome } = run({ client, config: fewer, managedVips: managed(), removal: () => "drain" });
    expect(outcome.plan.changes.map((c) => [c.op, c.destination, c.reason, c.after?.weight])).toEqual([["update-destination", "10.0.0.2:80", "drain", 0]]);
    expect(reconcile({ client, config: fewer, managedVips: managed(), removal: () => "drain" }).plan.changes).toEqual([]);
  });

  test("disable removes every service on managed VIPs and nothing else", () => {
    const client = new FakeKernel();
    client.addForeign(foreignService("198.51.100.1", 80));
    run({ client, config: configFrom({}, [service({ name: "a" }), service({ name: "b", vip: "192.0.2.11" })]), managedVips: managed("192.0.2.10", "192.0.2.11") });
    const outcome = reconcile({ client, config: configFrom(), managedVips: managed("192.0.2.10", "192.0.2.11"), removeEverything: true });
    expect(outcome.kind).toBe("applied");
    expect(client.rules()).toEqual(["-A tcp:198.51.100.1:80 -s rr"]);
  });
});

describe("adoption", () => {
  test("a destination whose weight is 'kernel' keeps the kernel's weight; a new one gets the configured weight", () => {
    const client = new FakeKernel();
    run({ client, config: configFrom({}, [service({ backends: [{ address: "10.0.0.1", weight: 5 }] })]), managedVips: managed() });
    client.execute([{ kind: "set-destination", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destination: { address: "10.0.0.1", port: 80, family: 4, forward: "nat", weight: 0, upperThreshold: 0, lowerThreshold: 0 } }]);
    const config = configFrom({}, [service({ backends: [{ address: "10.0.0.1", weight: 5 }, { address: "10.0.0.2", weight: 3 }] })]);
    const outcome = reconcile({ client, config, managedVips: managed(), weightOf: () => "kernel" });
    expect(outcome.plan.changes.map((c) => [c.op, c.destination, c.after?.weight])).toEqual([["create-destination", "10.0.0.2:80", 3]]);
    expect(client.rules()).toContain("-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0");
  });
});
