import { formatIPv4, parseIPv4Into, parseIPv6Into } from "../address.ts";
import { EncodeError } from "../errors.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { Family } from "../types.ts";

/**
 * Size of union nf_inet_addr, which every IPVS address attribute carries whatever the family (IPv4 in the first 4
 * bytes). Decoders read addresses in place, once the family is known, since AF may follow ADDR.
 */
export const INET_ADDR_LENGTH = 16;

/** Writes `address` as a 16-byte union nf_inet_addr attribute, parsing it straight into the message buffer. */
export function encodeAddress(writer: MessageWriter, type: number, family: Family, address: string): void {
  const at = writer.reserve(type, INET_ADDR_LENGTH);
  const ok = family === 4 ? parseIPv4Into(address, writer.target, at) : parseIPv6Into(address, writer.target, at);
  if (!ok) throw new EncodeError(`Address '${address}' is not an IPv${family} address`);
}

/** An IPv4 address carried as a __be32 attribute (the sync daemon's multicast group). */
export function encodeIPv4Word(writer: MessageWriter, type: number, address: string): void {
  const at = writer.reserve(type, 4);
  if (!parseIPv4Into(address, writer.target, at)) throw new EncodeError(`Address '${address}' is not an IPv4 address`);
}

export function decodeIPv4Word(cursor: AttributeCursor): string {
  return formatIPv4(cursor.payload(4, "IPv4 address"));
}
