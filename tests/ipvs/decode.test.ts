import { describe, expect, test } from "bun:test";
import {
  decodeDaemonMessage,
  decodeDestinationMessage,
  decodeInfoMessage,
  decodeServiceMessage,
  decodeTimeoutsMessage,
} from "../../src/ipvs/codec/replies.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import type { Family } from "../../src/ipvs/types.ts";
import { type Bytes, attr, be16, datagram, genl, inet4, inet6, nested, text, u8, u16, u32, u64 } from "./support/bytes.ts";

const MULTI = 0x2;
const PAD = (type: number) => attr(type, []); // what nla_put_u64_64bit inserts before a misaligned u64

function only(...messages: Bytes[]): MessageCursor {
  const cursor = new MessageCursor(datagram(...messages));
  expect(cursor.next()).toBe(true);
  return cursor;
}

/** IPVS_SVC_ATTR_STATS as Linux 6.1 fills it: u32 counters, u64 byte counts, u32 rates. */
const stats32 = nested(
  10,
  attr(1, u32(1)),
  attr(2, u32(2)),
  attr(3, u32(3)),
  PAD(11),
  attr(4, u64(4)),
  attr(5, u64(5)),
  attr(6, u32(6)),
  attr(7, u32(7)),
  attr(8, u32(8)),
  attr(9, u32(9)),
  attr(10, u32(10)),
);
/** IPVS_SVC_ATTR_STATS64: every counter u64, a pad first, and a counter this code does not know (type 12). */
const stats64 = nested(
  12,
  PAD(11),
  attr(1, u64(5_000_000_000)),
  attr(2, u64(2 ** 40)),
  attr(3, u64(3)),
  attr(4, u64(2 ** 52 + 1)),
  attr(5, u64(5)),
  attr(6, u64(6)),
  attr(7, u64(7)),
  attr(8, u64(8)),
  attr(9, u64(9)),
  attr(10, u64(10)),
  attr(12, u64(99)),
);

function serviceReply(...attributes: Bytes[]): Bytes {
  return genl({ type: 32, flags: MULTI, seq: 1, pid: 4242 }, 1, nested(1, ...attributes), attr(77, u32(1)));
}

describe("services", () => {
  test("a kernel-shaped IPv4 service with both stats nests, padding and unknown attributes", () => {
    const reply = serviceReply(
      attr(1, u16(2)),
      attr(2, u16(6)),
      attr(3, inet4(192, 0, 2, 10)),
      attr(4, be16(80)),
      attr(6, text("wrr")),
      attr(7, [...u32(0x0003), ...u32(0xffffffff)]), // persistent | hashed
      attr(8, u32(300)),
      attr(9, [255, 255, 255, 0]),
      stats32,
      attr(40, text("from a future kernel")),
      attr(41 | 0x4000, u32(7)), // NLA_F_NET_BYTEORDER set on an unknown attribute
      stats64,
    );
    expect(decodeServiceMessage(only(reply))).toEqual({
      family: 4,
      protocol: "tcp",
      address: "192.0.2.10",
      port: 80,
      fwmark: 0,
      scheduler: "wrr",
      flags: 0x0001,
      timeout: 300,
      netmask: 0xffffff00,
      persistenceEngine: "",
      stats: {
        connections: 5_000_000_000,
        packetsIn: 2 ** 40,
        packetsOut: 3,
        bytesIn: 2 ** 52 + 1,
        bytesOut: 5,
        cps: 6,
        ppsIn: 7,
        ppsOut: 8,
        bpsIn: 9,
        bpsOut: 10,
      },
    });
  });

  test("a kernel without STATS64 yields the 32-bit counters", () => {
    const reply = serviceReply(
      attr(1, u16(2)),
      attr(2, u16(17)),
      attr(3, inet4(192, 0, 2, 53)),
      attr(4, be16(53)),
      attr(6, text("rr")),
      attr(7, [...u32(2), ...u32(0xffffffff)]),
      attr(8, u32(0)),
      attr(9, u32(0xffffffff)),
      stats32,
    );
    const service = decodeServiceMessage(only(reply));
    expect(service?.protocol).toBe("udp");
    expect(service?.stats).toEqual({
      connections: 1,
      packetsIn: 2,
      packetsOut: 3,
      bytesIn: 4,
      bytesOut: 5,
      cps: 6,
      ppsIn: 7,
      ppsOut: 8,
      bpsIn: 9,
      bpsOut: 10,
    });
    expect(service?.flags).toBe(0);
  });

  test("an IPv6 service: canonical address, prefix-length netmask in host order, persistence engine", () => {
    const reply = serviceReply(
      attr(1, u16(10)),
      attr(2, u16(132)),
      attr(3, inet6(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0x0001)),
      attr(4, be16(3868)),
      attr(6, text("mh")),
      attr(11, text("sip")),
      attr(7, [...u32(0x0019), ...u32(0xffffffff)]),
      attr(8, u32(60)),
      attr(9, u32(64)),
    );
    expect(decodeServiceMessage(only(reply))).toEqual({
      family: 6,
      protocol: "sctp",
      address: "2001:db8::1",
      port: 3868,
      fwmark: 0,
      scheduler: "mh",
      flags: 0x0019,
      timeout: 60,
      netmask: 64,
      persistenceEngine: "sip",
    });
  });

  test("a fwmark service has no protocol, address or port", () => {
    const reply = serviceReply(attr(1, u16(2)), attr(5, u32(42)), attr(6, text("sh")), attr(7, [...u32(2), ...u32(~0)]), attr(8, u32(0)), attr(9, u32(~0 >>> 0)));
    const service = decodeServiceMessage(only(reply));
    expect(service).toMatchObject({ family: 4, protocol: "tcp", address: "", port: 0, fwmark: 42, scheduler: "sh" });
  });

  test("services lbctl cannot represent (ESP, unknown family) are skipped, not fatal", () => {
    const esp = serviceReply(attr(1, u16(2)), attr(2, u16(50)), attr(3, inet4(192, 0, 2, 1)), attr(4, be16(0)));
    expect(decodeServiceMessage(only(esp))).toBeUndefined();
    const af = serviceReply(attr(1, u16(99)), attr(2, u16(6)), attr(3, inet4(192, 0, 2, 1)), attr(4, be16(0)));
    expect(decodeServiceMessage(only(af))).toBeUndefined();
  });
});

