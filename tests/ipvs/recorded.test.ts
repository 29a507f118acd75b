/**
 * Replays datagrams recorded from a real Linux 6.1 kernel (fixtures/linux-6.1.ts, programmed by ipvsadm) through the
 * client, so the decoders are checked against the kernel's actual layout and not only against our reading of it.
 */

import { expect, test } from "bun:test";
import { createIpvsClient } from "../../src/ipvs/client.ts";
import { decodeServiceMessage } from "../../src/ipvs/codec/replies.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import * as recorded from "./fixtures/linux-6.1.ts";
import { FakeTransport, type SentRequest } from "./support/fake-transport.ts";

/** The recorded datagrams with every message's sequence number replaced by the request's. */
function replay(datagrams: string[], seq: number): number[][] {
  return datagrams.map((hex) => {
    const bytes = Buffer.from(hex, "hex");
    for (let at = 0; at < bytes.length; at += (bytes.readUInt32LE(at) + 3) & ~3) bytes.writeUInt32LE(seq, at + 8);
    return [...bytes];
  });
}

function recordedKernel(request: SentRequest): number[][][] {
  const answer = (datagrams: string[]) => replay(datagrams, request.seq).map((datagram) => [datagram]);
  switch (request.command) {
    case 4:
      return answer(recorded.getServices);
    case 8: {
      const message = new MessageCursor(request.bytes);
      message.next();
      const service = decodeServiceMessage(message);
      if (service?.fwmark) return answer(recorded.getDestinationsFwmark);
      return answer(service?.family === 6 ? recorded.getDestinationsV6 : recorded.getDestinationsV4);
    }
    case 15:
      return answer(recorded.getInfo);
    case 13:
      return answer(recorded.getConfig);
  }
  throw new Error(`no recording for command ${request.command}`);
}

test("the recorded table decodes to what ipvsadm programmed", () => {
  expect(recorded.ipvsadmSetup).toHaveLength(7);
  const client = createIpvsClient(new FakeTransport((requests) => requests.flatMap(recordedKernel)));
  const entries = client.dump().map(({ service, destinations }) => {
    expect(service.stats).toBeDefined();
    const { stats: _, ...rest } = service;
    const plain = destinations.map(({ stats: __, ...d }) => d).sort((a, b) => a.address.localeCompare(b.address));
    return { service: rest, destinations: plain };
  });
  const byKey = Object.fromEntries(entries.map((e) => [`${e.service.protocol}/${e.service.port}/${e.service.fwmark}`, e]));
  expect(Object.keys(byKey).sort()).toEqual(["tcp/0/42", "tcp/80/0", "udp/53/0"]);
  expect(byKey["tcp/80/0"]).toEqual({
    service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80, fwmark: 0, scheduler: "wrr", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" },
    destinations: [
      { family: 4, address: "10.0.0.10", port: 8080, forward: "nat", weight: 3, upperThreshold: 0, lowerThreshold: 0, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 },
      // ipvsadm, unlike the kernel, replaces the port of a direct-routing or tunnel destination by the service's.
      { family: 4, address: "10.0.0.11", port: 80, forward: "dr", weight: 1, upperThreshold: 100, lowerThreshold: 10, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 },
      {
        family: 4,
        address: "10.0.0.12",
        port: 80,
        forward: "tun",
        weight: 2,
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConnections: 0,
        inactiveConnections: 0,
        persistentConnections: 0,
        tunnel: { type: "gue", port: 6080, flags: 1 },
      },
    ],
  });
  expect(byKey["udp/53/0"]).toEqual({
    service: { family: 6, protocol: "udp", address: "2001:db8::1", port: 53, fwmark: 0, scheduler: "sh", flags: 0x11, timeout: 300, netmask: 64, persistenceEngine: "" },
    destinations: [
      { family: 6, address: "2001:db8::a", port: 53, forward: "nat", weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 },
    ],
  });
  expect(byKey["tcp/0/42"]).toEqual({
    service: { family: 4, protocol: "tcp", address: "", port: 0, fwmark: 42, scheduler: "rr", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" },
    destinations: [],
  });
  expect(client.info()).toEqual({ version: "1.2.1", connectionTableSize: 4096 });
  expect(client.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
});

test("a dump without counters decodes everything else the same, and no stats", () => {
  const transport = () => new FakeTransport((requests) => requests.flatMap(recordedKernel));
  const full = createIpvsClient(transport()).dump();
  const lean = createIpvsClient(transport()).dump({ stats: false });
  expect(full.some((e) => e.service.stats !== undefined && e.destinations.some((d) => d.stats !== undefined))).toBe(true);
  expect(lean.every((e) => e.service.stats === undefined && e.destinations.every((d) => d.stats === undefined))).toBe(true);
  const withoutStats = full.map(({ service: { stats: _, ...service }, destinations }) => ({ service, destinations: destinations.map(({ stats: __, ...d }) => d) }));
  expect(lean).toEqual(withoutStats);
  expect(lean.flatMap((e) => e.destinations)).toHaveLength(full.flatMap((e) => e.destinations).length);
});
