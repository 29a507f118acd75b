/** GET /v1/status: the kernel as the daemon sees it, joined with the running config, live health and VIP gating. */

import { targetId } from "../health/target-key.ts";
import type { HealthChecks } from "./controller.ts";
import type { Controller } from "./controller.ts";
import { desiredServices } from "../plan/desired.ts";
import { statusView, type StatusView } from "../plan/status.ts";

export function daemonStatus(controller: Controller, health: Pick<HealthChecks, "state">, options: { stats: boolean }): StatusView {
  const config = controller.config;
  const byName = new Map(config.services.map((s) => [s.name, s]));
  const drains = new Map(controller.draining().map((d) => [`${d.service}>${d.destination}`, d]));
  const view = statusView(desiredServices(config, { weightOf: controller.weightOf, sorryServer: (service) => controller.sorryActive(service) }), controller.kernel(), {
    daemon: true,
    stats: options.stats,
    isManagedVip: (address) => controller.managedVips.has(address),
    draining: (service, destination) => drains.get(`${service}>${destination}`),
    override: (service, backend) => controller.override(service, backend),
    slowStart: (service, backend) => controller.slowStartRemaining(service, backend),
    health: (service, backend) => {
      if (!byName.get(service)?.health.enabled) return "disabled";
      return health.state(targetId({ service, backend }))?.state ?? "unknown";
    },
  });
  const vips = [...controller.managedVips].sort().map((vip) => ({ vip, held: controller.heldVips.has(vip) }));
  return { daemon: view.daemon, vips, services: view.services };
}
