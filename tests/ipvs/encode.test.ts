import { describe, expect, test } from "bun:test";
import type { RequestHeader } from "../../src/ipvs/codec/requests.ts";
import {
  encodeDelDaemon,
  encodeFlush,
  encodeGetConfig,
  encodeGetDaemons,
  encodeGetDestinations,
  encodeGetInfo,
  encodeGetServices,
  encodeNewDaemon,
  encodeOperation,
  encodeSetConfig,
  encodeZero,
} from "../../src/ipvs/codec/requests.ts";
import { HOST_LITTLE_ENDIAN } from "../../src/ipvs/netlink/constants.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import type { DestinationSpec, ServiceKey, ServiceSpec } from "../../src/ipvs/types.ts";
import { attr, be16, be32, genl, inet4, inet6, nested, text, u8, u16, u32 } from "./support/bytes.ts";
import { backend, web, webKey } from "./support/fixtures.ts";

const FAMILY = 32;
const PORT_ID = 1234;
const header = (seq = 1): RequestHeader => ({ family: FAMILY, seq, port: PORT_ID });
const WRITE = 0x05; // NLM_F_REQUEST | NLM_F_ACK: single requests that wait for their acknowledgement
const BATCHED = 0x01; // NLM_F_REQUEST: service/destination writes; the batch acknowledges once per send
const DUMP = 0x301; // NLM_F_REQUEST | NLM_F_DUMP


function encoded(write: (writer: MessageWriter) => void): number[] {
  const writer = new MessageWriter(64);
  write(writer);
  return [...writer.bytes()];
}

/** The IPv4 service key as the kernel expects it inside IPVS_CMD_ATTR_SERVICE. */
const webKeyAttributes = [attr(1, u16(2)), attr(2, u16(6)), attr(3, inet4(192, 0, 2, 10)), attr(4, be16(80))];

test("the host is little-endian, as the hand-written bytes assume", () => {
  expect(HOST_LITTLE_ENDIAN).toBe(true);
});

