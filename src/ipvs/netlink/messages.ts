import { NetlinkDecodeError } from "../errors.ts";
import { AttributeCursor } from "./attributes.ts";
import { GENL_HDRLEN, HOST_LITTLE_ENDIAN, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, align4 } from "./constants.ts";

const LE = HOST_LITTLE_ENDIAN;

/**
 * Walks the netlink messages of one datagram. After `next()` returns true, the header fields describe the current
 * message; `offset` is where its nlmsghdr starts and `end` where its declared length ends.
 */
export class MessageCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  type = 0;
  flags = 0;
  seq = 0;
  port = 0;
  offset = 0;
  end = 0;
  #position = 0;

  constructor(datagram: Uint8Array) {
    this.bytes = datagram;
    this.view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  }

  next(): boolean {
    const remaining = this.bytes.length - this.#position;
    if (remaining <= 0) return false;
    if (remaining < NLMSG_HDRLEN) throw new NetlinkDecodeError(`${remaining} stray bytes after the last message`);
    const at = this.#position;
    const length = this.view.getUint32(at, LE);
    if (length < NLMSG_HDRLEN || length > remaining) {
      throw new NetlinkDecodeError(`message declares ${length} bytes, ${remaining} remain in the datagram`);
    }
    this.type = this.view.getUint16(at + 4, LE);
    this.flags = this.view.getUint16(at + 6, LE);
    this.seq = this.view.getUint32(at + 8, LE);
    this.port = this.view.getUint32(at + 12, LE);
    this.offset = at;
    this.end = at + length;
    this.#position = Math.min(at + align4(length), this.bytes.length);
    return true;
  }

  /**
   * The kernel's verdict carried by NLMSG_ERROR (0 = acknowledgement) or NLMSG_DONE, as a positive errno.
   * A DONE without payload (very old kernels) counts as success.
   */
  errno(): number {
    const payload = this.end - this.offset - NLMSG_HDRLEN;
    if (payload < 4) {
      if (this.type === NLMSG_DONE) return 0;
      throw new NetlinkDecodeError(`NLMSG_ERROR of ${payload} bytes lacks its error code`);
    }
    if (this.type !== NLMSG_ERROR && this.type !== NLMSG_DONE) {
      throw new NetlinkDecodeError(`message type ${this.type} carries no error code`);
    }
    const code = this.view.getInt32(this.offset + NLMSG_HDRLEN, LE);
    return code === 0 ? 0 : -code; // not -0

  }

  /** The generic netlink command of the current message. */
  command(): number {
    this.#needGenlHeader();
    return this.bytes[this.offset + NLMSG_HDRLEN] ?? 0;
  }

  /** The attributes after the generic netlink header. */
  attributes(context: string): AttributeCursor {
    this.#needGenlHeader();
    return new AttributeCursor(this.bytes, this.view, this.offset + NLMSG_HDRLEN + GENL_HDRLEN, this.end, context);
  }

  #needGenlHeader(): void {
    if (this.end - this.offset < NLMSG_HDRLEN + GENL_HDRLEN) {
      throw new NetlinkDecodeError(`generic netlink message of ${this.end - this.offset} bytes lacks its header`);
    }
  }
}
