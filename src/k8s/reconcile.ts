/**
 * One pass over the cluster as last seen: the lbctl services every director programs, and what the leader writes
 * back (finalizers, status, events). Pure: the same snapshot gives the same answer on every director.
 *
 * Order that matters: a Service is programmed only once it carries our finalizer (added by the leader before its
 * first rule exists); a Service deleted or moved away from our class is dropped from the desired services, and
 * its finalizer is removed only after the kernel no longer serves it (the shell applies `services` first).
 */

import type { HealthFile, LoadedService } from "../config/model.ts";
import { allocate, poolUsage, type Allocation } from "./allocation.ts";
import { desiredServices } from "./desired.ts";
import { FINALIZER, objectKey, REASONS } from "./names.ts";
import type { NodeAddressType } from "./nodes.ts";
import type { Pool } from "./pools.ts";
import { claimOf, isOurs, requestedAddresses, splitPorts } from "./service-model.ts";
import { desiredIngress, statusPatch } from "./status.ts";
import type { EndpointSlice, Node, Service } from "./types.ts";

export interface Snapshot {
  services: readonly Service[];
  nodes: readonly Node[];
  slices: readonly EndpointSlice[];
}

export interface ReconcileSettings {
  loadBalancerClass: string;
  pools: readonly Pool[];
  nodeAddressType: NodeAddressType;
  health?: HealthFile;
}

export interface ServiceEvent {
  type: "Normal" | "Warning";
  reason: (typeof REASONS)[keyof typeof REASONS];
  message: string;
}

export interface ServiceActions {
  key: string;
  service: Service;
  /** Add our finalizer (before anything is programmed for it). */
  addFinalizer: boolean;
  /** Remove our finalizer: only after `services` no longer holds the Service's rules. */
  removeFinalizer: boolean;
  /** Merge patch for /status, when the status differs from the desired one. */
  status?: object;
  events: ServiceEvent[];
}

export interface ReconcileResult {
  services: LoadedService[];
  actions: ServiceActions[];
  allocations: Map<string, Allocation>;
  usage: Map<string, { allocated: number; free: number }>;
}

export function reconcile(snapshot: Snapshot, settings: ReconcileSettings): ReconcileResult {
  const services: LoadedService[] = [];
  const actions: ServiceActions[] = [];
  const live = snapshot.services.filter((s) => isOurs(s, settings.loadBalancerClass) && !s.metadata.deletionTimestamp);
  const requestProblems = new Map<string, string>();
  const claims = live.flatMap((service) => {
    const requested = requestedAddresses(service);
    if ("message" in requested) {
      requestProblems.set(objectKey(service.metadata), requested.message);
      return [];
    }
    return [claimOf(service, requested.ips)];
  });
  const allocations = allocate(settings.pools, claims);
  for (const service of snapshot.services) {
    const key = objectKey(service.metadata);
    const hasFinalizer = service.metadata.finalizers?.includes(FINALIZER) ?? false;
    const ours = isOurs(service, settings.loadBalancerClass);
    if (!ours || service.metadata.deletionTimestamp) {
      if (!hasFinalizer) continue;
      // Cleanup: rules go (not in `services`), then status (when the Service lives on) and the finalizer.
      const ourIps = ours ? [] : (service.status?.loadBalancer?.ingress ?? []);
      const status = !service.metadata.deletionTimestamp && ourIps.length > 0 ? statusPatch(service, []) : undefined;
      actions.push({
        key,
        service,
        addFinalizer: false,
        removeFinalizer: true,
        ...(status ? { status } : {}),
        events: [{ type: "Normal", reason: REASONS.deleted, message: service.metadata.deletionTimestamp ? "Service deleted: load balancer removed" : "Service no longer of class " + settings.loadBalancerClass + " or type LoadBalancer: load balancer removed" }],
      });
      continue;
    }
    const events: ServiceEvent[] = [];
    for (const port of splitPorts(service).unsupported) {
      events.push({ type: "Warning", reason: REASONS.failed, message: `port ${port.name || port.port}/SCTP skipped: lbctl serves TCP and UDP ports only` });
    }
    const problem = requestProblems.get(key);
    const allocation: Allocation = problem ? { ok: false, reason: "IPNotAvailable", message: problem } : (allocations.get(key) as Allocation);
    if (!allocation.ok) {
      events.push({ type: "Warning", reason: allocation.reason, message: allocation.message });
      const status = statusPatch(service, []);
      actions.push({ key, service, addFinalizer: !hasFinalizer, removeFinalizer: false, ...(status ? { status } : {}), events });
      continue;
    }
    const current = new Set((service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip));
    const fresh = allocation.ips.filter((ip) => !current.has(ip));
    if (fresh.length > 0) events.push({ type: "Normal", reason: REASONS.allocated, message: `Assigned IP ${fresh.join(", ")}` });
    if (hasFinalizer) {
      services.push(...desiredServices(service, allocation.ips, snapshot.nodes, snapshot.slices, settings));
    }
    // Status is written only once the finalizer is in place, so no Service shows an address lbctl does not serve.
    const status = hasFinalizer ? statusPatch(service, desiredIngress(allocation.ips)) : undefined;
    if (status) events.push({ type: "Normal", reason: REASONS.ensured, message: `Load balancer ensured on ${allocation.ips.join(", ")}` });
    actions.push({ key, service, addFinalizer: !hasFinalizer, removeFinalizer: false, ...(status ? { status } : {}), events });
  }
  return { services, actions, allocations, usage: poolUsage(settings.pools, allocations) };
}

