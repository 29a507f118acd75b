/**
 * Quorum and the sorry server (keepalived's `quorum`, `hysteresis`, `sorry_server`), pure. A service is up while the
 * weights of its live backends add up to its quorum; below it, with a `sorry_server`, the sorry server becomes a
 * destination and the live backends get weight 0 (their connections go on), until the quorum is back. Hysteresis
 * damps flapping: quorum is lost below `quorum - hysteresis` and regained at `quorum + hysteresis`.
 *
 * "Live" is what health and overrides leave a backend (plan/backend-weight.ts), counted at its configured or
 * overridden weight (a slow-start ramp does not count against it): an unhealthy or drained backend adds 0, an
 * adopted or not yet probed one its weight.
 */

import type { LoadedService } from "../config/model.ts";

export interface QuorumRule {
  quorum: number;
  hysteresis: number;
}

/** The service's rule; undefined when it sets neither `quorum` nor `sorry_server` (no tracking). */
export function quorumRule(service: Pick<LoadedService, "quorum" | "quorum_hysteresis" | "sorry_server">): QuorumRule | undefined {
  if (service.quorum === undefined && service.sorry_server === undefined) return undefined;
  return { quorum: service.quorum ?? 1, hysteresis: service.quorum_hysteresis ?? 0 };
}

/** Whether the service is up now, given whether it was (undefined: first evaluation, no hysteresis). */
export function quorumUp(wasUp: boolean | undefined, liveWeight: number, rule: QuorumRule): boolean {
  if (wasUp === undefined) return liveWeight >= rule.quorum;
  return wasUp ? liveWeight >= rule.quorum - rule.hysteresis : liveWeight >= rule.quorum + rule.hysteresis;
}

/** The sum of the live weights (numbers; "kernel" counts as the configured weight it stands for). */
export function liveWeight(weights: Iterable<{ weight: number | "kernel"; configured: number }>): number {
  let sum = 0;
  for (const { weight, configured } of weights) sum += weight === "kernel" ? configured : weight;
  return sum;
}
