/** Change limits (config.md): guards against a config mistake that would tear down traffic. */

import { countDeletions, type Change, type Plan } from "./changes.ts";

export interface ChangeLimits {
  max_services_deleted: number;
  max_destinations_deleted: number;
}

export interface LimitHit {
  name: keyof ChangeLimits;
  limit: number;
  planned: number;
}

/**
 * The first limit the plan exceeds, if any. Deleting exactly the limit is allowed. `exempt` deletions do not count:
 * those another source of truth decided (a Kubernetes Service deleted, a node gone), not a config edit.
 */
export function exceededLimit(plan: Plan, limits: ChangeLimits, exempt?: (change: Change) => boolean, planned: Plan = plan): LimitHit | undefined {
  const deleted = { ...countDeletions(plan) };
  if (exempt) {
    // `planned` is the plan before the drain pass turned deletions into weight-0 updates: its deletions say which
    // removals are exempt, and they come off the count (which the drain pass may have set in `removals`).
    const excused = countDeletions({ changes: planned.changes.filter(exempt) });
    deleted.services = Math.max(0, deleted.services - excused.services);
    deleted.destinations = Math.max(0, deleted.destinations - excused.destinations);
  }
  if (deleted.services > limits.max_services_deleted) {
    return { name: "max_services_deleted", limit: limits.max_services_deleted, planned: deleted.services };
  }
  if (deleted.destinations > limits.max_destinations_deleted) {
    return { name: "max_destinations_deleted", limit: limits.max_destinations_deleted, planned: deleted.destinations };
  }
  return undefined;
}
