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
  const keys: string[] = [];
  const weights: number[] = [];
  const keepKernelWeights: boolean[] = [];
  const idPrefixes: string[] = [];
  for (const service of config.services) {
    const vip = serviceVip(config.main, service);
    if (options.includeVip && !options.includeVip(vip)) continue;
    const family = addressFamily(vip);
    const forward = forwardMode(config.main, service);
    const ports = servicePorts(service);
    const lowest = ports[0] ?? 0;
    // Per backend, in arrays shared by every service of this call (overwritten service by service): a config of
    // thousands of single-port services would otherwise build an object per backend per service on every reconcile.
    const count = service.backends.length;
    for (let b = 0; b < count; b++) {
      const backend = service.backends[b]!;
      const key = backendKey(backend, lowest);
      const weight = weightOf(service, key, backend.weight);
      keys[b] = key;
      weights[b] = weight === "kernel" ? backend.weight : weight;
      keepKernelWeights[b] = weight === "kernel";
      // The destination's id is the backend key itself where the ports agree (a backend with its own port, or the
      // service's lowest port), else this prefix and the port: an address is formatted once per backend, not per
      // port, and a single-port service formats none beyond its key.
      idPrefixes[b] = backend.port === 0 && ports.length > 1 ? formatEndpoint(backend.address, 0).slice(0, -1) : "";
    }
    const sorry = service.sorry_server && options.sorryServer?.(service) ? service.sorry_server : undefined;
    const flags = service.persistence ? ServiceFlag.persistent : 0;
    const timeout = service.persistence?.timeout_seconds ?? 0;
    const netmask = fullNetmask(family);
    // The service's id is this prefix and the port (`PROTO:VIP:`, formatted once per service).
    const servicePrefix = formatServiceKey({ family, protocol: service.protocol, address: vip, port: 0 }).slice(0, -1);
    // One literal per virtual service and per destination, no spreads: a port range of thousands is built on every
    // reconcile.
    for (const port of ports) {
      const destinations: DesiredDestination[] = [];
      for (let b = 0; b < count; b++) {
        const backend = service.backends[b]!;
        const destinationPortNumber = destinationPort(backend, port);
        const key = keys[b]!;
        const destination: DesiredDestination = {
          address: backend.address,
          port: destinationPortNumber,
          family,
          forward,
          weight: weights[b]!,
          upperThreshold: 0,
          lowerThreshold: 0,
          id: backend.port !== 0 || port === lowest ? key : idPrefixes[b]! + destinationPortNumber,
          backend: key,
          configuredWeight: backend.weight,
        };
        if (keepKernelWeights[b]) destination.keepKernelWeight = true;
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
        id: servicePrefix + port,
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
