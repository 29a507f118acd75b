/**
 * What lbctl relies on from an IPVS client, written once and run against every implementation: the in-memory
 * FakeKernel on the host (tests/ipvs/contract.test.ts) and the netlink client on a real kernel in the lab
 * (tests/lab/ipvs-contract.test.ts). A behaviour the fake gets wrong fails here instead of hiding in the unit tests
 * that use it.
 *
 * Every test opens a client on an empty table of its own (a new FakeKernel, a new network namespace) and releases
 * it at the end. Only the client's own view is used (dump, listServices, listDestinations): the lab adds ipvsadm.
 */

import { describe, expect, test } from "bun:test";
import { NetlinkError } from "../../src/ipvs/errors.ts";
import { formatDestinationKey, formatServiceKey } from "../../src/ipvs/identity.ts";
import { destinationSpec, keyOf, serviceSpec } from "../ipvs/support/fixtures.ts";
import type {
  BatchResult,
  DestinationSpec,
  IpvsClient,
  IpvsOperation,
  IpvsStats,
  KernelServiceEntry,
  ServiceKey,
  ServiceSpec,
} from "../../src/ipvs/types.ts";

export interface ContractClient {
  client: IpvsClient;
  /** Closes the client and drops its table. */
  release(): void;
}

/** Opens a client on a fresh, empty table; `window` is the client's requests per send. */
export type OpenClient = (options: { window?: number }) => ContractClient;

const ZERO: IpvsStats = { connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 0 };

const service = serviceSpec;
const destination = destinationSpec;

const newService = (spec: ServiceSpec): IpvsOperation => ({ kind: "new-service", service: spec });
const newDestination = (spec: ServiceSpec, dest: DestinationSpec): IpvsOperation => ({ kind: "new-destination", service: keyOf(spec), destination: dest });

/** A dump in a fixed order (the kernel lists in hash order), counters included. */
function sorted(entries: KernelServiceEntry[]): KernelServiceEntry[] {
  return entries
    .map((entry) => ({ ...entry, destinations: [...entry.destinations].sort((a, b) => formatDestinationKey(a).localeCompare(formatDestinationKey(b))) }))
    .sort((a, b) => formatServiceKey(a.service).localeCompare(formatServiceKey(b.service)));
}

/** What a dump shows for a service written as `spec`, and its destinations written as `destinations`. */
function expected(spec: ServiceSpec, destinations: DestinationSpec[] = []): KernelServiceEntry {
  return {
    service: { ...spec, fwmark: 0, stats: ZERO },
    destinations: destinations.map((d) => ({ ...d, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0, stats: ZERO })),
  };
}

/** The refusal as the client reports it: a NetlinkError with the errno and the operator's message. */
function expectRefusal(result: BatchResult, failedIndex: number, succeeded: number[], errnoName: string, message: string): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ failedIndex: result.failedIndex, succeeded: [...result.succeeded] }).toEqual({ failedIndex, succeeded });
  expect(result.error).toBeInstanceOf(NetlinkError);
  expect((result.error as NetlinkError).errnoName).toBe(errnoName);
  expect(result.error.message).toBe(message);
}

const WEB = service();
const WEB_ID = formatServiceKey(WEB);

