/** Joins the kernel's per-destination counters with the config: which service name and backend key each belongs to. */

import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { DesiredService } from "../plan/desired.ts";
import type { DestinationSample } from "./events.ts";

export function destinationSamples(desired: readonly DesiredService[], kernel: readonly KernelServiceEntry[]): DestinationSample[] {
  const byService = new Map(kernel.map((entry) => [formatServiceKey(entry.service), entry]));
  const samples: DestinationSample[] = [];
  for (const service of desired) {
    const entry = byService.get(service.id);
    if (!entry) continue;
    const destinations = new Map(entry.destinations.map((d) => [formatDestinationKey(d), d]));
    for (const wanted of service.destinations) {
      const actual = destinations.get(wanted.id);
      if (!actual) continue;
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
