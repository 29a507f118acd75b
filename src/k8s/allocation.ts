/**
 * Which address each LoadBalancer Service gets. Pure and total: the same cluster state always gives the same
 * answer, so every director computes it and the leader only writes it down.
 *
 * 1. Addresses already in `status.loadBalancer.ingress` are kept first (oldest Service first when two claim one),
 *    so a restart, a resync or a new leader never reshuffles IPs.
 * 2. Then the Services still lacking an address, oldest first, get a requested one or the first free one. An
 *    address freed by a deleted Service is therefore handed to the oldest pending Service on the next pass.
 * An address is shared only between Services with the same sharing key and disjoint ports (DNS over TCP and UDP).
 */

import { parseIp } from "../config/ip.ts";
import type { Family } from "../ipvs/types.ts";
import { poolAddresses, poolOf, type Pool } from "./pools.ts";

export interface Claim {
  /** `namespace/name`. */
  key: string;
  /** creationTimestamp (RFC 3339); ties broken by key. */
  created: string;
  /** One address per family, in this order. */
  families: Family[];
  /** Requested addresses (annotation or spec.loadBalancerIP), canonical. */
  requested: string[];
  pool?: string;
  sharingKey?: string;
  /** `PROTOCOL/PORT` of every port. */
  ports: string[];
  /** Addresses in the Service's status now. */
  current: string[];
}

export type Allocation =
  | { ok: true; ips: string[] }
  | { ok: false; reason: "IPNotAvailable" | "SyncLoadBalancerFailed"; message: string };

interface Holder {
  key: string;
  sharingKey?: string;
  ports: Set<string>;
}

function byAge(a: Claim, b: Claim): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function familyOf(address: string): Family | undefined {
  return parseIp(address)?.family;
}

class Ledger {
  readonly holders = new Map<string, Holder[]>();

  /** Why `claim` may not use `address`, or undefined. */
  conflict(address: string, claim: Claim): { reason: "IPNotAvailable" | "SyncLoadBalancerFailed"; message: string } | undefined {
    const holders = this.holders.get(address) ?? [];
    for (const holder of holders) {
      if (holder.key === claim.key) continue;
      if (!claim.sharingKey || holder.sharingKey !== claim.sharingKey) {
        return { reason: "IPNotAvailable", message: `${address} is taken by Service ${holder.key}` + (holder.sharingKey ? ` (sharing key "${holder.sharingKey}")` : "") };
      }
      const overlap = claim.ports.filter((port) => holder.ports.has(port));
      if (overlap.length > 0) {
        return {
          reason: "SyncLoadBalancerFailed",
          message: `${address} is shared with Service ${holder.key} (sharing key "${claim.sharingKey}") but both use ${overlap.join(", ")}: shared Services need disjoint ports`,
        };
      }
    }
    return undefined;
  }

  take(address: string, claim: Claim): void {
    const list = this.holders.get(address) ?? [];
    list.push({ key: claim.key, ...(claim.sharingKey ? { sharingKey: claim.sharingKey } : {}), ports: new Set(claim.ports) });
    this.holders.set(address, list);
  }
}

export function allocate(pools: readonly Pool[], claims: readonly Claim[]): Map<string, Allocation> {
  const ordered = [...claims].sort(byAge);
  const ledger = new Ledger();
  const kept = new Map<string, Map<Family, string>>();
  const result = new Map<string, Allocation>();

  // 1. Keep what the cluster already shows, where it is still valid.
  for (const claim of ordered) {
    const mine = new Map<Family, string>();
    for (const raw of claim.current) {
      const address = parseIp(raw)?.text;
      const family = address ? familyOf(address) : undefined;
      if (!address || family === undefined || mine.has(family) || !claim.families.includes(family)) continue;
      const pool = poolOf(pools, address);
      if (!pool || (claim.pool && pool.name !== claim.pool)) continue;
      if (claim.requested.length > 0 && !claim.requested.includes(address)) continue;
      if (ledger.conflict(address, claim)) continue;
      ledger.take(address, claim);
      mine.set(family, address);
    }
    kept.set(claim.key, mine);
  }

  // 2. Complete every Service, oldest first.
  for (const claim of ordered) {
    const mine = kept.get(claim.key) ?? new Map<Family, string>();
    let failure: Allocation | undefined;
    for (const family of claim.families) {
      if (mine.has(family)) continue;
      const got = pick(pools, ledger, claim, family);
      if ("message" in got) {
        failure = { ok: false, ...got };
        break;
      }
      mine.set(family, got.address);
      ledger.take(got.address, claim);
    }
    result.set(claim.key, failure ?? { ok: true, ips: claim.families.map((family) => mine.get(family) as string) });
  }
  return result;
}

