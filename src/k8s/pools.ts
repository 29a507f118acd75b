/** The configured pools as address sets: membership, iteration in order, sizes. Pure. */

import { bigIntToIp, ipToBigInt, parseAddressRange, type AddressRange } from "../config/address-ranges.ts";
import type { Family } from "../ipvs/types.ts";

export interface Pool {
  name: string;
  family: Family;
  ranges: AddressRange[];
  size: number;
}

/** From validated config (kubernetes.pools): every address parses. */
export function buildPools(pools: ReadonlyArray<{ name: string; addresses: readonly string[] }>): Pool[] {
  return pools.map(({ name, addresses }) => {
    const ranges = addresses.map((text) => {
      const parsed = parseAddressRange(text);
      if (!parsed.ok) throw new Error(`pool ${name}: ${parsed.message}`);
      return parsed.range;
    });
    const size = ranges.reduce((sum, range) => sum + Number(range.last - range.first + 1n), 0);
    return { name, family: ranges[0]?.family ?? 4, ranges, size };
  });
}

export function poolOf(pools: readonly Pool[], address: string): Pool | undefined {
  const ip = ipToBigInt(address);
  if (!ip) return undefined;
  return pools.find((pool) => pool.family === ip.family && pool.ranges.some((r) => ip.value >= r.first && ip.value <= r.last));
}

/** The pool's addresses in order, lowest range first. */
export function* poolAddresses(pool: Pool): Generator<string> {
  for (const range of pool.ranges) {
    for (let value = range.first; value <= range.last; value++) yield bigIntToIp(pool.family, value);
  }
}
