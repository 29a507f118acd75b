/**
 * Hand-assembly of netlink bytes for tests, written independently of src/ipvs/netlink/writer.ts so that golden
 * bytes and kernel-shaped replies do not come from the code under test. Host order is little-endian here (x86-64,
 * arm64); the tests assert it.
 */

export type Bytes = number[];

export const u8 = (value: number): Bytes => [value & 0xff];
export const u16 = (value: number): Bytes => [value & 0xff, (value >>> 8) & 0xff];
export const be16 = (value: number): Bytes => [(value >>> 8) & 0xff, value & 0xff];
export const u32 = (value: number): Bytes => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
export const be32 = (value: number): Bytes => u32(value).reverse();
export const i32 = (value: number): Bytes => u32(value >>> 0);
export const u64 = (value: number): Bytes => [...u32(value % 2 ** 32), ...u32(Math.floor(value / 2 ** 32))];
export const text = (value: string): Bytes => [...value].map((c) => c.charCodeAt(0)).concat(0);

/** The 16 bytes of union nf_inet_addr for an IPv4 address. */
export const inet4 = (a: number, b: number, c: number, d: number): Bytes => [a, b, c, d, ...new Array(12).fill(0)];
/** The 16 bytes of an IPv6 address from its eight groups. */
export const inet6 = (...groups: number[]): Bytes => groups.flatMap(be16);

const pad = (bytes: Bytes): Bytes => bytes.concat(new Array((4 - (bytes.length % 4)) % 4).fill(0));

export function attr(type: number, payload: Bytes): Bytes {
  return pad([...u16(4 + payload.length), ...u16(type), ...payload]);
}

export function nested(type: number, ...children: Bytes[]): Bytes {
  return attr(type | 0x8000, children.flat());
}

export interface Header {
  type: number;
  flags: number;
  seq: number;
  pid?: number;
}

export function message(header: Header, payload: Bytes): Bytes {
  return pad([
    ...u32(16 + payload.length),
    ...u16(header.type),
    ...u16(header.flags),
    ...u32(header.seq),
    ...u32(header.pid ?? 0),
    ...payload,
  ]);
}

export function genl(header: Header, command: number, ...attributes: Bytes[]): Bytes {
  return message(header, [command, 1, 0, 0, ...attributes.flat()]);
}

/** NLMSG_ERROR for `seq`: errno 0 is an acknowledgement. The kernel echoes the request's header after the code. */
export function ack(seq: number, errno = 0, family = 32): Bytes {
  const echoed = [...u32(20), ...u16(family), ...u16(5), ...u32(seq), ...u32(0)];
  return message({ type: 2, flags: errno === 0 ? 0x100 : 0, seq }, [...i32(-errno), ...echoed]);
}

export function done(seq: number, errno = 0): Bytes {
  return message({ type: 3, flags: 0x2, seq }, i32(-errno));
}

export const datagram = (...messages: Bytes[]): Uint8Array => Uint8Array.from(messages.flat());
