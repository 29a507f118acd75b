import { EncodeError } from "../errors.ts";
import { GENL_HDRLEN, HOST_LITTLE_ENDIAN, NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN, align4 } from "./constants.ts";

const LE = HOST_LITTLE_ENDIAN;
const MAX_ATTRIBUTE_LENGTH = 0xffff;

/**
 * Writes netlink messages back to back into one growable buffer, so that a batch of thousands of requests costs no
 * allocation per attribute or per message. Lengths of messages and nested attributes are patched when they end.
 * Integers are host order unless the method name says `be` (network order).
 */
export class MessageWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.#bytes = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get length(): number {
    return this.#length;
  }

  /** The messages written since the last reset; a view that the next write may overwrite. */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  reset(): void {
    this.#length = 0;
  }

  /** Starts a message with nlmsghdr and genlmsghdr; returns its offset for `endMessage`. */
  beginGenlMessage(family: number, flags: number, seq: number, port: number, command: number, version: number): number {
    const start = this.#reserve(NLMSG_HDRLEN + GENL_HDRLEN);
    const view = this.#view;
    view.setUint32(start, 0, LE);
    view.setUint16(start + 4, family, LE);
    view.setUint16(start + 6, flags, LE);
    view.setUint32(start + 8, seq >>> 0, LE);
    view.setUint32(start + 12, port >>> 0, LE);
    this.#bytes[start + 16] = command;
    this.#bytes[start + 17] = version;
    view.setUint16(start + 18, 0, LE);
    return start;
  }

  endMessage(start: number): void {
    this.#view.setUint32(start, this.#length - start, LE);
  }

  /** Drops everything written from `start` on, e.g. a message whose encoding failed half-way. */
  truncate(start: number): void {
    this.#length = start;
  }

  beginNested(type: number): number {
    const start = this.#reserve(NLA_HDRLEN);
    this.#view.setUint16(start + 2, type | NLA_F_NESTED, LE);
    return start;
  }

  endNested(start: number): void {
    const length = this.#length - start;
    if (length > MAX_ATTRIBUTE_LENGTH) throw new EncodeError(`Nested attribute of ${length} bytes exceeds 65535`);
    this.#view.setUint16(start, length, LE);
  }

  u8(type: number, value: number): void {
    checkRange(type, value, 0xff);
    const at = this.#attribute(type, 1);
    this.#bytes[at] = value;
  }

  u16(type: number, value: number): void {
    checkRange(type, value, 0xffff);
    this.#view.setUint16(this.#attribute(type, 2), value, LE);
  }

  be16(type: number, value: number): void {
    checkRange(type, value, 0xffff);
    this.#view.setUint16(this.#attribute(type, 2), value, false);
  }

  u32(type: number, value: number): void {
    checkRange(type, value, 0xffffffff);
    this.#view.setUint32(this.#attribute(type, 4), value, LE);
  }

  be32(type: number, value: number): void {
    checkRange(type, value, 0xffffffff);
    this.#view.setUint32(this.#attribute(type, 4), value, false);
  }

  /** Two host-order u32 in one attribute, the layout of struct ip_vs_flags. */
  u32Pair(type: number, first: number, second: number): void {
    checkRange(type, first, 0xffffffff);
    checkRange(type, second, 0xffffffff);
    const at = this.#attribute(type, 8);
    this.#view.setUint32(at, first, LE);
    this.#view.setUint32(at + 4, second, LE);
  }

  /** A NUL-terminated string (NLA_NUL_STRING). */
  string(type: number, value: string): void {
    const length = value.length;
    const at = this.#attribute(type, length + 1);
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      // Scheduler, engine and interface names are ASCII in the kernel; refuse rather than mangle anything else.
      if (code === 0 || code > 0x7e) throw new EncodeError(`Name '${value}' must be printable ASCII`);
      bytes[at + i] = code;
    }
    bytes[at + length] = 0;
  }

  /**
   * Reserves an attribute of `length` zeroed payload bytes and returns the payload's offset in `target`, for callers
   * that write the payload in place (addresses).
   */
  reserve(type: number, length: number): number {
    const at = this.#attribute(type, length);
    this.#bytes.fill(0, at, at + length);
    return at;
  }

  /** The buffer that `reserve` offsets point into; valid until the next write that grows it. */
  get target(): Uint8Array {
    return this.#bytes;
  }

  /** Writes the attribute header and padding; returns the payload offset. */
  #attribute(type: number, payloadLength: number): number {
    const length = NLA_HDRLEN + payloadLength;
    if (length > MAX_ATTRIBUTE_LENGTH) throw new EncodeError(`Attribute of ${length} bytes exceeds 65535`);
    const start = this.#reserve(length);
    this.#view.setUint16(start, length, LE);
    this.#view.setUint16(start + 2, type, LE);
    // The buffer is reused, so padding must be cleared explicitly; the kernel ignores it but tests compare bytes.
    for (let i = start + length; i < this.#length; i++) this.#bytes[i] = 0;
    return start + NLA_HDRLEN;
  }

  /** Advances the write position by `length` rounded up to 4; returns the old position. */
  #reserve(length: number): number {
    const start = this.#length;
    const end = start + align4(length);
    if (end > this.#bytes.length) this.#grow(end);
    this.#length = end;
    return start;
  }

  #grow(minimum: number): void {
    let capacity = this.#bytes.length * 2;
    while (capacity < minimum) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer);
  }
}

/** DataView would silently wrap 70000 into a u16; a wrapped port or weight must never reach the kernel. */
function checkRange(type: number, value: number, maximum: number): void {
  if (!(value >= 0 && value <= maximum && Number.isInteger(value))) {
    throw new EncodeError(`Value ${value} of attribute ${type} is outside 0..${maximum}`);
  }
}