describe("golden bytes", () => {
  test("NEW_SERVICE tcp:192.0.2.10:80 rr, written out byte by byte", () => {
    // prettier-ignore
    const expected = [
      104, 0, 0, 0, 32, 0, 1, 0, 1, 0, 0, 0, 0xd2, 0x04, 0, 0, // nlmsghdr: len 104, family 32, REQUEST (a batch adds ACK), seq 1, pid 1234
      1, 1, 0, 0, //                                   genlmsghdr: IPVS_CMD_NEW_SERVICE, version 1
      84, 0, 0x01, 0x80, //                            IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, 84 bytes
      6, 0, 1, 0, 2, 0, 0, 0, //                       AF = AF_INET (u16) + 2 bytes padding
      6, 0, 2, 0, 6, 0, 0, 0, //                       PROTOCOL = IPPROTO_TCP
      20, 0, 3, 0, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR: union nf_inet_addr
      6, 0, 4, 0, 0, 80, 0, 0, //                      PORT = 80, network order
      7, 0, 6, 0, 114, 114, 0, 0, //                   SCHED_NAME = "rr\0" + padding
      12, 0, 7, 0, 0, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff, // FLAGS: flags 0, mask ~HASHED
      8, 0, 8, 0, 0, 0, 0, 0, //                       TIMEOUT = 0
      8, 0, 9, 0, 255, 255, 255, 255, //               NETMASK = 255.255.255.255
    ];
    expect(encoded((w) => encodeOperation(w, header(), { kind: "new-service", service: web }))).toEqual(expected);
  });

  test("SET_SERVICE of a persistent IPv6 UDP service with a persistence engine", () => {
    const service: ServiceSpec = {
      family: 6,
      protocol: "udp",
      address: "2001:db8::1",
      port: 5060,
      scheduler: "wlc",
      flags: 0x0001 | 0x0004 | 0x0002, // HASHED is the kernel's and must not be sent
      timeout: 300,
      netmask: 128,
      persistenceEngine: "sip",
    };
    const expected = genl(
      { type: FAMILY, flags: BATCHED, seq: 7, pid: PORT_ID },
      2,
      nested(
        1,
        attr(1, u16(10)),
        attr(2, u16(17)),
        attr(3, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        attr(4, be16(5060)),
        attr(6, text("wlc")),
        attr(7, [...u32(0x0005), ...u32(0xfffffffd)]),
        attr(8, u32(300)),
        attr(9, u32(128)), // an IPv6 netmask is a prefix length in host order
        attr(11, text("sip")),
      ),
    );
    expect(encoded((w) => encodeOperation(w, header(7), { kind: "set-service", service }))).toEqual(expected);
  });

  test("NEW_DEST 10.0.0.10:8080 nat weight 1 in tcp:192.0.2.10:80", () => {
    const expected = genl(
      { type: FAMILY, flags: BATCHED, seq: 2, pid: PORT_ID },
      5,
      nested(1, ...webKeyAttributes),
      nested(
        2,
        attr(1, inet4(10, 0, 0, 10)),
        attr(2, be16(8080)),
        attr(11, u16(2)),
        attr(3, u32(0)),
        attr(4, u32(1)),
        attr(5, u32(0)),
        attr(6, u32(0)),
      ),
    );
    const operation = { kind: "new-destination", service: webKey, destination: backend } as const;
    expect(encoded((w) => encodeOperation(w, header(2), operation))).toEqual(expected);
  });

  test("SET_DEST of a GUE tunnel destination carries the tunnel attributes", () => {
    const destination: DestinationSpec = {
      ...backend,
      forward: "tun",
      weight: 5,
      upperThreshold: 100,
      lowerThreshold: 10,
      tunnel: { type: "gue", port: 6080, flags: 1 },
    };
    const expected = genl(
      { type: FAMILY, flags: BATCHED, seq: 3, pid: PORT_ID },
      6,
      nested(1, ...webKeyAttributes),
      nested(
        2,
        attr(1, inet4(10, 0, 0, 10)),
        attr(2, be16(8080)),
        attr(11, u16(2)),
        attr(3, u32(2)),
        attr(4, u32(5)),
        attr(5, u32(100)),
        attr(6, u32(10)),
        attr(13, u8(1)),
        attr(14, be16(6080)),
        attr(15, u16(1)),
      ),
    );
    const operation = { kind: "set-destination", service: webKey, destination } as const;
    expect(encoded((w) => encodeOperation(w, header(3), operation))).toEqual(expected);
  });

  test("DEL_DEST of an IPv6 destination and DEL_SERVICE", () => {
    const v6Key: ServiceKey = { family: 6, protocol: "tcp", address: "2001:db8::1", port: 443 };
    const v6Service = [attr(1, u16(10)), attr(2, u16(6)), attr(3, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), attr(4, be16(443))];
    const delDest = genl(
      { type: FAMILY, flags: BATCHED, seq: 4, pid: PORT_ID },
      7,
      nested(1, ...v6Service),
      nested(2, attr(1, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)), attr(2, be16(443)), attr(11, u16(10))),
    );
    const delService = genl({ type: FAMILY, flags: BATCHED, seq: 5, pid: PORT_ID }, 3, nested(1, ...v6Service));
    const bytes = encoded((w) => {
      const destination = { family: 6, address: "2001:db8::2", port: 443 } as const;
      encodeOperation(w, header(4), { kind: "del-destination", service: v6Key, destination });
      encodeOperation(w, header(5), { kind: "del-service", service: v6Key });
    });
    expect(bytes).toEqual([...delDest, ...delService]);
  });

  test("dumps: GET_SERVICE, GET_DEST of a service, GET_DEST of a fwmark service, GET_DAEMON", () => {
    expect(encoded((w) => encodeGetServices(w, header(9)))).toEqual(genl({ type: FAMILY, flags: DUMP, seq: 9, pid: PORT_ID }, 4));
    expect(encoded((w) => encodeGetDestinations(w, header(10), webKey))).toEqual(
      genl({ type: FAMILY, flags: DUMP, seq: 10, pid: PORT_ID }, 8, nested(1, ...webKeyAttributes)),
    );
    const fwmark = { ...webKey, address: "", port: 0, fwmark: 42 };
    expect(encoded((w) => encodeGetDestinations(w, header(11), fwmark))).toEqual(
      genl({ type: FAMILY, flags: DUMP, seq: 11, pid: PORT_ID }, 8, nested(1, attr(1, u16(2)), attr(5, u32(42)))),
    );
    expect(encoded((w) => encodeGetDaemons(w, header(12)))).toEqual(genl({ type: FAMILY, flags: DUMP, seq: 12, pid: PORT_ID }, 11));
  });

  test("GET_INFO, GET_CONFIG, SET_CONFIG, ZERO, FLUSH", () => {
    const h = (seq: number) => ({ type: FAMILY, flags: WRITE, seq, pid: PORT_ID });
    expect(encoded((w) => encodeGetInfo(w, header(1)))).toEqual(genl(h(1), 15));
    expect(encoded((w) => encodeGetConfig(w, header(2)))).toEqual(genl(h(2), 13));
    expect(encoded((w) => encodeSetConfig(w, header(3), { tcp: 900, tcpFin: 120, udp: 300 }))).toEqual(
      genl(h(3), 12, attr(4, u32(900)), attr(5, u32(120)), attr(6, u32(300))),
    );
    expect(encoded((w) => encodeZero(w, header(4)))).toEqual(genl(h(4), 16));
    expect(encoded((w) => encodeZero(w, header(5), webKey))).toEqual(genl(h(5), 16, nested(1, ...webKeyAttributes)));
    expect(encoded((w) => encodeFlush(w, header(6)))).toEqual(genl(h(6), 17));
  });

  test("NEW_DAEMON with every optional attribute, DEL_DAEMON", () => {
    const h = (seq: number) => ({ type: FAMILY, flags: WRITE, seq, pid: PORT_ID });
    const settings = { state: "backup", interface: "eth1", syncId: 7, maxLength: 1472, group: "224.0.0.81", port: 8848, ttl: 2 } as const;
    expect(encoded((w) => encodeNewDaemon(w, header(1), settings))).toEqual(
      genl(
        h(1),
        9,
        nested(
          3,
          attr(1, u32(2)),
          attr(2, text("eth1")),
          attr(3, u32(7)),
          attr(4, u16(1472)),
          attr(5, [224, 0, 0, 81]),
          attr(7, be16(8848)),
          attr(8, u8(2)),
        ),
      ),
    );
    const v6 = { state: "master", interface: "eth0", syncId: 0, group: "ff02::12" } as const;
    expect(encoded((w) => encodeNewDaemon(w, header(2), v6))).toEqual(
      genl(h(2), 9, nested(3, attr(1, u32(1)), attr(2, text("eth0")), attr(3, u32(0)), attr(6, inet6(0xff02, 0, 0, 0, 0, 0, 0, 0x12)))),
    );
    expect(encoded((w) => encodeDelDaemon(w, header(3), "master"))).toEqual(genl(h(3), 10, nested(3, attr(1, u32(1)))));
  });

  test("be32 for the IPv4 netmask: /24 is ff ff ff 00 on the wire", () => {
    const bytes = encoded((w) => encodeOperation(w, header(), { kind: "new-service", service: { ...web, netmask: 0xffffff00 } }));
    expect(bytes.slice(-4)).toEqual(be32(0xffffff00));
    expect(bytes.slice(-4)).toEqual([255, 255, 255, 0]);
  });
});
