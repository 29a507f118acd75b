/**
 * What `lbctl status` shows (and the daemon's GET /v1/status serves): the managed virtual services as the kernel
 * has them, joined with the config (configured weight, backend key) and health. Pure.
 */

import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import { ServiceFlag, type IpvsStats, type KernelServiceEntry } from "../ipvs/types.ts";
import type { DesiredService } from "./desired.ts";
import type { BackendOverride } from "./overrides.ts";

export type HealthLabel = "healthy" | "unhealthy" | "unknown" | "disabled";

export interface StatusDestination {
  destination: string;
  backend: string | null;
  forward: string;
  weight: number | null;
  configured_weight: number | null;
  health: HealthLabel;
  active_connections: number;
  inactive_connections: number;
  persistent_connections: number;
  /** In the config but not in the kernel. */
  missing?: true;
  /** An operator's override of the backend (`lbctl backend`), daemon only. */
  override?: BackendOverride;
  /** The service's sorry server, a destination while the service is below quorum (daemon only). */
  sorry_server?: true;
  /** The backend's weight ramps up under slow start (daemon only): seconds until it has its full weight. */
  slow_start?: { remaining_seconds: number };
  /** Removed from the config and draining at weight 0 (config `daemon.drain`): deleted once its connections end. */
  draining?: StatusDrain;
}

export interface StatusDrain {
  /** ISO 8601 times: when the drain started, and when the destination is deleted whatever its connections. */
  started_at: string;
  deadline: string;
  /** The connections that hold it: active ones, plus inactive ones for UDP. */
  connections: number;
}

export interface StatusStats {
  connections: number;
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
}

export interface StatusService {
  service: string;
  name: string | null;
  scheduler: string;
  persistent: boolean;
  missing: boolean;
  /** On a managed VIP but not in the config: the next apply removes it. */
  stale?: true;
  destinations: StatusDestination[];
  stats?: StatusStats;
}

export interface StatusView {
  daemon: boolean;
  /** With a daemon: each managed VIP and whether this node holds it now (VIP gating). */
  vips?: { vip: string; held: boolean }[];
  services: StatusService[];
}

export interface StatusOptions {
  daemon: boolean;
  stats: boolean;
  /** Health of a backend of a config service; without a daemon: "unknown" when checks are on, else "disabled". */
  health: (serviceName: string, backend: string) => HealthLabel;
  isManagedVip: (address: string) => boolean;
  /** The drain of a destination (`PROTO:VIP:PORT`, `ADDR:PORT`), when it drains; epoch ms. */
  draining?: (service: string, destination: string) => { startedAt: number; deadline: number } | undefined;
  /** The operator's override of a backend of a config service, if any (the daemon's). */
  override?: (serviceName: string, backend: string) => BackendOverride | undefined;
  /** Seconds left of a backend's slow-start ramp, if it ramps (the daemon's). */
  slowStart?: (serviceName: string, backend: string) => number | undefined;
}

export function statusView(desired: readonly DesiredService[], kernel: readonly KernelServiceEntry[], options: StatusOptions): StatusView {
  const byId = new Map<string, KernelServiceEntry>();
  for (const entry of kernel) {
    if (entry.service.fwmark === 0 && options.isManagedVip(entry.service.address)) byId.set(formatServiceKey(entry.service), entry);
  }
  const services: StatusService[] = [];
  for (const wanted of desired) {
    const entry = byId.get(wanted.id);
    byId.delete(wanted.id);
    const kernelDestinations = new Map((entry?.destinations ?? []).map((d) => [formatDestinationKey(d), d]));
    const destinations: StatusDestination[] = wanted.destinations.map((d) => {
      const actual = kernelDestinations.get(d.id);
      kernelDestinations.delete(d.id);
      const override = options.override?.(wanted.name, d.backend);
      const ramping = options.slowStart?.(wanted.name, d.backend);
      return {
        destination: d.id,
        backend: d.backend,
        forward: actual?.forward ?? d.forward,
        weight: actual ? actual.weight : null,
        configured_weight: d.configuredWeight,
        health: d.sorry ? "disabled" : options.health(wanted.name, d.backend),
        active_connections: actual?.activeConnections ?? 0,
        inactive_connections: actual?.inactiveConnections ?? 0,
        persistent_connections: actual?.persistentConnections ?? 0,
        ...(actual ? {} : { missing: true as const }),
        ...(override ? { override } : {}),
        ...(d.sorry ? { sorry_server: true as const } : {}),
        ...(ramping !== undefined ? { slow_start: { remaining_seconds: ramping } } : {}),
      };
    });
    for (const [id, extra] of kernelDestinations) destinations.push(foreignDestination(wanted.id, id, extra, options));
    services.push({
      service: wanted.id,
      name: wanted.name,
      scheduler: entry?.service.scheduler ?? wanted.scheduler,
      persistent: ((entry?.service.flags ?? wanted.flags) & ServiceFlag.persistent) !== 0,
      missing: !entry,
      destinations,
      ...(options.stats ? { stats: statsOf(entry?.service.stats) } : {}),
    });
  }
  for (const [id, entry] of byId) {
    services.push({
      service: id,
      name: null,
      scheduler: entry.service.scheduler,
      persistent: (entry.service.flags & ServiceFlag.persistent) !== 0,
      missing: false,
      stale: true,
      destinations: entry.destinations.map((d) => foreignDestination(id, formatDestinationKey(d), d, options)),
      ...(options.stats ? { stats: statsOf(entry.service.stats) } : {}),
    });
  }
  return { daemon: options.daemon, services };
}

/** A kernel destination the config does not name: stale (the next apply removes it), or draining. */
function foreignDestination(service: string, id: string, d: KernelServiceEntry["destinations"][number], options: StatusOptions): StatusDestination {
  const drain = options.draining?.(service, id);
  return {
    destination: id,
    backend: null,
    forward: d.forward,
    weight: d.weight,
    configured_weight: null,
    health: "disabled",
    active_connections: d.activeConnections,
    inactive_connections: d.inactiveConnections,
    persistent_connections: d.persistentConnections,
    ...(drain
      ? {
          draining: {
            started_at: new Date(drain.startedAt).toISOString(),
            deadline: new Date(drain.deadline).toISOString(),
            connections: d.activeConnections + (service.startsWith("udp:") ? d.inactiveConnections : 0),
          },
        }
      : {}),
  };
}

function statsOf(stats: IpvsStats | undefined): StatusStats {
  return {
    connections: stats?.connections ?? 0,
    packets_in: stats?.packetsIn ?? 0,
    packets_out: stats?.packetsOut ?? 0,
    bytes_in: stats?.bytesIn ?? 0,
    bytes_out: stats?.bytesOut ?? 0,
  };
}
