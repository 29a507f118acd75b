/**
 * Address pools as written in the config: a CIDR (`192.0.2.128/28`), a range (`198.51.100.10-198.51.100.20`) or one
 * address. Parsed to integers so that sizes, overlaps and membership are exact for IPv4 and IPv6 alike. Pure.
 */

import { parseIp } from "./ip.ts";
import type { Family } from "../ipvs/types.ts";

export interface AddressRange {
  family: Family;
  first: bigint;
  last: bigint;
  /** As written, for messages. */
  text: string;
}

export function ipToBigInt(address: string): { family: Family; value: bigint } | undefined {
  const parsed = parseIp(address);
  if (!parsed) return undefined;
  if (parsed.family === 4) {
    const value = parsed.text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  const [head = "", tail = ""] = parsed.text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = parsed.text.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = parsed.text.includes("::")
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  if (groups.length !== 8 || groups.some((g) => g.includes("."))) {
    return undefined;
  }
  const value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
  return { family: 6, value };
}

export function bigIntToIp(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return parseIp(groups.join(":"))?.text ?? groups.join(":");
}

export type RangeParse = { ok: true; range: AddressRange } | { ok: false; message: string };

export function parseAddressRange(text: string): RangeParse {
  const trimmed = text.trim();
  const expected = `must be a CIDR (192.0.2.128/28), a first-last range (198.51.100.10-198.51.100.20) or an address, got "${text}"`;
  const slash = trimmed.indexOf("/");
  if (slash >= 0) {
    const base = ipToBigInt(trimmed.slice(0, slash));
    const prefixText = trimmed.slice(slash + 1);
    if (!base || !/^\d{1,3}$/.test(prefixText)) return { ok: false, message: expected };
    const bits = base.family === 4 ? 32n : 128n;
    const prefix = BigInt(prefixText);
    if (prefix > bits) return { ok: false, message: `prefix /${prefixText} is too long for IPv${base.family} in "${text}"` };
    const hostBits = bits - prefix;
    const mask = (1n << hostBits) - 1n;
    if ((base.value & mask) !== 0n) {
      return { ok: false, message: `"${text}" has host bits set: write the network address (${bigIntToIp(base.family, base.value & ~mask)}/${prefixText})` };
    }
    return { ok: true, range: { family: base.family, first: base.value, last: base.value | mask, text } };
  }
  const dash = trimmed.indexOf("-");
  if (dash >= 0) {
    const first = ipToBigInt(trimmed.slice(0, dash).trim());
    const last = ipToBigInt(trimmed.slice(dash + 1).trim());
    if (!first || !last) return { ok: false, message: expected };
    if (first.family !== last.family) return { ok: false, message: `"${text}" mixes IPv4 and IPv6` };
    if (first.value > last.value) return { ok: false, message: `"${text}" ends before it starts` };
    return { ok: true, range: { family: first.family, first: first.value, last: last.value, text } };
  }
  const single = ipToBigInt(trimmed);
  if (!single) return { ok: false, message: expected };
  return { ok: true, range: { family: single.family, first: single.value, last: single.value, text } };
}

export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(range: AddressRange, address: string): boolean {
  const ip = ipToBigInt(address);
  return ip !== undefined && ip.family === range.family && ip.value >= range.first && ip.value <= range.last;
}
