/**
 * Graceful drain on removal (config `daemon.drain`): a pass over a planned diff that turns the deletion of a
 * destination that still carries connections into a weight-0 update and a draining record, and deletes it on a later
 * pass once the kernel reports no connections left or its deadline passed. Pure: the kernel dump, the records and
 * the time come in; the new plan, the new records and what started and ended go out. The caller commits the records
 * only once the plan ran.
 *
 * A removed virtual service stays while any of its destinations drains (weight 0, so it takes no new connection);
 * its idle destinations go at once, and the service itself once the last one is gone.
 *
 * Change limits count a removal once, in the pass that first plans it: `plan.removals` counts the deletions and
 * drain starts of destinations and services that were not draining yet, never the deletion that ends a drain.
 */

import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import type { KernelDestination, KernelServiceEntry, ServiceKey } from "../ipvs/types.ts";
import { destinationSettings, serviceKeyOf, type Change, type Plan } from "./changes.ts";

export interface DrainRecord {
  /** `PROTO:VIP:PORT` */
  service: string;
  /** `ADDR:PORT` */
  destination: string;
  /** The config service's name, when the planner knew it at removal. */
  name?: string;
  /** Wall-clock ms (epoch) when the drain started. */
  startedAt: number;
  /** Wall-clock ms after which the destination is deleted whatever its connections. */
  deadline: number;
  /** The whole virtual service left the config: it is deleted once its last destination is. */
  serviceRemoved: boolean;
}

export type DrainEndReason = "drained" | "timeout" | "restored" | "gone";

export interface DrainEnd {
  record: DrainRecord;
  reason: DrainEndReason;
  /** Connections the kernel reported when it ended (counted as `connectionsOf` counts them). */
  connections: number;
}

export interface DrainInput {
  plan: Plan;
  /** The kernel dump the plan was made from (connection counters included). */
  kernel: readonly KernelServiceEntry[];
  /** Draining destinations by `drainKey`. */
  draining: ReadonlyMap<string, DrainRecord>;
  /** Wall-clock ms (epoch). */
  now: number;
  /** 0: delete at once (drain off), ending every drain the plan deletes. */
  timeoutMs: number;
  /** Whether removals on a VIP may drain (not under cold standby for a VIP not held); default all. */
  drainable?: (vip: string) => boolean;
}

export interface DrainStart {
  record: DrainRecord;
  /** Connections the destination had when its drain started. */
  connections: number;
}

export interface DrainOutput {
  plan: Plan;
  draining: Map<string, DrainRecord>;
  started: DrainStart[];
  ended: DrainEnd[];
}

export function drainKey(service: string, destination: string): string {
  return `${service}>${destination}`;
}

/**
 * The connections that hold a draining destination: ActiveConns, plus InActConns for UDP (a UDP "connection" is
 * never active in IPVS, it lives as an inactive entry until its timeout).
 */
export function connectionsOf(service: string, destination: Pick<KernelDestination, "activeConnections" | "inactiveConnections">): number {
  return destination.activeConnections + (service.startsWith("udp:") ? destination.inactiveConnections : 0);
}

export function applyDrain(input: DrainInput): DrainOutput {
  const { now, timeoutMs } = input;
  // The daemon runs this every reconcile: a plan that deletes nothing, with nothing draining, costs nothing more.
  if (input.draining.size === 0 && (input.plan.onlyCreations || !input.plan.changes.some((c) => c.op === "delete-destination" || c.op === "delete-service"))) {
    return { plan: input.plan, draining: new Map(), started: [], ended: [] };
  }
  const drainable = input.drainable ?? (() => true);
  const kernel = new KernelIndex(input.kernel);
  const draining = new Map(input.draining);
  /** Services whose removal was counted (and started draining) in an earlier pass. */
  const removedBefore = new Set([...input.draining.values()].filter((r) => r.serviceRemoved).map((r) => r.service));
  const started: DrainStart[] = [];
  const ended: DrainEnd[] = [];
  const changes: Change[] = [];
  const deleting = new Set<string>();
  const removedServices = new Set<string>();
  let services = 0;
  let destinations = 0;

  const end = (key: string, reason: DrainEndReason, connections: number) => {
    const record = draining.get(key);
    if (!record) return;
    draining.delete(key);
    ended.push({ record, reason, connections });
  };

  /** One removed destination: "delete" now (ending its drain, if any), or "hold" it at weight 0. */
  const decide = (service: string, d: KernelDestination, name: string | undefined, serviceRemoved: boolean): "delete" | "hold" => {
    const key = drainKey(service, formatDestinationKey(d));
    const record = draining.get(key);
    const connections = connectionsOf(service, d);
    if (timeoutMs === 0 || !drainable(kernel.service(service)?.service.address ?? "")) {
      end(key, connections === 0 ? "drained" : "timeout", connections);
      return "delete";
    }
    if (connections === 0) {
      end(key, "drained", connections);
      return "delete";
    }
    if (record) {
      if (now >= record.deadline) {
        end(key, "timeout", connections);
        return "delete";
      }
      if (serviceRemoved && !record.serviceRemoved) draining.set(key, { ...record, serviceRemoved });
      return "hold";
    }
    const fresh: DrainRecord = { service, destination: formatDestinationKey(d), ...(name ? { name } : {}), startedAt: now, deadline: now + timeoutMs, serviceRemoved };
    draining.set(key, fresh);
    started.push({ record: fresh, connections });
    return "hold";
  };

  for (const change of input.plan.changes) {
    if (change.op === "delete-destination" && change.destination) {
      const key = drainKey(change.service, change.destination);
      deleting.add(key);
      const present = kernel.destination(change.service, change.destination);
      const wasDraining = draining.has(key);
      if (!wasDraining) destinations++;
      if (!present || decide(change.service, present, change.name, false) === "delete") {
        changes.push(wasDraining ? { ...change, reason: "drain" } : change);
        continue;
      }
      const zero = weightZero(change.service, kernel.service(change.service)!.service, present, change.name);
      if (zero) changes.push(zero);
      continue;
    }
    if (change.op === "delete-service") {
      removedServices.add(change.service);
      const entry = kernel.service(change.service);
      const wasRemoved = removedBefore.has(change.service);
      if (!wasRemoved) services++;
      if (!entry) {
        changes.push(change);
        continue;
      }
      const updates: Change[] = [];
      const idle: Change[] = [];
      let holding = false;
      for (const d of entry.destinations) {
        const key = drainKey(change.service, formatDestinationKey(d));
        deleting.add(key);
        const wasDraining = draining.has(key);
        if (decide(change.service, d, change.name, true) === "delete") {
          idle.push(deleteDestination(change.service, entry.service, d, wasDraining ? "drain" : change.reason));
          continue;
        }
        holding = true;
        const zero = weightZero(change.service, entry.service, d, change.name);
        if (zero) updates.push(zero);
      }
      if (holding) changes.push(...updates, ...idle);
      else changes.push(wasRemoved ? { ...change, reason: "drain" } : change);
      continue;
    }
    changes.push(change);
  }

  // Records the plan did not touch: the backend is back in the config, or the destination left the kernel.
  for (const [key, record] of [...draining]) {
    if (deleting.has(key)) continue;
    const present = kernel.destination(record.service, record.destination) !== undefined;
    end(key, present && !removedServices.has(record.service) ? "restored" : "gone", 0);
  }

  return { plan: { changes: ordered(changes), removals: { services, destinations } }, draining, started, ended };
}

