import { NetlinkDecodeError } from "../errors.ts";
import { HOST_LITTLE_ENDIAN, NLA_HDRLEN, NLA_TYPE_MASK, align4 } from "./constants.ts";

const LE = HOST_LITTLE_ENDIAN;
const TWO_TO_32 = 4294967296;

/**
 * Walks the attributes between `start` and `end` of a buffer without allocating per attribute: `next()` moves to the
 * following one and exposes its `type` (flags stripped), payload `offset` and `length`. Every length is checked
 * against its container, and every typed read against the payload, so malformed bytes throw NetlinkDecodeError
 * instead of reading neighbouring data.
 */
export class AttributeCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Names the container in error messages, e.g. "service". */
  readonly context: string;
  type = 0;
  offset = 0;
  length = 0;
  #position: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, view: DataView, start: number, end: number, context: string) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new NetlinkDecodeError(`${context} spans bytes ${start}..${end} of a ${bytes.length}-byte buffer`);
    }
    this.bytes = bytes;
    this.view = view;
    this.context = context;
    this.#position = start;
    this.#end = end;
  }

  next(): boolean {
    const remaining = this.#end - this.#position;
    if (remaining <= 0) return false;
    if (remaining < NLA_HDRLEN) {
      throw new NetlinkDecodeError(`${remaining} stray bytes at the end of ${this.context}`);
    }
    const at = this.#position;
    const length = this.view.getUint16(at, LE);
    if (length < NLA_HDRLEN || length > remaining) {
      throw new NetlinkDecodeError(
        `attribute ${this.view.getUint16(at + 2, LE) & NLA_TYPE_MASK} of ${this.context} declares ${length} bytes, ${remaining} remain`,
      );
    }
    this.type = this.view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    this.offset = at + NLA_HDRLEN;
    this.length = length - NLA_HDRLEN;
    // The last attribute's padding may be missing; clamping keeps the next call's `remaining` at zero.
    this.#position = Math.min(at + align4(length), this.#end);
    return true;
  }

  u8(): number {
    this.#need(1, "u8");
    return this.bytes[this.offset] ?? 0;
  }

  u16(): number {
    this.#need(2, "u16");
    return this.view.getUint16(this.offset, LE);
  }

  be16(): number {
    this.#need(2, "be16");
    return this.view.getUint16(this.offset, false);
  }

  u32(): number {
    this.#need(4, "u32");
    return this.view.getUint32(this.offset, LE);
  }

  be32(): number {
    this.#need(4, "be32");
    return this.view.getUint32(this.offset, false);
  }

  /** A u64 as a number: exact below 2^53, which byte and packet counters stay under for centuries. */
  u64(): number {
    this.#need(8, "u64");
    const low = this.view.getUint32(this.offset + (LE ? 0 : 4), LE);
    const high = this.view.getUint32(this.offset + (LE ? 4 : 0), LE);
    return high * TWO_TO_32 + low;
  }

  /** An unsigned counter sent as u32 or u64 depending on the kernel's structure (STATS vs STATS64). */
  counter(): number {
    if (this.length === 8) return this.u64();
    if (this.length === 4) return this.u32();
    throw new NetlinkDecodeError(`attribute ${this.type} of ${this.context} is ${this.length} bytes, a counter needs 4 or 8`);
  }

  /** A string up to its first NUL (or the payload's end when the kernel sent none). */
  string(): string {
    let end = this.offset;
    const limit = this.offset + this.length;
    let text = "";
    while (end < limit) {
      const code = this.bytes[end] ?? 0;
      if (code === 0) break;
      text += String.fromCharCode(code);
      end++;
    }
    return text;
  }

  /** The payload, checked to hold at least `minimum` bytes; a view, not a copy. */
  payload(minimum: number, what: string): Uint8Array {
    this.#need(minimum, what);
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }

  /** A cursor over the attributes nested in the current one. */
  nested(context: string): AttributeCursor {
    return new AttributeCursor(this.bytes, this.view, this.offset, this.offset + this.length, context);
  }

  #need(size: number, what: string): void {
    if (this.length < size) {
      throw new NetlinkDecodeError(
        `attribute ${this.type} of ${this.context} is ${this.length} bytes, a ${what} needs ${size}`,
      );
    }
  }
}
