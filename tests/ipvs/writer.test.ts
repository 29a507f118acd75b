import { describe, expect, test } from "bun:test";
import type { RequestHeader } from "../../src/ipvs/codec/requests.ts";
import { encodeOperation } from "../../src/ipvs/codec/requests.ts";
import { EncodeError } from "../../src/ipvs/errors.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import type { ServiceKey, ServiceSpec } from "../../src/ipvs/types.ts";
import { attr, be16, genl, inet4, nested, u16, u32 } from "./support/bytes.ts";
import { backend, web, webKey } from "./support/fixtures.ts";

const FAMILY = 32;
const PORT_ID = 1234;
const WRITE = 0x01; // a batched write: NLM_F_REQUEST without NLM_F_ACK
const header = (seq = 1): RequestHeader => ({ family: FAMILY, seq, port: PORT_ID });

const webKeyAttributes = [attr(1, u16(2)), attr(2, u16(6)), attr(3, inet4(192, 0, 2, 10)), attr(4, be16(80))];

describe("the writer", () => {
  test("messages follow each other, and a reused buffer has its padding cleared", () => {
    const writer = new MessageWriter(16); // forces several grows
    encodeOperation(writer, header(1), { kind: "new-service", service: { ...web, scheduler: "wlc" } });
    const first = [...writer.bytes()];
    writer.reset();
    const dirty = new MessageWriter(256);
    encodeOperation(dirty, header(1), { kind: "new-service", service: { ...web, scheduler: "sed" } });
    dirty.target.fill(0xaa, 0, dirty.length); // garbage everywhere the next message's padding will fall
    dirty.reset();
    encodeOperation(dirty, header(1), { kind: "new-service", service: { ...web, scheduler: "wlc" } });
    expect([...dirty.bytes()]).toEqual(first);

    encodeOperation(writer, header(1), { kind: "new-service", service: { ...web, scheduler: "wlc" } });
    encodeOperation(writer, header(2), { kind: "del-service", service: webKey });
    const del = genl({ type: FAMILY, flags: WRITE, seq: 2, pid: PORT_ID }, 3, nested(1, ...webKeyAttributes));
    expect([...writer.bytes()]).toEqual([...first, ...del]);
  });

  test.each([
    ["a port above 65535", { ...web, port: 70000 }],
    ["a negative timeout", { ...web, timeout: -1 }],
    ["a fractional netmask", { ...web, netmask: 0.5 }],
    ["an IPv6 address in an IPv4 service", { ...web, address: "2001:db8::1" }],
    ["a non-ASCII scheduler", { ...web, scheduler: "rr\u00e9" }],
  ])("%s is an EncodeError and leaves the buffer as it was", (_, service) => {
    const writer = new MessageWriter();
    encodeOperation(writer, header(1), { kind: "del-service", service: webKey });
    const before = [...writer.bytes()];
    expect(() => encodeOperation(writer, header(2), { kind: "new-service", service: service as ServiceSpec })).toThrow(EncodeError);
    expect([...writer.bytes()]).toEqual(before);
  });

  test("a weight above u32 is refused", () => {
    const operation = { kind: "new-destination", service: webKey, destination: { ...backend, weight: 2 ** 32 } } as const;
    expect(() => encodeOperation(new MessageWriter(), header(), operation)).toThrow("outside 0..4294967295");
  });
});

test("a repeated service key is copied, and a key differing in any field is encoded afresh", () => {
  const keys: (ServiceKey & { fwmark?: number })[] = [
    webKey,
    webKey,
    { ...webKey, port: 81 },
    { ...webKey, protocol: "udp" },
    { ...webKey, address: "192.0.2.11" },
    { ...webKey, fwmark: 9 },
    { ...webKey, fwmark: 9 },
    webKey,
  ];
  const expected = keys.map((key, seq) => {
    const identity = key.fwmark
      ? [attr(1, u16(2)), attr(5, u32(key.fwmark))]
      : [attr(1, u16(2)), attr(2, u16(key.protocol === "udp" ? 17 : 6)), attr(3, inet4(192, 0, 2, key.address.endsWith("11") ? 11 : 10)), attr(4, be16(key.port))];
    return genl({ type: FAMILY, flags: WRITE, seq, pid: PORT_ID }, 3, nested(1, ...identity));
  });
  const merged = new MessageWriter(64);
  keys.forEach((service, seq) => encodeOperation(merged, header(seq), { kind: "del-service", service }));
  expect([...merged.bytes()]).toEqual(expected.flat());
  // The copy is of bytes, not of a writer: alternating between two writers gives the same messages.
  const writers = [new MessageWriter(64), new MessageWriter(64)] as const;
  keys.forEach((service, seq) => encodeOperation(writers[seq % 2] as MessageWriter, header(seq), { kind: "del-service", service }));
  expect([...writers[0].bytes()]).toEqual(expected.filter((_, i) => i % 2 === 0).flat());
  expect([...writers[1].bytes()]).toEqual(expected.filter((_, i) => i % 2 === 1).flat());
});
