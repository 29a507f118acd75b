/**
 * RTM_GETADDR over NETLINK_ROUTE, encoded and decoded here (pure): the daemon learns which VIPs this node holds by
 * asking the kernel, not by spawning `ip`.
 */

import { formatIPv4, formatIPv6 } from "../../ipvs/address.ts";
import { NetlinkDecodeError } from "../../ipvs/errors.ts";
import { AttributeCursor } from "../../ipvs/netlink/attributes.ts";
import { HOST_LITTLE_ENDIAN, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST } from "../../ipvs/netlink/constants.ts";
import { MessageCursor } from "../../ipvs/netlink/messages.ts";

const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFADDRMSG_LEN = 8;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const AF_INET = 2;
const AF_INET6 = 10;

/** A dump request for every address of every family. */
export function encodeGetAddresses(seq: number, port: number): Uint8Array {
  const bytes = new Uint8Array(NLMSG_HDRLEN + IFADDRMSG_LEN);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, HOST_LITTLE_ENDIAN);
  view.setUint16(4, RTM_GETADDR, HOST_LITTLE_ENDIAN);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, HOST_LITTLE_ENDIAN);
  view.setUint32(8, seq, HOST_LITTLE_ENDIAN);
  view.setUint32(12, port, HOST_LITTLE_ENDIAN);
  // ifaddrmsg: family AF_UNSPEC, the rest zero.
  return bytes;
}

export interface AddressChunk {
  addresses: string[];
  /** NLMSG_DONE was seen: the dump is complete. */
  done: boolean;
}

/** The addresses in one datagram of the dump (IFA_LOCAL, else IFA_ADDRESS, as `ip addr` shows them). */
export function decodeAddresses(datagram: Uint8Array, seq: number): AddressChunk {
  const cursor = new MessageCursor(datagram);
  const addresses: string[] = [];
  let done = false;
  while (cursor.next()) {
    if (cursor.seq !== seq) continue;
    if (cursor.type === NLMSG_DONE) {
      done = true;
      continue;
    }
    if (cursor.type === NLMSG_ERROR) {
      const errno = cursor.errno();
      if (errno !== 0) throw new NetlinkDecodeError(`listing addresses failed with errno ${errno}`);
      continue;
    }
    if (cursor.type !== RTM_NEWADDR) continue;
    if (cursor.end - cursor.offset < NLMSG_HDRLEN + IFADDRMSG_LEN) throw new NetlinkDecodeError("RTM_NEWADDR without its ifaddrmsg");
    const family = datagram[cursor.offset + NLMSG_HDRLEN];
    const attributes = new AttributeCursor(datagram, cursor.view, cursor.offset + NLMSG_HDRLEN + IFADDRMSG_LEN, cursor.end, "address");
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
    if (chosen) addresses.push(chosen);
  }
  return { addresses, done };
}

function formatAddress(family: number | undefined, bytes: Uint8Array, offset: number, length: number): string | undefined {
  if (family === AF_INET && length === 4) return formatIPv4(bytes, offset);
  if (family === AF_INET6 && length === 16) return formatIPv6(bytes, offset);
  return undefined;
}