function pick(
  pools: readonly Pool[],
  ledger: Ledger,
  claim: Claim,
  family: Family,
): { address: string } | { reason: "IPNotAvailable" | "SyncLoadBalancerFailed"; message: string } {
  const familyName = `IPv${family}`;
  if (claim.pool && !pools.some((pool) => pool.name === claim.pool)) {
    return { reason: "IPNotAvailable", message: `no address pool is named "${claim.pool}" (annotation libraflux.io/address-pool)` };
  }
  const requested = claim.requested.filter((address) => familyOf(address) === family);
  if (claim.requested.length > 0) {
    if (requested.length === 0) return { reason: "IPNotAvailable", message: `no ${familyName} address requested, but the Service's ipFamilies include ${familyName}` };
    let last: { reason: "IPNotAvailable" | "SyncLoadBalancerFailed"; message: string } | undefined;
    for (const address of requested) {
      const pool = poolOf(pools, address);
      if (!pool) last = { reason: "IPNotAvailable", message: `requested address ${address} is in no address pool` };
      else if (claim.pool && pool.name !== claim.pool) last = { reason: "IPNotAvailable", message: `requested address ${address} is in pool "${pool.name}", not in "${claim.pool}"` };
      else {
        const conflict = ledger.conflict(address, claim);
        if (!conflict) return { address };
        last = conflict;
      }
    }
    return last as { reason: "IPNotAvailable"; message: string };
  }
  const candidates = pools.filter((pool) => pool.family === family && (!claim.pool || pool.name === claim.pool));
  if (candidates.length === 0) {
    return { reason: "IPNotAvailable", message: claim.pool ? `pool "${claim.pool}" holds no ${familyName} addresses` : `no address pool holds ${familyName} addresses` };
  }
  // A Service with a sharing key joins an address its partners already use before taking a fresh one.
  if (claim.sharingKey) {
    for (const [address, holders] of ledger.holders) {
      if (familyOf(address) !== family || !holders.some((h) => h.sharingKey === claim.sharingKey)) continue;
      if (!candidates.includes(poolOf(pools, address) as Pool)) continue;
      if (!ledger.conflict(address, claim)) return { address };
    }
  }
  for (const pool of candidates) {
    for (const address of poolAddresses(pool)) {
      if (!ledger.holders.has(address)) return { address };
    }
  }
  return { reason: "IPNotAvailable", message: `no free ${familyName} address in ${claim.pool ? `pool "${claim.pool}"` : "the address pools"}` };
}

/** Allocated and free addresses per pool, for `lbctl_kubernetes_pool_addresses`. */
export function poolUsage(pools: readonly Pool[], allocations: ReadonlyMap<string, Allocation>): Map<string, { allocated: number; free: number }> {
  const used = new Set<string>();
  for (const allocation of allocations.values()) if (allocation.ok) for (const ip of allocation.ips) used.add(ip);
  const usage = new Map<string, { allocated: number; free: number }>();
  for (const pool of pools) usage.set(pool.name, { allocated: 0, free: pool.size });
  for (const ip of used) {
    const pool = poolOf(pools, ip);
    const entry = pool ? usage.get(pool.name) : undefined;
    if (entry) {
      entry.allocated++;
      entry.free--;
    }
  }
  return usage;
}
