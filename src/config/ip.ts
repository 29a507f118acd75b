/**
 * IP addresses in the config: parsed and written in the same canonical text (RFC 5952 for IPv6) as the kernel
 * view, so an address from a file and the same address read back from IPVS compare equal.
 */

import { addressFamily, canonicalAddress } from "../ipvs/address.ts";
import type { Family } from "../ipvs/types.ts";

export interface ParsedIp {
  family: Family;
  /** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
  text: string;
}

export function parseIp(input: string): ParsedIp | undefined {
  const text = canonicalAddress(input);
  const family = text === undefined ? undefined : addressFamily(text);
  return text === undefined || family === undefined ? undefined : { family, text };
}
