/**
 * The health path of the planner: a verdict on one backend becomes a plan that sets the weight of that backend's
 * destinations on every port of its service, and nothing else. Pure: the kernel's destinations come as last known
 * (the daemon's view of the table, no read), so the plan carries the true previous weight and an undo, and runs
 * through the same executor (execute.ts) as every other plan.
 */

import type { Config, LoadedService } from "../config/model.ts";
import type { KernelDestination } from "../ipvs/types.ts";
import { type Change, type Plan } from "./changes.ts";
import { desiredServices, type DesiredOptions, type WeightOf } from "./desired.ts";
import { overriddenWeight, type BackendOverride } from "./overrides.ts";

/** What the planner knows of a backend's health, for the one rule that turns it into a weight. */
export interface BackendHealth {
  /** Health checks are enabled for the backend's service. */
  checked: boolean;
  state: "unknown" | "healthy" | "unhealthy";
  /** The daemon adopted the backend's destinations from the kernel at start and has not probed it yet. */
  adopting: boolean;
  /** The weight the backend's check reported with its last passing probe (http `http_weight_header`). */
  reportedWeight?: number | undefined;
}

/**
 * The one health→weight rule: 0 while UNHEALTHY (the destination stays, so established connections live on); the
 * kernel's weight while an adopted backend awaits its first probe (a restart neither drains a healthy backend nor
 * feeds an unhealthy one); the configured weight otherwise, UNKNOWN included, so a reload never drains a backend
 * before it has been probed. A HEALTHY backend whose check reports a weight (http_weight_header: kube-proxy's count
 * of local endpoints) gets that weight instead of the configured one.
 */
export function healthWeight(health: BackendHealth, configuredWeight: number): number | "kernel" {
  if (!health.checked) return configuredWeight;
  if (health.state === "unhealthy") return 0;
  if (health.state === "unknown" && health.adopting) return "kernel";
  if (health.state === "healthy" && health.reportedWeight !== undefined) return health.reportedWeight;
  return configuredWeight;
}

/**
 * The weight of a backend from its configured weight, its health and an operator's override (plan/overrides.ts has
 * the precedence): health first, then the override on top, which never revives a backend health says is down
 * unless it was made with `force`.
 */
export function backendWeight(health: BackendHealth, configuredWeight: number, override: Pick<BackendOverride, "weight" | "force"> | undefined): number | "kernel" {
  const base = healthWeight(health, configuredWeight);
  return overriddenWeight(base, health.checked && health.state === "unhealthy", override);
}

export interface BackendWeightRequest {
  config: Pick<Config, "main">;
  service: LoadedService;
  /** The backend key (config.md) whose destinations change. */
  backend: string;
  weightOf: WeightOf;
  /** Only services on these VIPs (held VIPs under cold standby). */
  includeVip?: DesiredOptions["includeVip"];
  /** The kernel's destinations of a virtual service (`PROTO:VIP:PORT`) as last known; undefined when it has none. */
  known: (virtualService: string) => readonly KernelDestination[] | undefined;
  /** Why the weight moves, for the audit record: a health verdict (the default) or an operator's override. */
  reason?: "health" | "override";
}

export interface BackendWeightPlan extends Plan {
  /** Destinations of the backend the kernel does not have (removed behind our back): only a converge can create them. */
  missing: number;
}

export function planBackendWeight(request: BackendWeightRequest): BackendWeightPlan {
  const changes: Change[] = [];
  let missing = 0;
  const desired = desiredServices(
    { main: request.config.main, services: [request.service] },
    { weightOf: request.weightOf, ...(request.includeVip ? { includeVip: request.includeVip } : {}) },
  );
  for (const virtual of desired) {
    const wanted = virtual.destinations.find((d) => d.backend === request.backend);
    if (!wanted || wanted.keepKernelWeight) continue;
    const current = request.known(virtual.id)?.find((d) => d.address === wanted.address && d.port === wanted.port);
    if (!current) {
      missing++;
      continue;
    }
    if (current.weight === wanted.weight) continue;
    const key = { family: virtual.family, protocol: virtual.protocol, address: virtual.address, port: virtual.port };
    const { id: _id, backend: _backend, configuredWeight: _configured, keepKernelWeight: _keep, ...settings } = wanted;
    changes.push({
      op: "update-destination",
      service: virtual.id,
      destination: wanted.id,
      name: virtual.name,
      before: { weight: current.weight, forward: current.forward },
      after: { weight: wanted.weight, forward: wanted.forward },
      reason: request.reason ?? "health",
      operation: { kind: "set-destination", service: key, destination: settings },
      previousDestination: current,
    });
  }
  return { changes, missing };
}
