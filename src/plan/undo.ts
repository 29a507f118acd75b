/**
 * The operations that undo an accepted change, derived from the change when a run is rolled back: a creation is
 * undone by the deletion its operation names, an update or a deletion by putting back what the change says it
 * replaced. Derived only on a refusal, so planning 25,000 changes builds no undo at all.
 */

import type { IpvsOperation, ServiceKey } from "../ipvs/types.ts";
import { destinationSettings, serviceKeyOf, type Change } from "./changes.ts";

/** A change the executor cannot undo: the planner did not record what it replaced (a planner bug, not the kernel's). */
export class UndoUnknownError extends Error {
  readonly code = "UNDO_UNKNOWN";
  constructor(change: Change) {
    super(`cannot undo ${change.op} ${change.service}${change.destination ? ` ${change.destination}` : ""}: the plan does not say what it replaced`);
    this.name = "UndoUnknownError";
  }
}

/** Operations that restore the state before `change`, in order. */
export function undoOperations(change: Change): IpvsOperation[] {
  const operation = change.operation;
  switch (change.op) {
    case "create-service":
      if (operation.kind !== "new-service") break;
      return [{ kind: "del-service", service: serviceKeyOf(operation.service) }];
    case "create-destination":
      if (operation.kind !== "new-destination") break;
      return [{ kind: "del-destination", service: operation.service, destination: { address: operation.destination.address, port: operation.destination.port, family: operation.destination.family } }];
    case "update-service":
      if (!change.previousService) break;
      return [{ kind: "set-service", service: change.previousService }];
    case "update-destination":
      if (operation.kind !== "set-destination" || !change.previousDestination) break;
      return [{ kind: "set-destination", service: operation.service, destination: destinationSettings(change.previousDestination) }];
    case "delete-destination":
      if (operation.kind !== "del-destination" || !change.previousDestination) break;
      return [{ kind: "new-destination", service: operation.service, destination: destinationSettings(change.previousDestination) }];
    case "delete-service": {
      if (operation.kind !== "del-service" || !change.previousService) break;
      const key = operation.service;
      const undo: IpvsOperation[] = [{ kind: "new-service", service: change.previousService }];
      for (const d of change.previousDestinations ?? []) undo.push({ kind: "new-destination", service: key, destination: destinationSettings(d) });
      return undo;
    }
  }
  throw new UndoUnknownError(change);
}