function destinationReply(...attributes: Bytes[]): Bytes {
  return genl({ type: 32, flags: MULTI, seq: 2 }, 5, attr(66, []), nested(2, ...attributes));
}

const destination = (serviceFamily: Family, ...attributes: Bytes[]) =>
  decodeDestinationMessage(only(destinationReply(...attributes)), serviceFamily);

describe("destinations", () => {
  const common = [attr(4, u32(3)), attr(5, u32(1000)), attr(6, u32(100)), attr(7, u32(11)), attr(8, u32(12)), attr(9, u32(13))];

  test("an IPv4 NAT destination of Linux 6.1, with STATS64 and the tunnel attributes every destination gets", () => {
    const decoded = destination(
      4,
      attr(1, inet4(10, 0, 0, 10)),
      attr(2, be16(8080)),
      attr(3, u32(0)),
      ...common,
      attr(11, u16(2)),
      attr(13, u8(0)),
      attr(14, be16(0)),
      attr(15, u16(0)),
      nested(12, PAD(11), attr(1, u64(77)), attr(99, u32(1))),
      attr(16, u32(5)), // newer than this code
    );
    expect(decoded).toEqual({
      family: 4,
      address: "10.0.0.10",
      port: 8080,
      forward: "nat",
      weight: 3,
      upperThreshold: 1000,
      lowerThreshold: 100,
      activeConnections: 11,
      inactiveConnections: 12,
      persistentConnections: 13,
      stats: { connections: 77, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 0 },
    });
  });

  test("without IPVS_DEST_ATTR_ADDR_FAMILY (before 3.18) the family is the service's", () => {
    const decoded = destination(6, attr(1, inet6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)), attr(2, be16(80)), attr(3, u32(3)), ...common);
    expect(decoded).toMatchObject({ family: 6, address: "2001:db8::2", forward: "dr" });
    expect(decoded?.tunnel).toBeUndefined();
  });

  test("an IPv4 tunnel destination of an IPv6 service keeps its own family and tunnel settings", () => {
    const decoded = destination(
      6,
      attr(1, inet4(10, 0, 0, 7)),
      attr(2, be16(0)),
      attr(3, u32(2)),
      ...common,
      attr(11, u16(2)),
      attr(13, u8(2)),
      attr(14, be16(0)),
      attr(15, u16(1)),
    );
    expect(decoded).toMatchObject({ family: 4, address: "10.0.0.7", forward: "tun", tunnel: { type: "gre", port: 0, flags: 1 } });
  });

  test("bits outside IP_VS_CONN_F_FWD_MASK are ignored", () => {
    const decoded = destination(4, attr(1, inet4(10, 0, 0, 1)), attr(2, be16(80)), attr(3, u32(0x2001)), ...common);
    expect(decoded?.forward).toBe("local");
  });
});

describe("info, config, sync daemon", () => {
  test("GET_INFO's reply", () => {
    const reply = genl({ type: 32, flags: 0, seq: 3 }, 14, attr(1, u32(0x010201)), attr(2, u32(4096)), attr(3, u32(1)));
    expect(decodeInfoMessage(only(reply))).toEqual({ version: "1.2.1", connectionTableSize: 4096 });
  });

  test("GET_CONFIG's reply", () => {
    const reply = genl({ type: 32, flags: 0, seq: 4 }, 12, attr(4, u32(900)), attr(5, u32(120)), attr(6, u32(300)), attr(7, u32(1)));
    expect(decodeTimeoutsMessage(only(reply))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  test("GET_DAEMON's reply, IPv4 and IPv6 groups", () => {
    const v4 = genl(
      { type: 32, flags: MULTI, seq: 5 },
      9,
      nested(3, attr(1, u32(1)), attr(2, text("eth0")), attr(3, u32(9)), attr(4, u16(1472)), attr(7, be16(8848)), attr(8, u8(1)), attr(5, [224, 0, 0, 81])),
    );
    expect(decodeDaemonMessage(only(v4))).toEqual({
      state: "master",
      interface: "eth0",
      syncId: 9,
      maxLength: 1472,
      port: 8848,
      ttl: 1,
      group: "224.0.0.81",
    });
    const v6 = genl({ type: 32, flags: MULTI, seq: 5 }, 9, nested(3, attr(1, u32(2)), attr(2, text("eth1")), attr(3, u32(0)), attr(6, inet6(0xff02, 0, 0, 0, 0, 0, 0, 0x12))));
    expect(decodeDaemonMessage(only(v6))).toEqual({ state: "backup", interface: "eth1", syncId: 0, group: "ff02::12" });
  });
});
