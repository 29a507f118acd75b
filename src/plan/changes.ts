/**
 * One planned change to the kernel table: the operation that makes it, and what it replaces, from which the
 * operations that undo it are derived when the kernel refuses a run (undo.ts).
 */

import { ServiceFlag, type DestinationSpec, type IpvsOperation, type KernelDestination, type ServiceKey, type ServiceSpec } from "../ipvs/types.ts";

export type ChangeOp =
  | "create-service"
  | "update-service"
  | "delete-service"
  | "create-destination"
  | "update-destination"
  | "delete-destination";

/**
 * Why a change is made: the config says so, health moved a weight, a removed destination drains, drift, or an
 * operator's override (`lbctl backend`), or a slow-start ramp (`health.slow_start_seconds`).
 */
export type ChangeReason = "config" | "health" | "drain" | "drift" | "override" | "slow-start";

export interface Change {
  op: ChangeOp;
  /** `PROTO:VIP:PORT` */
  service: string;
  /** `ADDR:PORT`, for destination changes. */
  destination?: string;
  /** The config service's name, when the service is in the config. */
  name?: string;
  /** The state the change leads to (what `apply --json` prints). */
  after?: Partial<ServiceSpec & DestinationSpec>;
  /** The kernel's state before, for updates and deletions. */
  before?: Partial<ServiceSpec & DestinationSpec>;
  reason: ChangeReason;
  operation: IpvsOperation;
  /**
   * The destination's settings before an update or a deletion of a destination: what its undo restores. Kept as
   * the planner found them (the kernel dump's own object, not a copy): undo operations are needed only when the
   * kernel refuses a run, so a plan of a large table builds none (undo.ts derives them then).
   */
  previousDestination?: DestinationSpec | KernelDestination;
  /** The service's settings before an update or a deletion of a service (its managed flags only). */
  previousService?: ServiceSpec;
  /** The destinations a deleted service had, recreated by its undo after the service. */
  previousDestinations?: readonly (DestinationSpec | KernelDestination)[];
}

export interface Plan {
  /** May be built on first read (fresh-table.ts): code that needs only the operations reads `operations`. */
  readonly changes: Change[];
  /**
   * The changes' operations, in order, when the planner made them before the changes: a plan for an empty table
   * runs from these, and its change records are built after the kernel work (fresh-table.ts).
   */
  readonly operations?: readonly IpvsOperation[];
  /** Every change creates (nothing is updated or removed): said without building the changes. */
  readonly onlyCreations?: boolean;
  /**
   * What the plan removes, for change limits, when that is not simply its deletions: a drain (plan/drain.ts) counts
   * a removal once, when it starts, not again when the deletion ends it.
   */
  removals?: { services: number; destinations: number };
}

export function countDeletions(plan: Plan): { services: number; destinations: number } {
  if (plan.removals) return plan.removals;
  if (plan.onlyCreations) return { services: 0, destinations: 0 };
  let services = 0;
  let destinations = 0;
  for (const change of plan.changes) {
    if (change.op === "delete-service") services++;
    else if (change.op === "delete-destination") destinations++;
  }
  return { services, destinations };
}

/** The changes' operations, in order, without building the changes when the plan has them already. */
export function planOperations(plan: Plan): readonly IpvsOperation[] {
  return plan.operations ?? plan.changes.map((change) => change.operation);
}

/** Flag bits lbctl sets; `hashed` is the kernel's own. */
export const MANAGED_FLAGS = ServiceFlag.persistent | ServiceFlag.onePacket | ServiceFlag.sched1 | ServiceFlag.sched2 | ServiceFlag.sched3;

/** A service's key alone (an operation on its destinations carries only this). */
export function serviceKeyOf(service: ServiceKey): ServiceKey {
  return { family: service.family, protocol: service.protocol, address: service.address, port: service.port };
}

/** The settings lbctl manages of a service, as its creation or update sends them. */
export function serviceSettings(service: ServiceSpec): ServiceSpec {
  const { family, protocol, address, port, scheduler, flags, timeout, netmask, persistenceEngine } = service;
  return { family, protocol, address, port, scheduler, flags: flags & MANAGED_FLAGS, timeout, netmask, persistenceEngine };
}

/**
 * The destination as it must be recreated (connection counters and stats are the kernel's, not settings). Built
 * field by field, without spreads: a plan of a large table makes one per destination.
 */
export function destinationSettings(destination: DestinationSpec | KernelDestination): DestinationSpec {
  const settings: DestinationSpec = {
    address: destination.address,
    port: destination.port,
    family: destination.family,
    forward: destination.forward,
    weight: destination.weight,
    upperThreshold: destination.upperThreshold,
    lowerThreshold: destination.lowerThreshold,
  };
  if (destination.tunnel) settings.tunnel = destination.tunnel;
  return settings;
}
