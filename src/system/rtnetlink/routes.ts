/**
 * lbctl's own kernel routes over NETLINK_ROUTE (pure): RTM_NEWROUTE/RTM_DELROUTE for one VIP host route, and the
 * dump that lists the routes of lbctl's routing protocol. The messages are the ones `ip route replace|del ... proto
 * 250` sends; the daemon writes them itself so that a withdrawal costs one send and one receive, not a process.
 */

import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from "../../ipvs/address.ts";
import { HOST_LITTLE_ENDIAN, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_REQUEST, align4 } from "../../ipvs/netlink/constants.ts";
import { encodeDump, walkDump } from "./dump.ts";

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;
/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (u8 each), flags (u32). */
const RTMSG_LEN = 12;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_TABLE = 15;
const NLM_F_REPLACE = 0x100;
const NLM_F_CREATE = 0x400;
const AF_INET = 2;
const AF_INET6 = 10;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
const RT_SCOPE_NOWHERE = 255;
/** The loopback interface has index 1 in every network namespace (the kernel's LOOPBACK_IFINDEX). */
const LOOPBACK_INDEX = 1;

export const ROUTE_TABLES = { main: 254, local: 255 } as const;
export type RouteTable = keyof typeof ROUTE_TABLES;

export interface RouteChange {
  vip: string;
  /** main: `VIP/32 dev lo` (unicast, scope link); local: `local VIP/32 dev lo` (scope host). */
  table: RouteTable;
  /** replace creates the route or rewrites lbctl's; delete matches only a route of `protocol`. */
  operation: "replace" | "delete";
  protocol: number;
}

/** The request for one change, acknowledged by the kernel (NLM_F_ACK); throws on an address that is not one. */
export function encodeRouteChange(change: RouteChange, seq: number, port: number): Uint8Array {
  const address = new Uint8Array(16);
  const family = parseIPv4Into(change.vip, address, 0) ? AF_INET : parseIPv6Into(change.vip, address, 0) ? AF_INET6 : 0;
  if (family === 0) throw new RangeError(`${JSON.stringify(change.vip)} is not an IP address`);
  const addressLength = family === AF_INET ? 4 : 16;
  const attributesLength = align4(4 + addressLength) + 8 + 8;
  const bytes = new Uint8Array(NLMSG_HDRLEN + RTMSG_LEN + attributesLength);
  const view = new DataView(bytes.buffer);
  const LE = HOST_LITTLE_ENDIAN;
  const replace = change.operation === "replace";
  const local = change.table === "local";
  view.setUint32(0, bytes.length, LE);
  view.setUint16(4, replace ? RTM_NEWROUTE : RTM_DELROUTE, LE);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | (replace ? NLM_F_CREATE | NLM_F_REPLACE : 0), LE);
  view.setUint32(8, seq, LE);
  view.setUint32(12, port, LE);
  let at = NLMSG_HDRLEN;
  bytes[at] = family;
  bytes[at + 1] = addressLength * 8;
  bytes[at + 4] = ROUTE_TABLES[change.table];
  bytes[at + 5] = change.protocol;
  // The scope `ip` gives: host for a local route; link for a unicast route without a gateway; a unicast delete
  // matches any scope.
  bytes[at + 6] = local ? RT_SCOPE_HOST : replace ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
  bytes[at + 7] = local ? RTN_LOCAL : RTN_UNICAST;
  at += RTMSG_LEN;
  view.setUint16(at, 4 + addressLength, LE);
  view.setUint16(at + 2, RTA_DST, LE);
  bytes.set(address.subarray(0, addressLength), at + 4);
  at += align4(4 + addressLength);
  view.setUint16(at, 8, LE);
  view.setUint16(at + 2, RTA_OIF, LE);
  view.setUint32(at + 4, LOOPBACK_INDEX, LE);
  at += 8;
  view.setUint16(at, 8, LE);
  view.setUint16(at + 2, RTA_TABLE, LE);
  view.setUint32(at + 4, ROUTE_TABLES[change.table], LE);
  return bytes;
}

/**
 * A dump of every table's routes of `protocol`, both families. A kernel that checks dump requests strictly (the
 * socket's NETLINK_GET_STRICT_CHK) sends only those; any other sends every route and the decoder filters.
 */
export function encodeGetRoutes(protocol: number, seq: number, port: number): Uint8Array {
  return encodeDump(RTM_GETROUTE, RTMSG_LEN, seq, port, (body) => body.setUint8(5, protocol));
}

export interface RouteChunk {
  /** Host routes of the protocol in the main table (unicast) and the local table (local), by VIP. */
  main: string[];
  local: string[];
  done: boolean;
}

/** lbctl's VIP routes in one datagram of the dump; routes of other protocols, tables, types or lengths are skipped. */
export function decodeRoutes(datagram: Uint8Array, seq: number, protocol: number): RouteChunk {
  const chunk: RouteChunk = { main: [], local: [], done: false };
  chunk.done = walkDump(datagram, seq, RTM_NEWROUTE, RTMSG_LEN, "route", (_cursor, body, attributes) => {
    const family = datagram[body];
    const prefix = datagram[body + 1];
    if (datagram[body + 5] !== protocol) return;
    if (!((family === AF_INET && prefix === 32) || (family === AF_INET6 && prefix === 128))) return;
    let table = datagram[body + 4] ?? 0;
    let vip: string | undefined;
    while (attributes.next()) {
      if (attributes.type === RTA_TABLE && attributes.length >= 4) table = attributes.u32();
      else if (attributes.type === RTA_DST) {
        if (family === AF_INET && attributes.length === 4) vip = formatIPv4(datagram, attributes.offset);
        else if (family === AF_INET6 && attributes.length === 16) vip = formatIPv6(datagram, attributes.offset);
      }
    }
    if (vip === undefined) return;
    const type = datagram[body + 7];
    if (table === ROUTE_TABLES.main && type === RTN_UNICAST) chunk.main.push(vip);
    else if (table === ROUTE_TABLES.local && type === RTN_LOCAL) chunk.local.push(vip);
  });
  return chunk;
}
