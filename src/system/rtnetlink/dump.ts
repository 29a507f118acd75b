/**
 * The framing shared by every NETLINK_ROUTE dump lbctl asks for (pure): the request, and the walk over the messages
 * of one datagram of the answer.
 */

import { NetlinkDecodeError } from "../../ipvs/errors.ts";
import { AttributeCursor } from "../../ipvs/netlink/attributes.ts";
import { HOST_LITTLE_ENDIAN, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST } from "../../ipvs/netlink/constants.ts";
import { MessageCursor } from "../../ipvs/netlink/messages.ts";

/**
 * A dump request: nlmsghdr and a zeroed fixed header of `bodyLength` bytes (family AF_UNSPEC) that `fill` may set,
 * for the kernel's strict checking of dump requests, which reads filters from it.
 */
export function encodeDump(type: number, bodyLength: number, seq: number, port: number, fill?: (body: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(NLMSG_HDRLEN + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, HOST_LITTLE_ENDIAN);
  view.setUint16(4, type, HOST_LITTLE_ENDIAN);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, HOST_LITTLE_ENDIAN);
  view.setUint32(8, seq, HOST_LITTLE_ENDIAN);
  view.setUint32(12, port, HOST_LITTLE_ENDIAN);
  fill?.(new DataView(bytes.buffer, NLMSG_HDRLEN, bodyLength));
  return bytes;
}

/**
 * Walks the messages of one dump datagram that answer `seq`: calls `onEntry` for each message of `entryType` (with
 * the offset of its fixed header and a cursor over the attributes after it); true once NLMSG_DONE is seen.
 */
export function walkDump(
  datagram: Uint8Array,
  seq: number,
  entryType: number,
  headerLength: number,
  what: string,
  onEntry: (cursor: MessageCursor, body: number, attributes: AttributeCursor) => void,
): boolean {
  const cursor = new MessageCursor(datagram);
  let done = false;
  while (cursor.next()) {
    if (cursor.seq !== seq) continue;
    if (cursor.type === NLMSG_DONE) {
      done = true;
      continue;
    }
    if (cursor.type === NLMSG_ERROR) {
      const errno = cursor.errno();
      if (errno !== 0) throw new NetlinkDecodeError(`listing ${what} entries failed with errno ${errno}`);
      continue;
    }
    if (cursor.type !== entryType) continue;
    const body = cursor.offset + NLMSG_HDRLEN;
    if (cursor.end - body < headerLength) throw new NetlinkDecodeError(`${what} message without its fixed header`);
    onEntry(cursor, body, new AttributeCursor(datagram, cursor.view, body + headerLength, cursor.end, what));
  }
  return done;
}

/** The verdict of an acknowledged request in one datagram: the positive errno (0: done), or undefined if absent. */
export function decodeAcknowledgement(datagram: Uint8Array, seq: number): number | undefined {
  const cursor = new MessageCursor(datagram);
  while (cursor.next()) {
    if (cursor.seq === seq && cursor.type === NLMSG_ERROR) return cursor.errno();
  }
  return undefined;
}
