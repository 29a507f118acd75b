/**
 * The diff between desired state and the kernel, for the managed VIPs only. Everything on a managed VIP is
 * lbctl's (a stale virtual service there is removed); anything on another address, and every fwmark service, is
 * foreign and never touched. Settings change in place: a scheduler, flag or weight change never deletes and
 * recreates, because that drops connections.
 */

import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import { ServiceFlag, type KernelDestination, type KernelService, type KernelServiceEntry, type ServiceKey, type ServiceSpec } from "../ipvs/types.ts";
import { destinationSettings, MANAGED_FLAGS, serviceKeyOf as keyOf, serviceSettings, type Change, type ChangeReason, type Plan } from "./changes.ts";
import type { DesiredDestination, DesiredService } from "./desired.ts";
import { freshTablePlan } from "./fresh-table.ts";

/** What to do with a destination that left the config: delete it now, or drain it (weight 0) first. */
export type RemovalPolicy = (service: KernelService, destination: KernelDestination) => "delete" | "drain";

export interface DiffOptions {
  /** Whether an address is a managed VIP (config.md: config VIPs plus those recorded from earlier runs). */
  isManagedVip: (address: string) => boolean;
  removal?: RemovalPolicy;
  /** Reason recorded on changes that are not deletions of config-removed objects (e.g. "drift" for repairs). */
  reason?: ChangeReason;
  /** Reason for a weight-only destination update, e.g. "health" when the health overlay moved it. */
  weightReason?: (desired: DesiredDestination) => ChangeReason;
}

export function planChanges(desired: readonly DesiredService[], kernel: readonly KernelServiceEntry[], options: DiffOptions): Plan {
  const reason = options.reason ?? "config";
  const removal = options.removal ?? (() => "delete");
  const owned = new Map<string, KernelServiceEntry>();
  for (const entry of kernel) {
    if (entry.service.fwmark !== 0 || !options.isManagedVip(entry.service.address)) continue;
    owned.set(formatServiceKey(entry.service), entry);
  }

  // A table holding none of the managed services (a first start): every change creates, in a plan whose change
  // records are built only when read, after the kernel work (fresh-table.ts).
  if (owned.size === 0) return freshTablePlan(desired, reason);

  const createServices: Change[] = [];
  const updateServices: Change[] = [];
  const upsertDestinations: Change[] = [];
  const deleteDestinations: Change[] = [];
  const deleteServices: Change[] = [];

  const wanted = new Set<string>();
  for (const service of desired) {
    wanted.add(service.id);
    const current = owned.get(service.id);
    // One key object for every operation on this service's destinations (operations are read, never changed).
    const key = keyOf(service);
    if (!current) {
      // One settings object serves as the state after and the operation's (both are read, never changed).
      const settings = serviceSettings(service);
      createServices.push({ op: "create-service", service: service.id, name: service.name, after: settings, reason, operation: { kind: "new-service", service: settings } });
      for (const destination of service.destinations) upsertDestinations.push(createDestination(service, key, destination, reason));
      continue;
    }
    if (serviceDiffers(service, current.service)) {
      const settings = serviceSettings(service);
      const previous = serviceSettings(current.service);
      updateServices.push({
        op: "update-service",
        service: service.id,
        name: service.name,
        after: settings,
        before: previous,
        reason,
        operation: { kind: "set-service", service: settings },
        previousService: previous,
      });
    }
    const existing = new DestinationIndex(current.destinations);
    for (const wanted of service.destinations) {
      const present = existing.take(wanted.address, wanted.port);
      const destination = present && wanted.keepKernelWeight ? { ...wanted, weight: present.weight } : wanted;
      if (!present) {
        upsertDestinations.push(createDestination(service, key, destination, reason));
      } else if (destinationDiffers(destination, present)) {
        const weightOnly = destinationDiffers(destination, { ...present, weight: destination.weight }) === false;
        upsertDestinations.push({
          op: "update-destination",
          service: service.id,
          destination: destination.id,
          name: service.name,
          after: destinationAfter(destination),
          before: destinationAfter(present),
          reason: weightOnly && options.weightReason ? options.weightReason(destination) : reason,
          operation: { kind: "set-destination", service: key, destination: destinationSettings(destination) },
          previousDestination: present,
        });
      }
    }
    for (const leftover of existing.rest()) {
      const change = removeDestination(service, key, current.service, formatDestinationKey(leftover), leftover, removal, reason);
      if (change) (change.op === "delete-destination" ? deleteDestinations : upsertDestinations).push(change);
    }
  }

  for (const [id, entry] of owned) {
    if (wanted.has(id)) continue;
    const previous = serviceSettings(entry.service);
    deleteServices.push({
      op: "delete-service",
      service: id,
      before: previous,
      reason,
      operation: { kind: "del-service", service: keyOf(entry.service) },
      previousService: previous,
      // A copy: the list is the dump's, which a state cache may edit in place once the plan has run.
      previousDestinations: [...entry.destinations],
    });
  }

  // Creations first, so traffic has somewhere to go; deletions last, destinations before services.
  return { changes: concatenated([createServices, updateServices, upsertDestinations, deleteDestinations, deleteServices]) };
}

/** The lists one after the other, in one array sized once (a start-up plan is 25,000 changes). */
function concatenated(lists: readonly Change[][]): Change[] {
  let length = 0;
  for (const list of lists) length += list.length;
  const out: Change[] = new Array(length);
  let at = 0;
  for (const list of lists) for (let i = 0; i < list.length; i++) out[at++] = list[i]!;
  return out;
}

