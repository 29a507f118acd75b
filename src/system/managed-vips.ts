/**
 * The VIPs lbctl has managed on this host, recorded in `system.state_dir`, so that a VIP dropped from the config
 * is still cleaned up by the next apply (then forgotten). Written atomically; a corrupt file is an error, never
 * silently treated as empty (that would orphan rules). Also which VIPs a config manages: its services' VIPs and,
 * with the Kubernetes controller enabled, every address of its pools.
 */

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bigIntToIp, parseAddressRange } from "../config/address-ranges.ts";
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
      for (let value = first; value <= last; value++) out.push(canonicalAddress(bigIntToIp(family, value)) ?? bigIntToIp(family, value));
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
