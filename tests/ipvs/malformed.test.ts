import { describe, expect, test } from "bun:test";
import { decodeServiceMessage } from "../../src/ipvs/codec/replies.ts";
import { NetlinkDecodeError } from "../../src/ipvs/errors.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import { type Bytes, ack, attr, be16, datagram, genl, inet4, nested, u16 } from "./support/bytes.ts";

const MULTI = 0x2;

function only(...messages: Bytes[]): MessageCursor {
  const cursor = new MessageCursor(datagram(...messages));
  expect(cursor.next()).toBe(true);
  return cursor;
}

function serviceReply(...attributes: Bytes[]): Bytes {
  return genl({ type: 32, flags: MULTI, seq: 1, pid: 4242 }, 1, nested(1, ...attributes), attr(77, [1, 0, 0, 0]));
}

describe("malformed bytes are refused, never read past", () => {
  const good = serviceReply(attr(1, u16(2)), attr(2, u16(6)), attr(3, inet4(192, 0, 2, 10)), attr(4, be16(80)));

  test("an attribute whose length runs past its nest", () => {
    const bytes = [...good];
    bytes[24] = 200; // AF, the first attribute inside the service nest, now claims 200 bytes
    expect(() => decodeServiceMessage(only(bytes))).toThrow(NetlinkDecodeError);
  });

  test("an attribute shorter than its header", () => {
    const bytes = [...good];
    bytes[24] = 2;
    expect(() => decodeServiceMessage(only(bytes))).toThrow("declares 2 bytes");
  });

  test("a u16 attribute with a 1-byte payload", () => {
    const reply = serviceReply(attr(1, [2]), attr(2, u16(6)), attr(3, inet4(192, 0, 2, 10)), attr(4, be16(80)));
    expect(() => decodeServiceMessage(only(reply))).toThrow("a u16 needs 2");
  });

  test("an IPv6 address of 4 bytes", () => {
    const reply = serviceReply(attr(1, u16(10)), attr(2, u16(6)), attr(3, [1, 2, 3, 4]), attr(4, be16(80)));
    expect(() => decodeServiceMessage(only(reply))).toThrow(NetlinkDecodeError);
  });

  test("a counter of 6 bytes", () => {
    const reply = serviceReply(attr(1, u16(2)), attr(2, u16(6)), attr(3, inet4(1, 2, 3, 4)), attr(4, be16(80)), nested(12, attr(1, [0, 0, 0, 0, 0, 0])));
    expect(() => decodeServiceMessage(only(reply))).toThrow("a counter needs 4 or 8");
  });

  test("a message longer than its datagram, and stray bytes after the last message", () => {
    const truncated = datagram(good).subarray(0, good.length - 8);
    expect(() => new MessageCursor(truncated).next()).toThrow("remain in the datagram");
    const stray = new MessageCursor(datagram(good, [1, 2, 3]));
    expect(stray.next()).toBe(true);
    expect(() => stray.next()).toThrow("stray bytes");
  });

  test("a nest whose children leave a partial header", () => {
    const reply = genl({ type: 32, flags: MULTI, seq: 1 }, 1, nested(1, attr(1, u16(2)), [1, 0]));
    expect(() => decodeServiceMessage(only(reply))).toThrow("stray bytes at the end of service");
  });

  test("an NLMSG_ERROR without its error code, a generic message without its header", () => {
    const shortError = new MessageCursor(datagram([16, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
    shortError.next();
    expect(() => shortError.errno()).toThrow("lacks its error code");
    const noGenl = new MessageCursor(datagram([16, 0, 0, 0, 32, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
    noGenl.next();
    expect(() => noGenl.attributes("service")).toThrow("lacks its header");
  });

  test("errno of an acknowledgement and of a refusal", () => {
    expect(only(ack(5)).errno()).toBe(0);
    expect(only(ack(5, 17)).errno()).toBe(17);
  });
});
