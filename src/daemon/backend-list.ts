/** GET /v1/backends: every configured backend with its weights, health and override, and overrides left orphaned. */

import { formatServiceKey } from "../ipvs/identity.ts";
import { desiredServices } from "../plan/desired.ts";
import type { HealthLabel } from "../plan/status.ts";
import type { BackendOverride } from "../plan/overrides.ts";
import { targetId } from "../health/target-key.ts";
import type { Controller, HealthChecks } from "./controller.ts";

export interface BackendRow {
  service: string;
  backend: string;
  /** null for an override of a backend the running config does not have. */
  configured_weight: number | null;
  /** The weight in the kernel now (of its first destination); null when the kernel has none. */
  weight: number | null;
  health: HealthLabel;
  override: BackendOverride | null;
  /** False for an override whose backend (or service) is not in the running config: it applies if it comes back. */
  in_config: boolean;
}

export interface BackendListing {
  backends: BackendRow[];
}

export function daemonBackends(controller: Controller, health: Pick<HealthChecks, "state">): BackendListing {
  const config = controller.config;
  const kernel = new Map(controller.kernel().filter((e) => e.service.fwmark === 0).map((e) => [formatServiceKey(e.service), e.destinations]));
  const rows = new Map<string, BackendRow>();
  for (const service of desiredServices(config)) {
    const checked = config.services.find((s) => s.name === service.name)?.health.enabled ?? false;
    for (const d of service.destinations) {
      const key = `${service.name}\u0000${d.backend}`;
      const actual = kernel.get(service.id)?.find((k) => k.address === d.address && k.port === d.port);
      const existing = rows.get(key);
      if (existing) {
        if (existing.weight === null && actual) existing.weight = actual.weight;
        continue;
      }
      rows.set(key, {
        service: service.name,
        backend: d.backend,
        configured_weight: d.configuredWeight,
        weight: actual ? actual.weight : null,
        health: checked ? (health.state(targetId({ service: service.name, backend: d.backend }))?.state ?? "unknown") : "disabled",
        override: controller.override(service.name, d.backend) ?? null,
        in_config: true,
      });
    }
  }
  for (const override of controller.overrides) {
    const key = `${override.service}\u0000${override.backend}`;
    if (!rows.has(key)) {
      rows.set(key, { service: override.service, backend: override.backend, configured_weight: null, weight: null, health: "unknown", override, in_config: false });
    }
  }
  return { backends: [...rows.values()] };
}
