/**
 * The plan for a table holding none of the managed services (plan/fresh-table.ts): its operations come first and
 * its change records only when read. The oracle is the general planner, made to take its other path by one
 * managed service the config dropped: the same creations, in the same order, then that deletion.
 */

import { describe, expect, test } from "bun:test";
import type { IpvsOperation, KernelServiceEntry } from "../../src/ipvs/types.ts";
import { countDeletions, destinationSettings, planOperations, serviceKeyOf, serviceSettings, type Change } from "../../src/plan/changes.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import { planChanges } from "../../src/plan/diff.ts";
import { executePlan } from "../../src/plan/execute.ts";
import { FakeKernel, foreignService } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";
import { checkProperty } from "../support/seeded-random.ts";

const VIP = "192.0.2.10";
const isManagedVip = (address: string) => address === VIP;

/** A managed service no config here has (port 1): the general planner deletes it after its creations. */
const dropped: KernelServiceEntry = { service: foreignService(VIP, 1), destinations: [] };

function configOf(services: Record<string, unknown>[], main: Record<string, unknown> = {}) {
  return configFrom(main, services);
}

describe("the plan for a table without the managed services", () => {
  test("its operations are ready; its change records are built once, when first read", () => {
    const desired = desiredServices(configOf([service({ ports: ["80-81"], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2", port: 8080 }] })]));
    const plan = planChanges(desired, [], { isManagedVip, reason: "drift" });
    expect(plan.onlyCreations).toBe(true);
    expect(plan.operations!.map((o) => o.kind)).toEqual(["new-service", "new-service", "new-destination", "new-destination", "new-destination", "new-destination"]);
    const first = plan.changes;
    expect(plan.changes).toBe(first);
    first.forEach((change, index) => expect(change.operation).toBe(plan.operations![index]!));
    // The operations carry the desired objects, uncopied; the records' `after` holds the settings alone.
    expect((plan.operations![2] as { destination: object }).destination).toBe(desired[0]!.destinations[0]!);
    expect(first[2]!.after).toEqual({ address: "10.0.0.1", port: 80, family: 4, forward: "nat", weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    expect(first[0]!.after).toEqual({ family: 4, protocol: "tcp", address: VIP, port: 80, scheduler: "wlc", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" });
    expect(first.map((c) => [c.op, c.service, c.destination, c.reason])).toEqual([
      ["create-service", "tcp:192.0.2.10:80", undefined, "drift"],
      ["create-service", "tcp:192.0.2.10:81", undefined, "drift"],
      ["create-destination", "tcp:192.0.2.10:80", "10.0.0.1:80", "drift"],
      ["create-destination", "tcp:192.0.2.10:80", "10.0.0.2:8080", "drift"],
      ["create-destination", "tcp:192.0.2.10:81", "10.0.0.1:81", "drift"],
      ["create-destination", "tcp:192.0.2.10:81", "10.0.0.2:8080", "drift"],
    ]);
    expect(countDeletions(plan)).toEqual({ services: 0, destinations: 0 });
  });

  test("a service with flag bits lbctl does not manage (a hand-edited snapshot) is sent them masked", () => {
    const [plain] = desiredServices(configOf([service({ ports: [80], persistence: { timeout_seconds: 60 } })]));
    const odd = { ...plain!, flags: plain!.flags | 0x40 };
    const [operation] = planChanges([odd], [], { isManagedVip }).operations!;
    expect(operation).toMatchObject({ kind: "new-service", service: { flags: 1 } });
    // The usual service is sent as it is, uncopied.
    expect((planChanges([plain!], [], { isManagedVip }).operations![0] as { service: object }).service).toBe(plain!);
  });

  test("a table with only foreign services (another address, a fwmark) gets it too", () => {
    const desired = desiredServices(configOf([service({ ports: [80] })]));
    const foreign: KernelServiceEntry[] = [{ service: foreignService("198.51.100.1", 80), destinations: [] }];
    expect(planChanges(desired, foreign, { isManagedVip }).onlyCreations).toBe(true);
    expect(planChanges(desired, [dropped], { isManagedVip }).onlyCreations).toBeUndefined();
  });

  test("run by the executor without its records being read; the kernel gets every operation in order", () => {
    const desired = desiredServices(configOf([service({ ports: [80, 443], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })]));
    const plan = planChanges(desired, [], { isManagedVip });
    let built = false;
    const watched = {
      operations: plan.operations,
      onlyCreations: true,
      get changes() {
        built = true;
        return plan.changes;
      },
    };
    const kernel = new FakeKernel();
    expect(executePlan(kernel, watched)).toEqual({ ok: true });
    expect(kernel.rules()).toHaveLength(6);
    expect(built).toBe(false);
  });

  test("a refused operation still rolls back: the records are built then, and the table is as before", () => {
    const desired = desiredServices(configOf([service({ ports: [80, 443], backends: [{ address: "10.0.0.1" }] })]));
    const plan = planChanges(desired, [], { isManagedVip });
    const kernel = new FakeKernel();
    kernel.refuse = (operation) => (operation.kind === "new-destination" && operation.service.port === 443 ? "refused in the test" : undefined);
    const result = executePlan(kernel, plan);
    expect(result).toMatchObject({ ok: false, rolledBack: true, failed: { op: "create-destination", service: "tcp:192.0.2.10:443" } });
    expect(kernel.rules()).toEqual([]);
  });

  test("property: the same creations, records and order as the general planner (random configs)", () => {
    checkProperty(
      {
        runs: 300,
        generate: (random) => {
          const services = Array.from({ length: 1 + random.below(4) }, (_, s) => {
            const first = 1000 + s * 100;
            const ports = random.chance(0.5) ? [first] : [`${first}-${first + random.below(5)}`];
            const backends = Array.from({ length: 1 + random.below(4) }, (_, b) => ({
              address: random.chance(0.2) ? `2001:db8::${b + 1}` : `10.0.${s}.${b + 1}`,
              ...(random.chance(0.3) ? { port: 8000 + b } : {}),
              weight: random.below(5),
            }));
            const v6 = backends.some((b) => b.address.includes(":"));
            return service({
              name: `svc${s}`,
              ports,
              ...(v6 ? { vip: `2001:db8:ffff::${s + 1}`, backends: backends.map((b, i) => ({ ...b, address: `2001:db8::${i + 1}` })) } : { backends }),
              ...(random.chance(0.3) ? { persistence: { timeout_seconds: 60 } } : {}),
              ...(random.chance(0.3) ? { scheduler: "rr" } : {}),
              ...(random.chance(0.3) ? { protocol: "udp" } : {}),
            });
          });
          return { services, reason: random.pick(["config", "drift"] as const) };
        },
        show: (input) => JSON.stringify(input),
      },
      ({ services, reason }) => {
        const desired = desiredServices(configOf(services));
        const managed = (address: string) => address === VIP || address.startsWith("2001:db8:ffff::");
        const fresh = planChanges(desired, [], { isManagedVip: managed, reason });
        const general = planChanges(desired, [dropped], { isManagedVip: managed, reason });
        expect(general.changes.at(-1)!.op).toBe("delete-service");
        // The operations compared by what the kernel is sent: the settings (the fresh plan's carry the desired objects).
        const sent = (operation: IpvsOperation) =>
          operation.kind === "new-service"
            ? { kind: operation.kind, service: serviceSettings(operation.service) }
            : operation.kind === "new-destination"
              ? { kind: operation.kind, service: serviceKeyOf(operation.service), destination: destinationSettings(operation.destination) }
              : operation;
        const records = (changes: readonly Change[]) => changes.map((change) => ({ ...change, operation: sent(change.operation) }));
        const expected = general.changes.slice(0, -1);
        expect(records(fresh.changes)).toEqual(records(expected));
        expect(fresh.changes.map((c) => c.after)).toEqual(expected.map((c) => c.after));
        expect(planOperations(fresh).map(sent)).toEqual(expected.map((c) => c.operation).map(sent));
      },
    );
  });
});