/** The kernel dump by `PROTO:VIP:PORT` and, per service looked into, by `ADDR:PORT`; built only as far as asked. */
class KernelIndex {
  readonly #services = new Map<string, KernelServiceEntry>();
  readonly #destinations = new Map<string, Map<string, KernelDestination>>();

  constructor(kernel: readonly KernelServiceEntry[]) {
    for (const entry of kernel) if (entry.service.fwmark === 0) this.#services.set(formatServiceKey(entry.service), entry);
  }

  service(id: string): KernelServiceEntry | undefined {
    return this.#services.get(id);
  }

  destination(service: string, destination: string): KernelDestination | undefined {
    let byKey = this.#destinations.get(service);
    if (!byKey) {
      byKey = new Map((this.#services.get(service)?.destinations ?? []).map((d) => [formatDestinationKey(d), d]));
      this.#destinations.set(service, byKey);
    }
    return byKey.get(destination);
  }
}

/** Updates before deletions, deletions of destinations before those of services (as the planner orders them). */
function ordered(changes: Change[]): Change[] {
  const rank = (c: Change) => (c.op === "delete-service" ? 2 : c.op === "delete-destination" ? 1 : 0);
  return changes.map((c, i) => [c, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c);
}

function weightZero(service: string, kernelService: ServiceKey, d: KernelDestination, name: string | undefined): Change | undefined {
  if (d.weight === 0) return undefined;
  const key = serviceKeyOf(kernelService);
  return {
    op: "update-destination",
    service,
    destination: formatDestinationKey(d),
    ...(name ? { name } : {}),
    after: { weight: 0, forward: d.forward },
    before: { weight: d.weight, forward: d.forward },
    reason: "drain",
    operation: { kind: "set-destination", service: key, destination: { ...destinationSettings(d), weight: 0 } },
    previousDestination: d,
  };
}

function deleteDestination(service: string, kernelService: ServiceKey, d: KernelDestination, reason: Change["reason"]): Change {
  const key = serviceKeyOf(kernelService);
  return {
    op: "delete-destination",
    service,
    destination: formatDestinationKey(d),
    before: { weight: d.weight, forward: d.forward },
    reason,
    operation: { kind: "del-destination", service: key, destination: { address: d.address, port: d.port, family: d.family } },
    previousDestination: d,
  };
}

/** The records still draining, for status and metrics: each with its destination's connections now. */
export function drainingView(
  draining: ReadonlyMap<string, DrainRecord>,
  kernel: readonly KernelServiceEntry[],
): (DrainRecord & { activeConnections: number; inactiveConnections: number })[] {
  const byService = new Map<string, KernelServiceEntry>();
  for (const entry of kernel) if (entry.service.fwmark === 0) byService.set(formatServiceKey(entry.service), entry);
  return [...draining.values()].map((record) => {
    const d = byService.get(record.service)?.destinations.find((x) => formatDestinationKey(x) === record.destination);
    return { ...record, activeConnections: d?.activeConnections ?? 0, inactiveConnections: d?.inactiveConnections ?? 0 };
  });
}

/** A draining destination as `apply --json` and the daemon's reload answer list it. */
export interface DrainingJson {
  service: string;
  destination: string;
  name?: string;
  connections: number;
  started_at: string;
  deadline: string;
}

export function drainingJson(view: ReturnType<typeof drainingView>[number]): DrainingJson {
  return {
    service: view.service,
    destination: view.destination,
    ...(view.name ? { name: view.name } : {}),
    connections: connectionsOf(view.service, view),
    started_at: new Date(view.startedAt).toISOString(),
    deadline: new Date(view.deadline).toISOString(),
  };
}
