/**
 * RTM_GETADDR over NETLINK_ROUTE, encoded and decoded here (pure): the daemon learns which VIPs this node holds by
 * asking the kernel, not by spawning `ip`.
 */

import { formatIPv4, formatIPv6 } from "../../ipvs/address.ts";
import { NetlinkDecodeError } from "../../ipvs/errors.ts";
import { AttributeCursor } from "../../ipvs/netlink/attributes.ts";
import { HOST_LITTLE_ENDIAN, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST } from "../../ipvs/netlink/constants.ts";
import { MessageCursor } from "../../ipvs/netlink/messages.ts";

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFADDRMSG_LEN = 8;
const IFINFOMSG_LEN = 16;
const IFLA_PROTO_DOWN = 39;
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const AF_INET = 2;
const AF_INET6 = 10;

/** A dump request for every address of every family. */
export function encodeGetAddresses(seq: number, port: number): Uint8Array {
  return encodeDump(RTM_GETADDR, IFADDRMSG_LEN, seq, port);
}

/** A dump request for every link (interface). */
export function encodeGetLinks(seq: number, port: number): Uint8Array {
  return encodeDump(RTM_GETLINK, IFINFOMSG_LEN, seq, port);
}

function encodeDump(type: number, bodyLength: number, seq: number, port: number): Uint8Array {
  const bytes = new Uint8Array(NLMSG_HDRLEN + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, HOST_LITTLE_ENDIAN);
  view.setUint16(4, type, HOST_LITTLE_ENDIAN);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, HOST_LITTLE_ENDIAN);
  view.setUint32(8, seq, HOST_LITTLE_ENDIAN);
  view.setUint32(12, port, HOST_LITTLE_ENDIAN);
  // ifaddrmsg / ifinfomsg: family AF_UNSPEC, the rest zero.
  return bytes;
}

export interface LocalAddress {
  address: string;
  /** Interface index. */
  index: number;
}

export interface AddressChunk {
  addresses: LocalAddress[];
  /** NLMSG_DONE was seen: the dump is complete. */
  done: boolean;
}

/** The addresses in one datagram of the dump (IFA_LOCAL, else IFA_ADDRESS, as `ip addr` shows them). */
export function decodeAddresses(datagram: Uint8Array, seq: number): AddressChunk {
  const addresses: LocalAddress[] = [];
  const done = walkDump(datagram, seq, RTM_NEWADDR, IFADDRMSG_LEN, "address", (cursor, body, attributes) => {
    const family = datagram[body];
    let local: string | undefined;
    let address: string | undefined;
    while (attributes.next()) {
      if (attributes.type !== IFA_LOCAL && attributes.type !== IFA_ADDRESS) continue;
      const text = formatAddress(family, datagram, attributes.offset, attributes.length);
      if (text === undefined) continue;
      if (attributes.type === IFA_LOCAL) local = text;
      else address = text;
    }
    const chosen = local ?? address;
    if (chosen) addresses.push({ address: chosen, index: cursor.view.getUint32(body + 4, HOST_LITTLE_ENDIAN) });
  });
  return { addresses, done };
}

/**
 * Walks the messages of one dump datagram that answer `seq`: calls `onEntry` for each message of `entryType` (with
 * the offset of its fixed header and a cursor over the attributes after it); true once NLMSG_DONE is seen.
 */
function walkDump(
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

function formatAddress(family: number | undefined, bytes: Uint8Array, offset: number, length: number): string | undefined {
  if (family === AF_INET && length === 4) return formatIPv4(bytes, offset);
  if (family === AF_INET6 && length === 16) return formatIPv6(bytes, offset);
  return undefined;
}

export interface LinkChunk {
  /** Indexes of links that can carry traffic now: admin up, carrier (lower up), not in protodown. */
  usable: number[];
  done: boolean;
}

/**
 * The links of one datagram of a link dump. An address only counts as held on a usable link: FRR's VRRP keeps the
 * VIP on its macvlan in both roles and puts the backup's macvlan in protodown.
 */
export function decodeLinks(datagram: Uint8Array, seq: number): LinkChunk {
  const usable: number[] = [];
  const done = walkDump(datagram, seq, RTM_NEWLINK, IFINFOMSG_LEN, "link", (cursor, body, attributes) => {
    const index = cursor.view.getInt32(body + 4, HOST_LITTLE_ENDIAN);
    const flags = cursor.view.getUint32(body + 8, HOST_LITTLE_ENDIAN);
    let protoDown = false;
    while (attributes.next()) if (attributes.type === IFLA_PROTO_DOWN && attributes.length >= 1) protoDown = attributes.u8() !== 0;
    if ((flags & IFF_UP) !== 0 && (flags & IFF_LOWER_UP) !== 0 && !protoDown) usable.push(index);
  });
  return { usable, done };
}
