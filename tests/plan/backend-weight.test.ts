/** The health path of the planner: one backend's weight on every port, with the true previous weight and an undo. */

import { describe, expect, test } from "bun:test";
import { healthWeight, planBackendWeight } from "../../src/plan/backend-weight.ts";
import { executePlan } from "../../src/plan/execute.ts";
import { reconcile } from "../../src/plan/reconcile.ts";
import { formatServiceKey } from "../../src/ipvs/identity.ts";
import type { WeightOf } from "../../src/plan/desired.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const config = configFrom({}, [
  service({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 4 }, { address: "10.0.0.2", weight: 2 }], health: { enabled: true } }),
]);
const web = config.services[0]!;
const down = (backend: string): WeightOf => (_service, key, weight) => (key === backend ? 0 : weight);

function programmed(): FakeKernel {
  const kernel = new FakeKernel();
  reconcile({ config, client: kernel, managedVips: new Set(["192.0.2.10"]) });
  return kernel;
}

function knownFrom(kernel: FakeKernel) {
  const table = new Map(kernel.dump().map((e) => [formatServiceKey(e.service), e.destinations]));
  return (id: string) => table.get(id);
}

describe("healthWeight: the one health→weight rule", () => {
  test.each([
    [{ checked: true, state: "unhealthy", adopting: false }, 5, 0],
    [{ checked: true, state: "unhealthy", adopting: true }, 5, 0],
    [{ checked: true, state: "healthy", adopting: false }, 5, 5],
    [{ checked: true, state: "unknown", adopting: false }, 5, 5],
    [{ checked: true, state: "unknown", adopting: true }, 5, "kernel"],
    [{ checked: false, state: "unhealthy", adopting: false }, 5, 5],
    [{ checked: true, state: "healthy", adopting: false }, 0, 0],
  ] as const)("%o with configured weight %p gives %p", (health, configured, weight) => {
    expect(healthWeight(health, configured)).toBe(weight);
  });
});

describe("planBackendWeight", () => {
  test("sets the backend's weight on every port, from its previous weight, and nothing else", () => {
    const kernel = programmed();
    const plan = planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: down("10.0.0.1:80"), known: knownFrom(kernel) });
    expect(plan.missing).toBe(0);
    expect(plan.changes.map((c) => [c.op, c.service, c.destination, c.before?.weight, c.after?.weight, c.reason])).toEqual([
      ["update-destination", "tcp:192.0.2.10:80", "10.0.0.1:80", 4, 0, "health"],
      ["update-destination", "tcp:192.0.2.10:443", "10.0.0.1:443", 4, 0, "health"],
    ]);
    expect(executePlan(kernel, plan).ok).toBe(true);
    expect(kernel.rules().filter((l) => l.includes("10.0.0.1"))).toEqual([
      "-a tcp:192.0.2.10:443 -r 10.0.0.1:443 -nat -w 0",
      "-a tcp:192.0.2.10:80 -r 10.0.0.1:80 -nat -w 0",
    ]);
    expect(kernel.rules().filter((l) => l.includes("10.0.0.2")).every((l) => l.endsWith("-w 2"))).toBe(true);
  });

  test("the previous weight is the kernel's, not the configured one: an adopted backend at 0 recovering is 0→4", () => {
    const kernel = programmed();
    const key = { family: 4 as const, protocol: "tcp" as const, address: "192.0.2.10", port: 80 };
    kernel.execute([{ kind: "set-destination", service: key, destination: { address: "10.0.0.1", port: 80, family: 4, forward: "nat", weight: 0, upperThreshold: 0, lowerThreshold: 0 } }]);
    const plan = planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: (_s, _b, w) => w, known: knownFrom(kernel) });
    expect(plan.changes.map((c) => [c.destination, c.before?.weight, c.after?.weight])).toEqual([["10.0.0.1:80", 0, 4]]);
  });

  test("a weight the kernel already has plans nothing; an adopted backend keeps the kernel's weight", () => {
    const kernel = programmed();
    expect(planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: (_s, _b, w) => w, known: knownFrom(kernel) }).changes).toEqual([]);
    expect(planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: () => "kernel", known: knownFrom(kernel) }).changes).toEqual([]);
  });

  test("a destination the kernel lacks is counted as missing, not written blind", () => {
    const kernel = programmed();
    const key = { family: 4 as const, protocol: "tcp" as const, address: "192.0.2.10", port: 443 };
    kernel.execute([{ kind: "del-destination", service: key, destination: { address: "10.0.0.1", port: 443, family: 4 } }]);
    const plan = planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: down("10.0.0.1:80"), known: knownFrom(kernel) });
    expect(plan.missing).toBe(1);
    expect(plan.changes.map((c) => c.destination)).toEqual(["10.0.0.1:80"]);
  });

  test("its undo restores the previous weight: a refusal half-way is rolled back by the executor", () => {
    const kernel = programmed();
    const before = kernel.rules();
    const plan = planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: down("10.0.0.1:80"), known: knownFrom(kernel) });
    kernel.refuse = (op) => (op.kind === "set-destination" && op.service.port === 443 && op.destination.weight === 0 ? "No such destination" : undefined);
    const result = executePlan(kernel, plan);
    expect(result).toMatchObject({ ok: false, rolledBack: true });
    expect(kernel.rules()).toEqual(before);
  });

  test("cold standby: a VIP this node does not hold gets no change", () => {
    const kernel = programmed();
    const plan = planBackendWeight({ config, service: web, backend: "10.0.0.1:80", weightOf: down("10.0.0.1:80"), known: knownFrom(kernel), includeVip: () => false });
    expect(plan).toEqual({ changes: [], missing: 0 });
  });
});
