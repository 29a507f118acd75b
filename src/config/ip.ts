/**
 * IP addresses in the config: parsed and written in the same canonical text (RFC 5952 for IPv6) as the kernel
 * view, so an address from a file and the same address read back from IPVS compare equal.
 */

import { formatIPv6, isDottedQuad, parseIPv6Into } from "../ipvs/address.ts";
import type { Family } from "../ipvs/types.ts";

export interface ParsedIp {
  family: Family;
  /** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
  text: string;
}

export function parseIp(input: string): ParsedIp | undefined {
  // One parse: a config of thousands of services parses tens of thousands of addresses. A dotted quad that parses
  // is canonical already (no leading zeros, no spaces): its text is its canonical text, and it needs no bytes.
  if (isDottedQuad(input)) return { family: 4, text: input };
  const bytes = new Uint8Array(16);
  if (parseIPv6Into(input, bytes, 0)) return { family: 6, text: formatIPv6(bytes) };
  return undefined;
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, canonically `::ffff:a00:1`), or
 * undefined. Such an address is IPv6 to the kernel: an IPv4 service or backend must be written as plain IPv4.
 */
export function mappedIpv4(input: string): string | undefined {
  const parsed = parseIp(input);
  const match = parsed?.family === 6 ? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(parsed.text) : null;
  if (!match) return undefined;
  const high = parseInt(match[1]!, 16);
  const low = parseInt(match[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** Whether a canonical address is a multicast group: 224.0.0.0/4 or ff00::/8. */
export function isMulticast(parsed: ParsedIp): boolean {
  return parsed.family === 4 ? Number(parsed.text.split(".")[0]) >> 4 === 14 : parsed.text.startsWith("ff");
}
