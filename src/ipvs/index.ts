/** The IPVS layer's public surface; see docs in each module. Re-exports only. */

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
