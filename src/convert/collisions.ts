/** `--config`: converted services checked against the services already configured (names, protocol/VIP/port). Pure. */

import { servicePorts, serviceVip, type Config } from "../config/model.ts";
import type { ConvertedService } from "./draft.ts";

export interface Collision {
  service: string;
  message: string;
}

/** `replaced`: service files the conversion will overwrite (--force); their services do not count. */
export function findCollisions(config: Config, converted: readonly ConvertedService[], replaced: ReadonlySet<string>): Collision[] {
  const collisions: Collision[] = [];
  const existing = config.services.filter((s) => !replaced.has(s.source.file));
  const byName = new Map(existing.map((s) => [s.name, s]));
  const byKey = new Map<string, (typeof existing)[number]>();
  for (const s of existing) for (const port of servicePorts(s)) byKey.set(`${s.protocol}|${serviceVip(config.main, s)}|${port}`, s);
  for (const { service } of converted) {
    const same = byName.get(service.name);
    if (same) collisions.push({ service: service.name, message: `the name ${service.name} is already used by the service in ${same.source.file}` });
    const vip = service.vip ?? config.main.network.frontend.vip;
    const ports = servicePorts({ ports: service.ports.map((p) => ({ start: p, end: p })), port_ranges: service.port_ranges });
    for (const port of ports) {
      const owner = byKey.get(`${service.protocol}|${vip}|${port}`);
      if (owner) {
        collisions.push({ service: service.name, message: `${service.protocol} ${vip} port ${port} is already served by ${owner.name} in ${owner.source.file}` });
        break;
      }
    }
  }
  return collisions;
}
