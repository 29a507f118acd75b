/**
 * The IPVS layer's public surface (re-exports only).
 *
 *   types.ts            the contract with the planner (IpvsClient, IpvsAdminClient, kernel objects)
 *   client.ts           createIpvsClient: info, dump, execute (pipelined batch), timeouts, zero, flush, sync daemon
 *   identity.ts         tcp:192.0.2.10:80, [2001:db8::2]:80 - how services and destinations are named
 *   address.ts          IP text <-> bytes, RFC 5952 formatting
 *   errors.ts           NetlinkError (errno + operation), LibraryMissingError, IpvsUnavailableError, ...
 *   refusal.ts          errno -> operator explanation; operations.ts names IpvsOperations
 *   constants.ts        numbers from include/uapi/linux/ip_vs.h
 *   codec/              pure IPVS encoders/decoders (encodeService/decodeService, ...), no I/O
 *   netlink/            generic netlink framing (writer, message/attribute cursors: pure) and exchange.ts,
 *                       the seq/ack/dump/batch bookkeeping over an injected Transport
 *   transport/          Transport interface and its libnl implementation over bun:ffi (the only I/O)
 */

export { addressFamily, canonicalAddress, formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from "./address.ts";
export { DEFAULT_WINDOW, type IpvsClientOptions, createIpvsClient } from "./client.ts";
export {
  EncodeError,
  IpvsError,
  type IpvsErrorCode,
  IpvsUnavailableError,
  LibraryMissingError,
  NetlinkDecodeError,
  NetlinkError,
  TransportError,
} from "./errors.ts";
export { formatDestinationKey, formatEndpoint, formatServiceKey } from "./identity.ts";
export { describeOperation } from "./operations.ts";
export { createLibnlTransport } from "./transport/libnl.ts";
export type { Transport } from "./transport/transport.ts";
export * from "./types.ts";
