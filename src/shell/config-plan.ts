/**
 * The kernel changes a config change implies when the kernel runs the old config exactly: the plan `commit` and
 * `lbctl edit` show when no daemon runs (with a daemon, its own dry run is shown instead: it knows the kernel and
 * the health weights). Pure.
 */

import { configuredVips, type Config } from "../config/model.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { Change } from "../plan/changes.ts";
import { desiredServices } from "../plan/desired.ts";
import { planChanges } from "../plan/diff.ts";

export function configPlan(before: Pick<Config, "main" | "services">, after: Pick<Config, "main" | "services">): Change[] {
  const kernel: KernelServiceEntry[] = desiredServices(before).map(({ id: _id, name: _name, destinations, ...service }) => ({
    service: { ...service, fwmark: 0 },
    destinations: destinations.map(({ id: _d, backend: _b, configuredWeight: _w, keepKernelWeight: _k, ...destination }) => ({
      ...destination,
      activeConnections: 0,
      inactiveConnections: 0,
      persistentConnections: 0,
    })),
  }));
  const vips = new Set([...configuredVips(before), ...configuredVips(after)]);
  return planChanges(desiredServices(after), kernel, { isManagedVip: (address) => vips.has(address) }).changes;
}
