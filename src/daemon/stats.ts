/** Joins the kernel's per-destination counters with the config: which service name and backend key each belongs to. */

import { formatServiceKey } from "../ipvs/identity.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { DesiredService } from "../plan/desired.ts";
import type { DestinationSample } from "../observability/events.ts";

interface IndexedDestination {
  port: number;
  backend: string;
  id: string;
}

interface IndexedService {
  name: string;
  id: string;
  /**
   * Configured destinations by address, then port: matched without building a string per destination. An address
   * holds one destination per backend port of the virtual service (usually one); many get a map by port.
   */
  byAddress: Map<string, IndexedDestination | Map<number, IndexedDestination>>;
}

/**
 * What the join needs of the config, built once per config: the stats cycle runs every few seconds over tens of
 * thousands of destinations, and rebuilding the desired state each time was most of its cost.
 */
export class StatsIndex {
  readonly #services = new Map<string, IndexedService>();

  constructor(desired: readonly DesiredService[]) {
    for (const service of desired) {
      const byAddress: IndexedService["byAddress"] = new Map();
      for (const d of service.destinations) {
        const entry = { port: d.port, backend: d.backend, id: d.id };
        const present = byAddress.get(d.address);
        if (present === undefined) byAddress.set(d.address, entry);
        else if (present instanceof Map) {
          if (!present.has(entry.port)) present.set(entry.port, entry);
        } else if (present.port !== entry.port) {
          byAddress.set(d.address, new Map([[present.port, present], [entry.port, entry]]));
        }
      }
      this.#services.set(service.id, { name: service.name, id: service.id, byAddress });
    }
  }

  samples(kernel: readonly KernelServiceEntry[]): DestinationSample[] {
    const samples: DestinationSample[] = [];
    for (const entry of kernel) {
      if (entry.service.fwmark !== 0) continue;
      const service = this.#services.get(formatServiceKey(entry.service));
      if (!service) continue;
      for (const actual of entry.destinations) {
        const atAddress = service.byAddress.get(actual.address);
        const wanted = atAddress instanceof Map ? atAddress.get(actual.port) : atAddress?.port === actual.port ? atAddress : undefined;
        if (!wanted) continue;
        const stats = actual.stats;
        samples.push({
          service: service.name,
          backend: wanted.backend,
          virtualService: service.id,
          destination: wanted.id,
          connections: stats?.connections ?? 0,
          packetsIn: stats?.packetsIn ?? 0,
          packetsOut: stats?.packetsOut ?? 0,
          bytesIn: stats?.bytesIn ?? 0,
          bytesOut: stats?.bytesOut ?? 0,
          activeConnections: actual.activeConnections,
          inactiveConnections: actual.inactiveConnections,
          weight: actual.weight,
        });
      }
    }
    return samples;
  }
}

/** One-off join (tests, tools); the daemon keeps a StatsIndex per config. */
export function destinationSamples(desired: readonly DesiredService[], kernel: readonly KernelServiceEntry[]): DestinationSample[] {
  return new StatsIndex(desired).samples(kernel);
}
