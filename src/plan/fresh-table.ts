/**
 * The plan for a table that holds none of the managed services (a daemon's first start, a first apply): every
 * change creates. Its operations are built at once, in the planner's order (every service, then every
 * destination), and its change records only when first read: a start on an empty table sends the operations to the
 * kernel first and builds the 25,000 records of a large config after the table is programmed, off the path that
 * decides when traffic can flow.
 */

import type { IpvsOperation } from "../ipvs/types.ts";
import { destinationSettings, MANAGED_FLAGS, serviceKeyOf, serviceSettings, type Change, type ChangeReason, type Plan } from "./changes.ts";
import type { DesiredService } from "./desired.ts";

export function freshTablePlan(desired: readonly DesiredService[], reason: ChangeReason): Plan {
  let count = desired.length;
  for (const service of desired) count += service.destinations.length;
  const operations: IpvsOperation[] = new Array(count);
  let at = 0;
  // The operations carry the desired objects themselves, no copies of their settings: the encoder reads only the
  // settings' fields, and the objects are read, never changed. The records' `after` copies are built with them.
  // A service with flag bits lbctl does not manage (a hand-edited snapshot) is sent its settings, masked, as the
  // general planner sends them.
  for (const service of desired) operations[at++] = { kind: "new-service", service: (service.flags & ~MANAGED_FLAGS) === 0 ? service : serviceSettings(service) };
  for (const service of desired) {
    // One key object for every operation on this service's destinations.
    const key = serviceKeyOf(service);
    for (const destination of service.destinations) operations[at++] = { kind: "new-destination", service: key, destination };
  }
  let changes: Change[] | undefined;
  return {
    operations,
    onlyCreations: true,
    get changes(): Change[] {
      changes ??= changeRecords(desired, operations, reason);
      return changes;
    },
  };
}

/** The records of the operations, each with the settings it creates as its state after. */
function changeRecords(desired: readonly DesiredService[], operations: readonly IpvsOperation[], reason: ChangeReason): Change[] {
  const changes: Change[] = new Array(operations.length);
  let at = 0;
  for (const service of desired) {
    const operation = operations[at]!;
    changes[at++] = { op: "create-service", service: service.id, name: service.name, after: serviceSettings(service), reason, operation };
  }
  for (const service of desired) {
    for (const destination of service.destinations) {
      const operation = operations[at] as Extract<IpvsOperation, { kind: "new-destination" }>;
      changes[at++] = {
        op: "create-destination",
        service: service.id,
        destination: destination.id,
        name: service.name,
        after: destinationSettings(destination),
        reason,
        operation,
      };
    }
  }
  return changes;
}
