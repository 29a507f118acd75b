/** The daemon's view of the kernel: a TTL cache for reads, and the table as known (last read + accepted writes). */

import { describe, expect, test } from "bun:test";
import { StateCache } from "../../src/daemon/state-cache.ts";
import type { IpvsOperation } from "../../src/ipvs/types.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";

const key = (port: number) => ({ family: 4 as const, protocol: "tcp" as const, address: "192.0.2.10", port });
const service = (port: number) => ({ ...key(port), scheduler: "wlc", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" });
const destination = (address: string, port: number, weight: number) => ({ address, port, family: 4 as const, forward: "nat" as const, weight, upperThreshold: 0, lowerThreshold: 0 });

function setup() {
  const kernel = new FakeKernel();
  const clock = { now: 0 };
  const cache = new StateCache(kernel, () => clock.now, { enabled: true, ttl_ms: 1000 });
  const write = (operations: IpvsOperation[]) => {
    expect(kernel.execute(operations).ok).toBe(true);
    cache.wrote(operations);
  };
  return { kernel, clock, cache, write };
}

describe("state cache", () => {
  test("reads at most once per ttl; a write makes the next get read again", () => {
    const { kernel, clock, cache, write } = setup();
    cache.get();
    cache.get();
    expect(kernel.dumps).toBe(1);
    clock.now += 1000;
    cache.get();
    expect(kernel.dumps).toBe(2);
    write([{ kind: "new-service", service: service(80) }]);
    cache.get();
    expect(kernel.dumps).toBe(3);
  });

  test("known() is the last read plus the writes accepted since, without reading the kernel", () => {
    const { kernel, cache, write } = setup();
    write([{ kind: "new-service", service: service(80) }]); // before any read: nothing known to build on
    cache.get();
    write([
      { kind: "new-destination", service: key(80), destination: destination("10.0.0.1", 80, 4) },
      { kind: "new-destination", service: key(80), destination: destination("10.0.0.2", 80, 2) },
      { kind: "new-service", service: service(443) },
      { kind: "new-destination", service: key(443), destination: destination("10.0.0.1", 443, 4) },
    ]);
    write([
      { kind: "set-destination", service: key(80), destination: destination("10.0.0.1", 80, 0) },
      { kind: "del-destination", service: key(80), destination: { address: "10.0.0.2", port: 80, family: 4 } },
      { kind: "del-service", service: key(443) },
    ]);
    const dumps = kernel.dumps;
    const known = cache.known();
    expect(kernel.dumps).toBe(dumps);
    expect([...known.keys()]).toEqual(["tcp:192.0.2.10:80"]);
    expect(known.get("tcp:192.0.2.10:80")!.destinations.map((d) => [d.address, d.weight])).toEqual([["10.0.0.1", 0]]);
    // The same as the kernel says.
    expect(kernel.dump()[0]!.destinations.map((d) => [d.address, d.weight])).toEqual([["10.0.0.1", 0]]);
  });

  test("after forget() (a rollback that failed) known() reads the kernel", () => {
    const { kernel, cache } = setup();
    cache.get();
    cache.forget();
    const dumps = kernel.dumps;
    cache.known();
    expect(kernel.dumps).toBe(dumps + 1);
  });
});
