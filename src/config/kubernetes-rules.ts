/**
 * Rules of the `kubernetes:` section that its schema cannot express (spec/kubernetes.md): pools when enabled, one
 * family per pool, sizes, overlaps, no pool address equal to a VIP of the service files, and VRRP's limit of 255
 * addresses per instance. Pure: findings carry the key path; the caller locates them in the main file.
 */

import { parseAddressRange, rangeContains, rangeSize, rangesOverlap, type AddressRange } from "./address-ranges.ts";
import { serviceVip, type LoadedService } from "./model.ts";
import type { MainFile } from "./schema/main.ts";

export const MAX_POOL_ADDRESSES = 4096;
/** VRRP's "Count IPvX Addrs" field is one octet (RFC 5798 §5.2.5). */
export const MAX_VRRP_ADDRESSES = 255;

export interface KubernetesFinding {
  path: string;
  message: string;
}

interface PoolRange extends AddressRange {
  path: string;
  pool: string;
}

export function checkKubernetes(main: MainFile, services: readonly LoadedService[]): KubernetesFinding[] {
  const k8s = main.kubernetes;
  const findings: KubernetesFinding[] = [];
  const error = (path: string, message: string) => findings.push({ path, message });
  if (k8s.enabled && k8s.pools.length === 0) {
    error("kubernetes.pools", "needs at least one pool when kubernetes.enabled is true (e.g. - { name: default, addresses: [192.0.2.128/28] })");
  }
  const names = new Map<string, number>();
  const ranges: PoolRange[] = [];
  let total = 0n;
  k8s.pools.forEach((pool, i) => {
    const at = `kubernetes.pools[${i}]`;
    const earlier = names.get(pool.name);
    if (earlier !== undefined) error(`${at}.name`, `pool name "${pool.name}" is already used by kubernetes.pools[${earlier}]`);
    else names.set(pool.name, i);
    if (pool.addresses.length === 0) error(`${at}.addresses`, `pool "${pool.name}" has no addresses`);
    let size = 0n;
    const families = new Set<number>();
    pool.addresses.forEach((text, j) => {
      const path = `${at}.addresses[${j}]`;
      const parsed = parseAddressRange(text);
      if (!parsed.ok) return error(path, parsed.message);
      families.add(parsed.range.family);
      size += rangeSize(parsed.range);
      for (const other of ranges) {
        if (rangesOverlap(other, parsed.range)) {
          error(path, `"${text}" overlaps "${other.text}" of pool "${other.pool}" (${other.path}): an address belongs to one pool`);
          break;
        }
      }
      ranges.push({ ...parsed.range, path, pool: pool.name });
    });
    if (families.size > 1) {
      error(`${at}.addresses`, `pool "${pool.name}" mixes IPv4 and IPv6: use one pool per family (a dual-stack Service takes one address from each)`);
    }
    if (size > BigInt(MAX_POOL_ADDRESSES)) {
      error(`${at}.addresses`, `pool "${pool.name}" has ${size} addresses, at most ${MAX_POOL_ADDRESSES} are allowed`);
    }
    total += size;
  });
  const fileVips = new Map<string, string>();
  fileVips.set(main.network.frontend.vip, "network.frontend.vip");
  for (const service of services) {
    const vip = serviceVip(main, service);
    if (!fileVips.has(vip) || fileVips.get(vip) === "network.frontend.vip") {
      fileVips.set(vip, `service "${service.name}" (${service.source.file})`);
    }
  }
  for (const [vip, owner] of fileVips) {
    const range = ranges.find((r) => rangeContains(r, vip));
    if (range) {
      error(range.path, `"${range.text}" of pool "${range.pool}" contains ${vip}, the VIP of ${owner}: a pool address may not be a VIP of the service files`);
    }
  }
  if (k8s.enabled && main.vrrp && total + BigInt(fileVips.size) > BigInt(MAX_VRRP_ADDRESSES)) {
    error(
      "kubernetes.pools",
      `the pools hold ${total} addresses and the service files ${fileVips.size} VIPs: one VRRP instance (vrrp.vrid ${main.vrrp.vrid}) carries at most ${MAX_VRRP_ADDRESSES} addresses (the protocol's count field); shrink the pools`,
    );
  }
  if (k8s.health?.enabled && k8s.health.timeout_ms >= k8s.health.interval_ms) {
    error("kubernetes.health.timeout_ms", `must be less than interval_ms (${k8s.health.interval_ms}), got ${k8s.health.timeout_ms}: probes would overlap`);
  }
  return findings;
}
