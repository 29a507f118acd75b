/**
 * IP address text <-> bytes without the platform's inet_pton (Bun has none). Formatting follows RFC 5952 so that an
 * address read from the kernel compares equal, as a string, to the same address parsed from configuration.
 */

import type { Family } from "./types.ts";

/** Parses dotted-quad IPv4 into `target` at `offset`; false when `text` is not one (leading zeros are refused). */
export function parseIPv4Into(text: string, target: Uint8Array, offset: number): boolean {
  return scanIPv4(text, target, offset);
}

/** Whether `text` is a dotted quad `parseIPv4Into` takes, without writing its bytes (a config has thousands). */
export function isDottedQuad(text: string): boolean {
  return scanIPv4(text, undefined, 0);
}

function scanIPv4(text: string, target: Uint8Array | undefined, offset: number): boolean {
  const length = text.length;
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= length; i++) {
    const code = i < length ? text.charCodeAt(i) : 46; // a virtual "." ends the last part
    if (code >= 48 && code <= 57) {
      if (digits === 0) leadingZero = code === 48;
      else if (leadingZero) return false;
      value = value * 10 + (code - 48);
      digits++;
      if (value > 255) return false;
    } else if (code === 46) {
      if (digits === 0 || part > 3) return false;
      if (target) target[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** Parses IPv6 text (compressed, full, or with a dotted IPv4 tail) into 16 bytes at `offset`. */
export function parseIPv6Into(text: string, target: Uint8Array, offset: number): boolean {
  const groups: number[] = [];
  let compressAt = -1;
  let i = 0;
  const length = text.length;
  if (length < 2) return false;
  if (text.startsWith("::")) {
    compressAt = 0;
    i = 2;
    if (length === 2) return fillIPv6(groups, compressAt, target, offset);
  } else if (text.charCodeAt(0) === 58) {
    return false;
  }
  while (i < length) {
    const end = nextColon(text, i);
    const piece = text.slice(i, end);
    if (piece.includes(".")) {
      if (end !== length || groups.length > 6) return false;
      const v4 = new Uint8Array(4);
      if (!parseIPv4Into(piece, v4, 0)) return false;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      i = end;
      break;
    }
    if (piece.length === 0 || piece.length > 4 || !/^[0-9a-fA-F]+$/.test(piece)) return false;
    groups.push(Number.parseInt(piece, 16));
    if (end === length) {
      i = end;
      break;
    }
    if (text.charCodeAt(end + 1) === 58) {
      if (compressAt >= 0) return false;
      compressAt = groups.length;
      i = end + 2;
    } else {
      i = end + 1;
      if (i === length) return false; // trailing single colon
    }
  }
  return fillIPv6(groups, compressAt, target, offset);
}

function nextColon(text: string, from: number): number {
  const at = text.indexOf(":", from);
  return at < 0 ? text.length : at;
}

function fillIPv6(groups: number[], compressAt: number, target: Uint8Array, offset: number): boolean {
  if (compressAt < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const zeros = 8 - groups.length;
  let out = 0;
  const put = (group: number) => {
    target[offset + out * 2] = group >> 8;
    target[offset + out * 2 + 1] = group & 0xff;
    out++;
  };
  for (let g = 0; g < groups.length; g++) {
    if (g === compressAt) for (let z = 0; z < zeros; z++) put(0);
    put(groups[g] ?? 0);
  }
  if (compressAt === groups.length) for (let z = 0; z < zeros; z++) put(0);
  return true;
}

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * RFC 5952 text: lowercase hex without leading zeros, the longest run (leftmost on a tie) of two or more zero groups
 * as "::". IPv4-mapped addresses stay in hex (::ffff:c000:201), as the config is written too: the kernel's view and
 * the configuration's must compare equal as strings.
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push(((bytes[offset + g * 2] ?? 0) << 8) | (bytes[offset + g * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1; // a lone zero group is never compressed
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let end = g;
    while (end < 8 && groups[end] === 0) end++;
    if (end - g > bestLength) {
      bestStart = g;
      bestLength = end - g;
    }
    g = end;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The family of an address text, or undefined when it is neither IPv4 nor IPv6. */
export function addressFamily(text: string): Family | undefined {
  const scratch = new Uint8Array(16);
  if (parseIPv4Into(text, scratch, 0)) return 4;
  if (parseIPv6Into(text, scratch, 0)) return 6;
  return undefined;
}

/** The canonical text of an address (RFC 5952 for IPv6), or undefined when it does not parse. */
export function canonicalAddress(text: string): string | undefined {
  const scratch = new Uint8Array(16);
  if (parseIPv4Into(text, scratch, 0)) return formatIPv4(scratch);
  if (parseIPv6Into(text, scratch, 0)) return formatIPv6(scratch);
  return undefined;
}
