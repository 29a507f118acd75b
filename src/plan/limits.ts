/** Change limits (config.md): guards against a config mistake that would tear down traffic. */

import { countDeletions, type Plan } from "./changes.ts";

export interface ChangeLimits {
  max_services_deleted: number;
  max_destinations_deleted: number;
}

export interface LimitHit {
  name: keyof ChangeLimits;
  limit: number;
  planned: number;
}

/** The first limit the plan exceeds, if any. Deleting exactly the limit is allowed. */
export function exceededLimit(plan: Plan, limits: ChangeLimits): LimitHit | undefined {
  const deleted = countDeletions(plan);
  if (deleted.services > limits.max_services_deleted) {
    return { name: "max_services_deleted", limit: limits.max_services_deleted, planned: deleted.services };
  }
  if (deleted.destinations > limits.max_destinations_deleted) {
    return { name: "max_destinations_deleted", limit: limits.max_destinations_deleted, planned: deleted.destinations };
  }
  return undefined;
}
