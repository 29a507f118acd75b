/**
 * Which services are below quorum (plan/quorum.ts has the rule), kept between evaluations for hysteresis, with
 * each loss and return reported as an event (audit `quorum_lost`/`quorum_regained`, `lbctl_service_quorum`).
 */

import { backendKey, servicePorts, type Config, type LoadedService } from "../config/model.ts";
import { formatEndpoint } from "../ipvs/identity.ts";
import type { EventSink } from "../observability/events.ts";
import type { WeightOf } from "../plan/desired.ts";
import { liveWeight, quorumRule, quorumUp, type QuorumRule } from "../plan/quorum.ts";

export interface QuorumVerdict {
  up: boolean;
  live: number;
  rule: QuorumRule;
}

export type QuorumView = ReadonlyMap<string, QuorumVerdict>;

export class QuorumStates {
  #view: Map<string, QuorumVerdict> = new Map();

  constructor(private readonly events: EventSink) {}

  get view(): QuorumView {
    return this.#view;
  }

  /** True while `service` has a sorry server and is below quorum: its backends get 0, the sorry server traffic. */
  sorryActive(service: Pick<LoadedService, "name" | "sorry_server">, view: QuorumView = this.#view): boolean {
    return service.sorry_server !== undefined && view.get(service.name)?.up === false;
  }

  /**
   * The verdicts for `services` (those with a rule) from `weightOf` (health and overrides, without quorum), starting
   * from the current view (hysteresis). Does not change the view: commit does.
   */
  evaluate(services: readonly LoadedService[], weightOf: WeightOf, base: QuorumView = this.#view): Map<string, QuorumVerdict> {
    const next = new Map<string, QuorumVerdict>();
    for (const service of services) {
      const rule = quorumRule(service);
      if (!rule) continue;
      const lowest = servicePorts(service)[0] ?? 0;
      const seen = new Set<string>();
      const weights: { weight: number | "kernel"; configured: number }[] = [];
      for (const backend of service.backends) {
        const key = backendKey(backend, lowest);
        if (seen.has(key)) continue;
        seen.add(key);
        weights.push({ weight: weightOf(service, key, backend.weight), configured: backend.weight });
      }
      const live = liveWeight(weights);
      next.set(service.name, { up: quorumUp(base.get(service.name)?.up, live, rule), live, rule });
    }
    return next;
  }

  /**
   * Makes `next` the view: for every service in `scope` (all when absent) its verdict is replaced (or dropped when it
   * has none). Reports every loss and return; returns the names of services whose state changed.
   */
  commit(next: ReadonlyMap<string, QuorumVerdict>, config: Pick<Config, "services">, scope?: ReadonlySet<string>): string[] {
    const view = new Map(scope ? this.#view : []);
    for (const name of scope ?? []) view.delete(name);
    const changed: string[] = [];
    const byName = new Map(config.services.map((s) => [s.name, s]));
    for (const [name, verdict] of next) {
      if (scope && !scope.has(name)) continue;
      view.set(name, verdict);
      const was = this.#view.get(name)?.up ?? true;
      if (was === verdict.up) continue;
      changed.push(name);
      const sorry = byName.get(name)?.sorry_server;
      this.events.emit({
        type: "quorum",
        service: name,
        up: verdict.up,
        liveWeight: verdict.live,
        quorum: verdict.rule.quorum,
        hysteresis: verdict.rule.hysteresis,
        ...(sorry ? { sorryServer: formatEndpoint(sorry.address, sorry.port) } : {}),
      });
    }
    this.#view = view;
    return changed;
  }
}
