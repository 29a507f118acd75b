/**
 * The VIPs lbctl has managed on this host, recorded in `system.state_dir`, so that a VIP dropped from the config
 * is still cleaned up by the next apply (then forgotten). Written atomically; a corrupt file is an error, never
 * silently treated as empty (that would orphan rules). Also which VIPs a config manages: its services' VIPs and,
 * with the Kubernetes controller enabled, every address of its pools.
 */

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAddressRange } from "../config/address-ranges.ts";
import { configuredVips, type Config } from "../config/model.ts";
import { canonicalAddress } from "../ipvs/address.ts";
import { writeFileAtomic } from "./atomic-file.ts";

const FILE = "managed-vips.json";
const MAX_BYTES = 1024 * 1024;

export class StateFileError extends Error {
  override readonly name = "StateFileError";
}

export function managedVipsFile(stateDir: string): string {
  return join(stateDir, FILE);
}

export function readManagedVips(stateDir: string): string[] {
  const path = managedVipsFile(stateDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new StateFileError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.length > MAX_BYTES) throw new StateFileError(`${path} is larger than ${MAX_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StateFileError(`${path} is not valid JSON: fix or remove it (it lists VIPs lbctl manages)`);
  }
  const vips = (parsed as { vips?: unknown }).vips;
  if (!Array.isArray(vips) || !vips.every((v) => typeof v === "string" && canonicalAddress(v) !== undefined)) {
    throw new StateFileError(`${path} must hold {"vips": [addresses]}: fix or remove it`);
  }
  return vips.map((v) => canonicalAddress(v)!);
}

export function writeManagedVips(stateDir: string, vips: Iterable<string>): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const sorted = [...new Set(vips)].sort();
  writeFileAtomic(managedVipsFile(stateDir), `${JSON.stringify({ vips: sorted }, null, 2)}\n`, { mode: 0o644 });
}

/**
 * Every address of `kubernetes.pools` while `kubernetes.enabled` (spec/kubernetes.md: pool addresses count as
 * managed VIPs: ownership, gating, `lbctl setup frr`), free ones included, so that the HA pair moves an address
 * before a Service gets it and a rule left on a freed one is cleaned up. Pure; validated config (≤ 4096 per pool).
 */
export function poolVips(main: Pick<Config["main"], "kubernetes">): string[] {
  const k8s = main.kubernetes;
  if (!k8s.enabled) return [];
  const out: string[] = [];
  for (const pool of k8s.pools) {
    for (const text of pool.addresses) {
      const parsed = parseAddressRange(text);
      if (!parsed.ok) continue;
      const { family, first, last } = parsed.range;
      if (family === 4) {
        // Numbers, not bigints: this runs on every daemon tick, for up to 4096 addresses a pool.
        for (let value = Number(first); value <= Number(last); value++) out.push(`${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`);
      } else {
        const high: number[] = [];
        for (let shift = 112n; shift >= 32n; shift -= 16n) high.push(Number((first >> shift) & 0xffffn));
        const low = Number(first & 0xffffffffn);
        const count = Number(last - first);
        for (let k = 0; k <= count; k++) {
          const value = low + k;
          // Past the low 32 bits the upper groups change: the rare carry takes the bigint path.
          out.push(value <= 0xffffffff ? formatIpv6([...high, Math.floor(value / 0x10000), value % 0x10000]) : formatIpv6(groupsOf(first + BigInt(k))));
        }
      }
    }
  }
  return out;
}

/** The VIPs a config manages: those of its services (the Kubernetes ones included when merged) and its pools. */
export function configManagedVips(config: Pick<Config, "main" | "services">): string[] {
  const pools = poolVips(config.main);
  const vips = configuredVips(config);
  return pools.length === 0 ? vips : [...new Set([...vips, ...pools])].sort();
}

function groupsOf(value: bigint): number[] {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  return groups;
}

/** RFC 5952 text of an IPv6 address from its eight groups: lower case, the longest run of 2+ zero groups as "::". */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
