import { describe, expect, test } from "bun:test";
import { createIpvsClient } from "../../src/ipvs/client.ts";
import { decodeServiceMessage } from "../../src/ipvs/codec/replies.ts";
import { NetlinkError } from "../../src/ipvs/errors.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import { type Bytes, ack, attr, be16, done, genl, inet4, inet6, nested, text, u16, u32 } from "./support/bytes.ts";
import { FakeTransport, type SentRequest, eachRequest } from "./support/fake-transport.ts";

const MULTI = 0x2;
const IPVS_CMD_GET_SERVICE = 4;
const IPVS_CMD_GET_DEST = 8;

function service(seq: number, family: 4 | 6, port: number, address: Bytes): Bytes {
  return genl(
    { type: 32, flags: MULTI, seq, pid: 4242 },
    1,
    nested(
      1,
      attr(1, u16(family === 4 ? 2 : 10)),
      attr(2, u16(6)),
      attr(3, address),
      attr(4, be16(port)),
      attr(6, text("rr")),
      attr(7, [...u32(2), ...u32(0xffffffff)]),
      attr(8, u32(0)),
      attr(9, family === 4 ? [255, 255, 255, 255] : u32(128)),
    ),
  );
}

function destination(seq: number, address: Bytes, port: number, weight: number): Bytes {
  // No IPVS_DEST_ATTR_ADDR_FAMILY, as before Linux 3.18: the family must come from the service.
  return genl(
    { type: 32, flags: MULTI, seq, pid: 4242 },
    5,
    nested(2, attr(1, address), attr(2, be16(port)), attr(3, u32(3)), attr(4, u32(weight)), attr(5, u32(0)), attr(6, u32(0)), attr(7, u32(1)), attr(8, u32(2)), attr(9, u32(0))),
  );
}

/** The service a GET_DEST request names, read back with the reply decoder (the request nests the same attributes). */
function requestedService(request: SentRequest) {
  const message = new MessageCursor(request.bytes);
  message.next();
  return decodeServiceMessage(message);
}

/** A kernel with two services, one IPv6, answering dumps in several datagrams as the kernel does. */
function kernel(request: SentRequest): Bytes[][] {
  const seq = request.seq;
  if (request.command === IPVS_CMD_GET_SERVICE) {
    return [
      [done(seq - 1)], // the tail of an abandoned earlier dump: must be skipped
      [service(seq, 4, 80, inet4(192, 0, 2, 10)), service(seq, 6, 443, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))],
      [done(seq)],
    ];
  }
  if (request.command === IPVS_CMD_GET_DEST) {
    const wanted = requestedService(request);
    if (wanted?.port === 80) {
      return [
        [destination(seq, inet4(10, 0, 0, 1), 80, 1), destination(seq, inet4(10, 0, 0, 2), 80, 2)],
        [destination(seq, inet4(10, 0, 0, 3), 80, 3)],
        [done(seq)],
      ];
    }
    return [[destination(seq, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa), 443, 1)], [done(seq)]];
  }
  return [[ack(seq, 95)]];
}

describe("reading the table", () => {
  test("dump lists every service, then each one's destinations across multi-part replies", () => {
    const fake = new FakeTransport(eachRequest(kernel));
    const entries = createIpvsClient(fake).dump();
    expect(entries.map((e) => [e.service.address, e.destinations.map((d) => `${d.address}/${d.family}/${d.weight}`)])).toEqual([
      ["192.0.2.10", ["10.0.0.1/4/1", "10.0.0.2/4/2", "10.0.0.3/4/3"]],
      ["2001:db8::1", ["2001:db8::a/6/1"]],
    ]);
    expect(entries[0]?.destinations[0]).toEqual({
      family: 4,
      address: "10.0.0.1",
      port: 80,
      forward: "dr",
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      activeConnections: 1,
      inactiveConnections: 2,
      persistentConnections: 0,
    });
    expect(fake.requests.map((r) => [r.command, r.flags])).toEqual([
      [IPVS_CMD_GET_SERVICE, 0x301],
      [IPVS_CMD_GET_DEST, 0x301],
      [IPVS_CMD_GET_DEST, 0x301],
    ]);
    expect(fake.queue).toHaveLength(0);
  });

  test("a dump that ends in an error is a NetlinkError naming the listing", () => {
    const fake = new FakeTransport(eachRequest((r) => [[service(r.seq, 4, 80, inet4(192, 0, 2, 10))], [done(r.seq, 16)]]));
    expect(() => createIpvsClient(fake).listServices()).toThrow("Kernel refused list-services: kernel is busy");
  });

  test("listDestinations of a fwmark service identifies it by mark", () => {
    const fake = new FakeTransport(eachRequest((r) => [[done(r.seq)]]));
    const fwmark = { family: 4 as const, protocol: "tcp" as const, address: "", port: 0, fwmark: 7 };
    expect(createIpvsClient(fake).listDestinations(fwmark)).toEqual([]);
    const bytes = [...(fake.requests[0]?.bytes ?? [])];
    expect(bytes.slice(20)).toEqual(nested(1, attr(1, u16(2)), attr(5, u32(7))));
  });
});

describe("single requests", () => {
  test("info, timeouts, zero, flush and the sync daemon", () => {
    const fake = new FakeTransport(
      eachRequest((r) => {
        if (r.command === 15) return [[genl({ type: 32, flags: 0, seq: r.seq }, 14, attr(1, u32(0x010201)), attr(2, u32(4096)))], [ack(r.seq)]];
        if (r.command === 13) return [[genl({ type: 32, flags: 0, seq: r.seq }, 12, attr(4, u32(900)), attr(5, u32(120)), attr(6, u32(300)))], [ack(r.seq)]];
        if (r.command === 11) {
          const daemon = nested(3, attr(1, u32(1)), attr(2, text("eth0")), attr(3, u32(5)));
          return [[genl({ type: 32, flags: MULTI, seq: r.seq }, 9, daemon)], [done(r.seq)]];
        }
        return [[ack(r.seq)]];
      }),
    );
    const client = createIpvsClient(fake);
    expect(fake.familyLookups).toBe(0); // nothing is resolved before the first request
    expect(client.info()).toEqual({ version: "1.2.1", connectionTableSize: 4096 });
    expect(client.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    client.setTimeouts({ tcp: 0, tcpFin: 0, udp: 60 });
    client.zero();
    client.flush();
    client.startSyncDaemon({ state: "master", interface: "eth0", syncId: 5 });
    client.stopSyncDaemon("master");
    expect(client.listSyncDaemons()).toEqual([{ state: "master", interface: "eth0", syncId: 5 }]);
    expect(fake.requests.map((r) => r.command)).toEqual([15, 13, 12, 16, 17, 9, 10, 11]);
    expect(fake.familyLookups).toBe(1);
    client.close();
    expect(fake.closed).toBe(true);
  });

  test("a refused single request throws a NetlinkError with errno and operation", () => {
    const fake = new FakeTransport(eachRequest((r) => [[ack(r.seq, 1)]]));
    const client = createIpvsClient(fake);
    let error: unknown;
    try {
      client.setTimeouts({ tcp: 1, tcpFin: 1, udp: 1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({ code: "E_NETLINK", errno: 1, errnoName: "EPERM", operation: "set-timeouts" });
    expect((error as Error).message).toBe("Kernel refused set-timeouts: need root (CAP_NET_ADMIN)");
  });
});
