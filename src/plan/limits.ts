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
export function exceededLimit(plan: Plan, limits: ChangeLimits, exempt?: (change: Change) => boolean): LimitHit | undefined {
  const deleted = countDeletions(exempt ? { changes: plan.changes.filter((change) => !exempt(change)) } : plan);
  if (deleted.services > limits.max_services_deleted) {
    return { name: "max_services_deleted", limit: limits.max_services_deleted, planned: deleted.services };
  }
  if (deleted.destinations > limits.max_destinations_deleted) {
    return { name: "max_destinations_deleted", limit: limits.max_destinations_deleted, planned: deleted.destinations };
  }
  return undefined;
}