/** Registers the contract's tests for one implementation. */
export function describeIpvsContract(name: string, open: OpenClient): void {
  /** Runs `body` with a client on a fresh table, released afterwards whatever happens. */
  const withClient = (body: (client: IpvsClient) => void, window?: number) => () => {
    const opened = open({ window });
    try {
      body(opened.client);
    } finally {
      opened.release();
    }
  };

  describe(`IPVS client contract: ${name}`, () => {
    test(
      "a fresh table: empty, IPVS 1.x, the kernel's default timeouts",
      withClient((client) => {
        expect(client.dump()).toEqual([]);
        expect(client.listServices()).toEqual([]);
        expect(client.info().version).toMatch(/^1\.\d+\.\d+$/);
        expect(client.info().connectionTableSize).toBeGreaterThan(0);
        expect(client.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
        expect(client.execute([])).toEqual({ ok: true });
      }),
    );

    test(
      "services and destinations of every kind are dumped exactly as written, with zero counters",
      withClient((client) => {
        const persistent = service({ port: 443, scheduler: "wlc", flags: 0x0001, timeout: 600, netmask: 0xffffff00 });
        const udp = service({ protocol: "udp", port: 53 });
        const sctp = service({ protocol: "sctp", port: 3868, scheduler: "sh", flags: 0x0010 });
        const six = service({ family: 6, address: "2001:db8::1", scheduler: "mh", netmask: 128 });
        const nat = destination("10.0.0.10", { weight: 4, upperThreshold: 50, lowerThreshold: 5 });
        const dr = destination("10.0.0.11", { forward: "dr", weight: 0 });
        const ipip = destination("10.0.0.12", { forward: "tun", weight: 2 });
        const gue = destination("10.0.0.13", { forward: "tun", tunnel: { type: "gue", port: 6080, flags: 1 } });
        const v6 = destination("2001:db8::2", { family: 6, port: 80 });
        expect(
          client.execute([
            newService(WEB),
            newDestination(WEB, nat),
            newDestination(WEB, dr),
            newDestination(WEB, ipip),
            newDestination(WEB, gue),
            newService(persistent),
            newService(udp),
            newDestination(udp, destination("10.0.0.10", { port: 53 })),
            newService(sctp),
            newService(six),
            newDestination(six, v6),
          ]),
        ).toEqual({ ok: true });
        expect(sorted(client.dump())).toEqual(
          sorted([
            // A tunnelling destination without settings is IPIP; tunnel settings are reported for tunnels only.
            expected(WEB, [nat, dr, { ...ipip, tunnel: { type: "ipip", port: 0, flags: 0 } }, gue]),
            expected(persistent),
            expected(udp, [destination("10.0.0.10", { port: 53 })]),
            expected(sctp),
            expected(six, [v6]),
          ]),
        );
        expect(client.listServices().map((s) => formatServiceKey(s)).sort()).toEqual([WEB_ID, formatServiceKey(persistent), formatServiceKey(udp), formatServiceKey(sctp), formatServiceKey(six)].sort());
        expect(client.listDestinations(keyOf(udp))).toEqual(expected(udp, [destination("10.0.0.10", { port: 53 })]).destinations);
      }),
    );

    test(
      "set-service and set-destination change in place: destinations and the other settings stay",
      withClient((client) => {
        const tunnel = { type: "gue" as const, port: 6080, flags: 0 };
        expect(client.execute([newService(WEB), newDestination(WEB, destination("10.0.0.10")), newDestination(WEB, destination("10.0.0.11", { forward: "tun", tunnel }))])).toEqual({ ok: true });
        const edited = { ...WEB, scheduler: "wrr", flags: 0x0001, timeout: 300 };
        expect(
          client.execute([
            { kind: "set-service", service: edited },
            { kind: "set-destination", service: keyOf(WEB), destination: destination("10.0.0.10", { forward: "dr", weight: 9, upperThreshold: 100, lowerThreshold: 10 }) },
            // From a tunnel to NAT: the tunnel settings are no longer reported.
            { kind: "set-destination", service: keyOf(WEB), destination: destination("10.0.0.11", { weight: 3 }) },
          ]),
        ).toEqual({ ok: true });
        expect(sorted(client.dump())).toEqual([expected(edited, [destination("10.0.0.10", { forward: "dr", weight: 9, upperThreshold: 100, lowerThreshold: 10 }), destination("10.0.0.11", { weight: 3 })])]);
      }),
    );

    test(
      "deleting a service deletes its destinations: created again, it has none",
      withClient((client) => {
        expect(client.execute([newService(WEB), newDestination(WEB, destination("10.0.0.10")), newDestination(WEB, destination("10.0.0.11"))])).toEqual({ ok: true });
        expect(client.execute([{ kind: "del-destination", service: keyOf(WEB), destination: { family: 4, address: "10.0.0.10", port: 8080 } }])).toEqual({ ok: true });
        expect(client.listDestinations(keyOf(WEB)).map(formatDestinationKey)).toEqual(["10.0.0.11:8080"]);
        expect(client.execute([{ kind: "del-service", service: keyOf(WEB) }, newService(WEB)])).toEqual({ ok: true });
        expect(client.dump()).toEqual([expected(WEB)]);
        // Listing the destinations of a service that does not exist is an empty list, not an error.
        expect(client.listDestinations(keyOf(service({ port: 81 })))).toEqual([]);
      }),
    );

    describe("each refusal, alone in a batch: the error the kernel gives, nothing changed", () => {
      const missingDestination = { family: 4 as const, address: "10.0.0.99", port: 8080 };
      const cases: Array<[string, IpvsOperation, string, string]> = [
        ["a duplicate service", newService(WEB), "EEXIST", `Kernel refused create-service ${WEB_ID}: service already exists`],
        ["a duplicate destination", newDestination(WEB, destination("10.0.0.10", { weight: 5 })), "EEXIST", `Kernel refused create-destination 10.0.0.10:8080 of ${WEB_ID}: destination already exists`],
        ["an update of a missing service", { kind: "set-service", service: service({ port: 81 }) }, "ESRCH", "Kernel refused update-service tcp:192.0.2.10:81: no such service"],
        ["a delete of a missing service", { kind: "del-service", service: keyOf(service({ port: 81 })) }, "ESRCH", "Kernel refused delete-service tcp:192.0.2.10:81: no such service"],
        ["a destination of a missing service", newDestination(service({ port: 81 }), destination("10.0.0.10")), "ESRCH", "Kernel refused create-destination 10.0.0.10:8080 of tcp:192.0.2.10:81: no such service"],
        ["an update of a missing destination", { kind: "set-destination", service: keyOf(WEB), destination: destination("10.0.0.99") }, "ENOENT", `Kernel refused update-destination 10.0.0.99:8080 of ${WEB_ID}: no such destination`],
        ["a delete of a missing destination", { kind: "del-destination", service: keyOf(WEB), destination: missingDestination }, "ENOENT", `Kernel refused delete-destination 10.0.0.99:8080 of ${WEB_ID}: no such destination`],
        ["a scheduler the kernel lacks (twos on Debian 12)", newService(service({ port: 81, scheduler: "twos" })), "ENOENT", "Kernel refused create-service tcp:192.0.2.10:81: scheduler 'twos' is not available: load kernel module ip_vs_twos (this kernel may not ship it)"],
        ["a scheduler change to one the kernel lacks", { kind: "set-service", service: { ...WEB, scheduler: "twos" } }, "ENOENT", `Kernel refused update-service ${WEB_ID}: scheduler 'twos' is not available: load kernel module ip_vs_twos (this kernel may not ship it)`],
        ["an IPv6 service with netmask 0", newService(service({ family: 6, address: "2001:db8::1", netmask: 0 })), "EINVAL", "Kernel refused create-service tcp:[2001:db8::1]:80: the settings are invalid"],
      ];
      for (const [what, operation, errnoName, message] of cases) {
        test(
          what,
          withClient((client) => {
            expect(client.execute([newService(WEB), newDestination(WEB, destination("10.0.0.10"))])).toEqual({ ok: true });
            const before = sorted(client.dump());
            expectRefusal(client.execute([operation]), 0, [], errnoName, message);
            expect(sorted(client.dump())).toEqual(before);
          }),
        );
      }
    });

    test(
      "a refusal mid-batch: the requests after it in the same send are still applied, and reported",
      withClient((client) => {
        const result = client.execute([
          newService(WEB),
          newDestination(service({ port: 81 }), destination("10.0.0.1")),
          newService(service({ port: 82 })),
          newService(WEB), // a second refusal: the first one is reported
          newService(service({ port: 83 })),
        ]);
        expectRefusal(result, 1, [0, 2, 4], "ESRCH", "Kernel refused create-destination 10.0.0.1:8080 of tcp:192.0.2.10:81: no such service");
        expect(client.listServices().map((s) => s.port).sort()).toEqual([80, 82, 83]);
      }),
    );

    test(
      "requests go `window` to a send: after a send with a refusal, nothing more is sent",
      withClient((client) => {
        // Sends of two: [0 1] [2 3] [4 5]. The refusal at 3 ends the batch after its send; 4 and 5 are never sent.
        const ports = [80, 81, 82, 83, 84, 85];
        const operations = ports.map((port) => newService(service({ port })));
        operations[3] = { kind: "del-service", service: keyOf(service({ port: 99 })) };
        expectRefusal(client.execute(operations), 3, [0, 1, 2], "ESRCH", "Kernel refused delete-service tcp:192.0.2.10:99: no such service");
        expect(client.listServices().map((s) => s.port).sort()).toEqual([80, 81, 82]);
        // A refusal first in its send: the request after it in that send is applied.
        const second = client.execute([newService(service({ port: 80 })), newService(service({ port: 90 })), newService(service({ port: 91 }))]);
        expectRefusal(second, 0, [1], "EEXIST", "Kernel refused create-service tcp:192.0.2.10:80: service already exists");
        expect(client.listServices().map((s) => s.port).sort()).toEqual([80, 81, 82, 90]);
      }, 2),
    );

    test(
      "a batch sees its own earlier requests: add, delete and add again; a duplicate within one batch is refused",
      withClient((client) => {
        expect(client.execute([newService(WEB), { kind: "del-service", service: keyOf(WEB) }, newService({ ...WEB, scheduler: "wrr" })])).toEqual({ ok: true });
        expect(client.dump()).toEqual([expected({ ...WEB, scheduler: "wrr" })]);
        const twice = service({ port: 81 });
        expectRefusal(client.execute([newService(twice), newService(twice)]), 1, [0], "EEXIST", "Kernel refused create-service tcp:192.0.2.10:81: service already exists");
        expect(client.listServices()).toHaveLength(2);
      }),
    );

    test(
      "timeouts: set and read back; 0 leaves a timeout unchanged",
      withClient((client) => {
        client.setTimeouts({ tcp: 1000, tcpFin: 100, udp: 200 });
        expect(client.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 200 });
        client.setTimeouts({ tcp: 0, tcpFin: 0, udp: 60 });
        expect(client.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 60 });
      }),
    );
  });
}
