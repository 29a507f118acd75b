/**
 * How lbctl names services and destinations to people and in keys: `tcp:192.0.2.10:80`, `tcp:[2001:db8::1]:80`,
 * `10.0.0.10:80`, `[2001:db8::2]:80`. Shared by the client's error messages, the planner and the CLI, so that one
 * object always prints the same way. Addresses are printed as given: keep them canonical (see address.ts).
 */

import type { DestinationKey, Family, ServiceKey } from "./types.ts";

/** `address:port`, with IPv6 addresses in brackets. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `tcp:192.0.2.10:80`; a firewall-mark service is `fwmark:42` (IPv4) or `fwmark6:42` (IPv6). */
export function formatServiceKey(service: ServiceKey & { fwmark?: number }): string {
  if (service.fwmark) return `${fwmarkPrefix(service.family)}:${service.fwmark}`;
  return `${service.protocol}:${formatEndpoint(service.address, service.port)}`;
}

export function formatDestinationKey(destination: DestinationKey): string {
  return formatEndpoint(destination.address, destination.port);
}

function fwmarkPrefix(family: Family): string {
  return family === 6 ? "fwmark6" : "fwmark";
}
