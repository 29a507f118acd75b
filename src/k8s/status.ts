/**
 * The status lbctl wants on a Service and whether the cluster already shows it. The API server defaults
 * `ipMode` to VIP (LoadBalancerIPMode), so an entry without it equals one with `ipMode: VIP`: comparing the raw
 * JSON would send a patch on every resync. Pure.
 */

import { parseIp } from "../config/ip.ts";
import type { LoadBalancerIngress, Service } from "./types.ts";

export function desiredIngress(ips: readonly string[]): LoadBalancerIngress[] {
  return ips.map((ip) => ({ ip, ipMode: "VIP" }));
}

function normalise(entry: LoadBalancerIngress): string {
  return JSON.stringify({
    ip: entry.ip ? (parseIp(entry.ip)?.text ?? entry.ip) : undefined,
    hostname: entry.hostname || undefined,
    ipMode: entry.ip ? (entry.ipMode ?? "VIP") : entry.ipMode,
    ports: entry.ports && entry.ports.length > 0 ? entry.ports : undefined,
  });
}

export function ingressEqual(current: readonly LoadBalancerIngress[] | undefined, desired: readonly LoadBalancerIngress[]): boolean {
  const have = current ?? [];
  if (have.length !== desired.length) return false;
  return have.every((entry, i) => normalise(entry) === normalise(desired[i] as LoadBalancerIngress));
}

/** The merge patch for `/status`, or undefined when the Service already shows `desired`. */
export function statusPatch(service: Service, desired: readonly LoadBalancerIngress[]): object | undefined {
  if (ingressEqual(service.status?.loadBalancer?.ingress, desired)) return undefined;
  // A merge patch replaces lists whole; null removes the key (the API server then shows `loadBalancer: {}`).
  return { status: { loadBalancer: { ingress: desired.length > 0 ? desired : null } } };
}
