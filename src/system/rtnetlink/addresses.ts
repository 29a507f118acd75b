/**
 * RTM_GETADDR over NETLINK_ROUTE, encoded and decoded here (pure): the daemon learns which VIPs this node holds by
 * asking the kernel, not by spawning `ip`.
 */

import { formatIPv4, formatIPv6 } from "../../ipvs/address.ts";
import { HOST_LITTLE_ENDIAN } from "../../ipvs/netlink/constants.ts";
import { encodeDump, walkDump } from "./dump.ts";

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
