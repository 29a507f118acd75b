/**
 * The loaded configuration and what follows from it: port expansion, effective VIP and forwarding method,
 * backend keys. Pure functions of the config; the planner, health checks, metrics and status all use them.
 */

import type { Family } from "../ipvs/types.ts";
import type { MainFile } from "./schema/main.ts";
import type { ServiceFile } from "./schema/service.ts";

export type { MainFile } from "./schema/main.ts";
export type { ServiceFile, Scheduler } from "./schema/service.ts";
export type { HealthFile, CheckType } from "./schema/health.ts";

/** Where a service was defined: `services[index]` of `file`. */
export interface SourceRef {
  file: string;
  index: number;
}

export interface LoadedService extends ServiceFile {
  source: SourceRef;
}

export interface Config {
  mainFile: string;
  /** The main file and every service file, in load order. */
  files: string[];
  main: MainFile;
  services: LoadedService[];
}

export type BackendFile = ServiceFile["backends"][number];
export type ForwardMode = MainFile["mode"];

/**
 * Every port of the service, sorted, each once (a port listed twice is merged silently, as in Go). Ranges are
 * merged before they are expanded: the cost is the number of ports, however the ranges overlap.
 */
export function servicePorts(service: Pick<ServiceFile, "ports" | "port_ranges">): number[] {
  const only = service.port_ranges.length === 0 && service.ports.length === 1 ? service.ports[0] : undefined;
  if (only !== undefined) {
    // One entry (the usual service): its ports, with no merged copy of the lists to sort.
    const ports: number[] = [];
    for (let port = only.start; port <= only.end; port++) ports.push(port);
    return ports;
  }
  const ranges = [...service.ports, ...service.port_ranges].sort((a, b) => a.start - b.start);
  const ports: number[] = [];
  let next = 0; // the lowest port not yet emitted
  for (const range of ranges) {
    for (let port = Math.max(range.start, next); port <= range.end; port++) ports.push(port);
    next = Math.max(next, range.end + 1);
  }
  return ports;
}

export function serviceVip(main: MainFile, service: Pick<ServiceFile, "vip">): string {
  return service.vip ?? main.network.frontend.vip;
}

/**
 * The family of an address: IPv6 text always holds a colon and IPv4 text never does, so no parse is needed (this
 * runs for every service and backend of the config on every reconcile).
 */
export function addressFamily(address: string): Family {
  return address.includes(":") ? 6 : 4;
}

export function forwardMode(main: MainFile, service: Pick<ServiceFile, "mode">): ForwardMode {
  return service.mode ?? main.mode;
}

/** `ADDR:PORT`, IPv6 as `[ADDR]:PORT`. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The backend's key: its own port, or the service's lowest port when that is 0 (config.md). */
export function backendKey(backend: Pick<BackendFile, "address" | "port">, lowestServicePort: number): string {
  return hostPort(backend.address, backend.port === 0 ? lowestServicePort : backend.port);
}

/** The destination port a backend gets on one virtual service port. */
export function destinationPort(backend: Pick<BackendFile, "port">, servicePort: number): number {
  return backend.port === 0 ? servicePort : backend.port;
}

/** All VIPs the config uses now (main VIP only when some service inherits it). */
export function configuredVips(config: Pick<Config, "main" | "services">): string[] {
  return [...new Set(config.services.map((service) => serviceVip(config.main, service)))].sort();
}

export interface ConfigCounts {
  services: number;
  virtualServices: number;
  destinations: number;
}

export function countConfig(config: Pick<Config, "services">): ConfigCounts {
  let virtualServices = 0;
  let destinations = 0;
  for (const service of config.services) {
    const ports = servicePorts(service).length;
    virtualServices += ports;
    destinations += ports * service.backends.length;
  }
  return { services: config.services.length, virtualServices, destinations };
}

/** `HOST:PORT` or `[ADDR]:PORT` of the config into a listen or connect target. */
export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!match) throw new Error(`not HOST:PORT: ${address}`);
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}
