/**
 * Health targets from the config (config.md "Backends and health targets"): one per (service, backend key) of every
 * service with `health.enabled`. Pure.
 */

import { addressFamily, backendKey, servicePorts, type Config, type HealthFile, type LoadedService } from "../config/model.ts";
import { targetId } from "./target-key.ts";
import type { HealthTarget } from "./types.ts";

export function healthTargets(config: Pick<Config, "services">): HealthTarget[] {
  const out: HealthTarget[] = [];
  for (const service of config.services) {
    if (service.health.enabled) out.push(...serviceTargets(service));
  }
  return out;
}

function serviceTargets(service: LoadedService): HealthTarget[] {
  const lowest = servicePorts(service)[0] ?? 0;
  const settings = canonicalSettings(service.health);
  const byKey = new Map<string, HealthTarget>();
  for (const backend of service.backends) {
    const key = backendKey(backend, lowest);
    // Validation already refuses two backends with one key; the first wins should a caller skip validation.
    if (byKey.has(key)) continue;
    const keyPort = backend.port === 0 ? lowest : backend.port;
    byKey.set(key, {
      id: targetId({ service: service.name, backend: key }),
      service: service.name,
      backend: key,
      address: backend.address,
      port: service.health.port !== 0 ? service.health.port : keyPort,
      family: addressFamily(backend.address),
      health: service.health,
      fingerprint: `${JSON.stringify([service.name, key])}${settings}`,
    });
  }
  return [...byKey.values()];
}

/**
 * Every health setting, keys sorted, unset keys left out: the same settings always give the same text whatever the
 * order of the YAML. Backend weights are not health settings, so a weight edit keeps the fingerprint.
 */
function canonicalSettings(health: HealthFile): string {
  const record = health as unknown as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    // Slow start shapes the weight after a verdict, not the checks: changing it keeps their state.
    if (key === "slow_start_seconds") continue;
    if (record[key] !== undefined) sorted[key] = record[key];
  }
  return JSON.stringify(sorted);
}
