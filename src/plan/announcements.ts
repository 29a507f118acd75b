/**
 * Which VIPs this director announces over BGP now (bgp.enabled): an announced VIP whose services this director can
 * serve. Serving means the kernel holds every configured virtual service of the VIP (the table is programmed), and at
 * least one destination of them has a weight above 0 (a healthy backend). The routers then spread flows over the
 * directors that announce; a director that cannot serve withdraws, and flows move to the others.
 */

import { hostPort, servicePorts, serviceVip, type Config } from "../config/model.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";

export interface Announcement {
  vip: string;
  announce: boolean;
  /** Why, for audit records and `status`. */
  reason: string;
}

/** One verdict per VIP of `vips` (bgp.announce, or every managed VIP). `healthy`: the last reconcile succeeded. */
export function announcements(config: Pick<Config, "main" | "services">, vips: readonly string[], kernel: readonly KernelServiceEntry[], healthy: boolean): Announcement[] {
  const inKernel = new Map<string, KernelServiceEntry>();
  for (const entry of kernel) inKernel.set(`${entry.service.protocol}:${hostPort(entry.service.address, entry.service.port)}`, entry);
  return vips.map((vip) => {
    if (!healthy) return { vip, announce: false, reason: "the last reconcile failed" };
    const services = config.services.filter((service) => serviceVip(config.main, service) === vip);
    if (services.length === 0) return { vip, announce: false, reason: "no service uses this VIP" };
    let serving = 0;
    for (const service of services) {
      for (const port of servicePorts(service)) {
        const entry = inKernel.get(`${service.protocol}:${hostPort(vip, port)}`);
        if (!entry) return { vip, announce: false, reason: `${service.protocol}:${hostPort(vip, port)} of service ${service.name} is not in the kernel` };
        if (entry.destinations.some((d) => d.weight > 0)) serving++;
      }
    }
    return serving > 0 ? { vip, announce: true, reason: "serving" } : { vip, announce: false, reason: "no backend with a weight above 0" };
  });
}
