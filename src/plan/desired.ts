/**
 * Desired kernel state from the config: one virtual service per (service, expanded port), one destination per
 * (virtual service, backend). Pure: health plugs in through `weightOf`.
 */

import {
  addressFamily,
  backendKey,
  destinationPort,
  forwardMode,
  serviceVip,
  servicePorts,
  type Config,
  type LoadedService,
} from "../config/model.ts";
import { formatEndpoint, formatServiceKey } from "../ipvs/identity.ts";
import { ServiceFlag, type DestinationSpec, type Family, type ServiceSpec } from "../ipvs/types.ts";

export interface DesiredDestination extends DestinationSpec {
  /** `ADDR:PORT`, the key of the destination in the kernel. */
  id: string;
  /** The backend key of config.md (its health target and metrics label). */
  backend: string;
  configuredWeight: number;
  /**
   * Keep whatever weight the kernel has for this destination (and use `weight` only when it must be created): a
   * daemon adopting a programmed table does this until the backend's first probe.
   */
  keepKernelWeight?: boolean;
  /** The service's `sorry_server`, desired while the service is below quorum (plan/quorum.ts). */
  sorry?: true;
}

export interface DesiredService extends ServiceSpec {
  /** `PROTO:VIP:PORT`. */
  id: string;
  /** The config service's name. */
  name: string;
  destinations: DesiredDestination[];
}

/**
 * The weight a destination gets in the kernel; the default is the configured weight (no health overlay).
 * "kernel" keeps the kernel's current weight (falling back to the configured one for a new destination).
 */
export type WeightOf = (service: LoadedService, backend: string, configuredWeight: number) => number | "kernel";

export interface DesiredOptions {
  weightOf?: WeightOf;
  /** Only services on these VIPs (the daemon's held VIPs under cold standby); default: every VIP. */
  includeVip?: (vip: string) => boolean;
  /** Services below quorum: their `sorry_server` is a destination too (the daemon's quorum state; default none). */
  sorryServer?: (service: LoadedService) => boolean;
}

/** Full netmask as the kernel stores it per family: all ones for IPv4, a prefix length for IPv6. */
export function fullNetmask(family: Family): number {
  return family === 4 ? 0xffffffff : 128;
}

export function desiredServices(config: Pick<Config, "main" | "services">, options: DesiredOptions = {}): DesiredService[] {
  const weightOf: WeightOf = options.weightOf ?? ((_service, _backend, weight) => weight);
  const out: DesiredService[] = [];
  for (const service of config.services) {
    const vip = serviceVip(config.main, service);
    if (options.includeVip && !options.includeVip(vip)) continue;
    const family = addressFamily(vip);
    const forward = forwardMode(config.main, service);
    const ports = servicePorts(service);
    const lowest = ports[0] ?? 0;
    const backends = service.backends.map((backend) => {
      const key = backendKey(backend, lowest);
      const weight = weightOf(service, key, backend.weight);
      // The destination's id is the backend key itself where the ports agree (a backend with its own port, or the
      // service's lowest port), else this prefix and the port: an address is formatted once per backend, not per
      // port, and a single-port service formats none beyond its key.
      const idPrefix = backend.port === 0 && ports.length > 1 ? formatEndpoint(backend.address, 0).slice(0, -1) : "";
      return { backend, key, idPrefix, weight: weight === "kernel" ? backend.weight : weight, keepKernelWeight: weight === "kernel" };
    });
    const sorry = service.sorry_server && options.sorryServer?.(service) ? service.sorry_server : undefined;
    const flags = service.persistence ? ServiceFlag.persistent : 0;
    const timeout = service.persistence?.timeout_seconds ?? 0;
    const netmask = fullNetmask(family);
    // One literal per virtual service and per destination, no spreads: a port range of thousands is built on every
    // reconcile.
    for (const port of ports) {
      const destinations: DesiredDestination[] = [];
      for (const { backend, key, idPrefix, weight, keepKernelWeight } of backends) {
        const destinationPortNumber = destinationPort(backend, port);
        const destination: DesiredDestination = {
          address: backend.address,
          port: destinationPortNumber,
          family,
          forward,
          weight,
          upperThreshold: 0,
          lowerThreshold: 0,
          id: backend.port !== 0 || port === lowest ? key : idPrefix + destinationPortNumber,
          backend: key,
          configuredWeight: backend.weight,
        };
        if (keepKernelWeight) destination.keepKernelWeight = true;
        destinations.push(destination);
      }
      out.push({
        family,
        protocol: service.protocol,
        address: vip,
        port,
        scheduler: service.scheduler,
        flags,
        timeout,
        netmask,
        persistenceEngine: "",
        id: formatServiceKey({ family, protocol: service.protocol, address: vip, port }),
        name: service.name,
        destinations,
      });
      if (sorry) out.at(-1)!.destinations.push(sorryDestination(sorry, port, lowest, family, forward));
    }
  }
  return out;
}

/** The sorry server as a destination of one virtual service: weight 1, the service's forwarding method. */
function sorryDestination(sorry: { address: string; port: number }, port: number, lowest: number, family: Family, forward: DesiredDestination["forward"]): DesiredDestination {
  const destinationPortNumber = sorry.port || port;
  return {
    address: sorry.address,
    port: destinationPortNumber,
    family,
    forward,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    id: formatEndpoint(sorry.address, destinationPortNumber),
    backend: formatEndpoint(sorry.address, sorry.port || lowest),
    configuredWeight: 1,
    sorry: true,
  };
}