/**
 * A service's kernel destinations by address and port, without building a string key per destination: on a
 * no-op plan of tens of thousands of destinations, that string building was the planner's main cost. A service
 * with a few destinations (the usual: one per backend) is searched in place, with a bit per destination taken, so
 * that planning thousands of services allocates next to nothing per service. A longer list is indexed by address,
 * each address holding a short list (one destination per backend port, usually one); a long one (one host, many
 * ports) gets a port map, so that the lookup never grows with the number of destinations on one address.
 */
class DestinationIndex {
  static readonly #SHORT = 8;
  /** Bits of the destinations taken, while `all` is short enough to be searched in place. */
  #takenBits = 0;
  #byAddress: Map<string, KernelDestination[]> | undefined;
  #byPort: Map<string, Map<number, KernelDestination>> | undefined;
  #taken: Set<KernelDestination> | undefined;

  constructor(readonly all: readonly KernelDestination[]) {
    if (all.length <= DestinationIndex.#SHORT) return;
    const byAddress = new Map<string, KernelDestination[]>();
    for (const destination of all) {
      const list = byAddress.get(destination.address);
      if (list) list.push(destination);
      else byAddress.set(destination.address, [destination]);
    }
    this.#byAddress = byAddress;
    this.#taken = new Set();
  }

  take(address: string, port: number): KernelDestination | undefined {
    const byAddress = this.#byAddress;
    if (byAddress === undefined) {
      const all = this.all;
      for (let i = 0; i < all.length; i++) {
        const destination = all[i]!;
        if (destination.port === port && destination.address === address) {
          this.#takenBits |= 1 << i;
          return destination;
        }
      }
      return undefined;
    }
    const list = byAddress.get(address);
    if (!list) return undefined;
    const found = list.length <= DestinationIndex.#SHORT ? list.find((d) => d.port === port) : this.#ports(address, list).get(port);
    if (found) this.#taken!.add(found);
    return found;
  }

  rest(): KernelDestination[] {
    const all = this.all;
    if (this.#byAddress === undefined) {
      if (this.#takenBits === (1 << all.length) - 1) return [];
      return all.filter((_d, i) => (this.#takenBits & (1 << i)) === 0);
    }
    const taken = this.#taken!;
    return taken.size === all.length ? [] : all.filter((d) => !taken.has(d));
  }

  #ports(address: string, list: readonly KernelDestination[]): Map<number, KernelDestination> {
    this.#byPort ??= new Map();
    let ports = this.#byPort.get(address);
    if (!ports) this.#byPort.set(address, (ports = new Map(list.map((d) => [d.port, d]))));
    return ports;
  }
}

/** A creation: its settings object is the state after and the operation's (read, never changed). */
function createDestination(service: DesiredService, key: ServiceKey, destination: DesiredDestination, reason: ChangeReason): Change {
  const settings = destinationSettings(destination);
  return {
    op: "create-destination",
    service: service.id,
    destination: destination.id,
    name: service.name,
    after: settings,
    reason,
    operation: { kind: "new-destination", service: key, destination: settings },
  };
}

function removeDestination(
  service: DesiredService,
  key: ServiceKey,
  kernelService: KernelService,
  id: string,
  destination: KernelDestination,
  removal: RemovalPolicy,
  reason: ChangeReason,
): Change | undefined {
  if (removal(kernelService, destination) === "drain") {
    if (destination.weight === 0) return undefined;
    const drained = { ...destinationSettings(destination), weight: 0 };
    return {
      op: "update-destination",
      service: service.id,
      destination: id,
      name: service.name,
      after: { weight: 0, forward: destination.forward },
      before: { weight: destination.weight, forward: destination.forward },
      reason: "drain",
      operation: { kind: "set-destination", service: key, destination: drained },
      previousDestination: destination,
    };
  }
  return {
    op: "delete-destination",
    service: service.id,
    destination: id,
    name: service.name,
    before: { weight: destination.weight, forward: destination.forward },
    reason,
    operation: { kind: "del-destination", service: key, destination: { address: destination.address, port: destination.port, family: destination.family } },
    previousDestination: destination,
  };
}

export function serviceDiffers(desired: ServiceSpec, kernel: ServiceSpec): boolean {
  if (desired.scheduler !== kernel.scheduler) return true;
  if ((desired.flags & MANAGED_FLAGS) !== (kernel.flags & MANAGED_FLAGS)) return true;
  if (desired.persistenceEngine !== kernel.persistenceEngine) return true;
  const persistent = (desired.flags & ServiceFlag.persistent) !== 0;
  return persistent && (desired.timeout !== kernel.timeout || desired.netmask !== kernel.netmask);
}

export function destinationDiffers(desired: DesiredDestination | KernelDestination, kernel: KernelDestination): boolean {
  return (
    desired.weight !== kernel.weight ||
    desired.forward !== kernel.forward ||
    desired.upperThreshold !== kernel.upperThreshold ||
    desired.lowerThreshold !== kernel.lowerThreshold ||
    (desired.tunnel?.type ?? "ipip") !== (kernel.tunnel?.type ?? "ipip") ||
    (desired.tunnel?.port ?? 0) !== (kernel.tunnel?.port ?? 0)
  );
}

function destinationAfter(destination: DesiredDestination | KernelDestination): Change["after"] {
  return { weight: destination.weight, forward: destination.forward };
}
