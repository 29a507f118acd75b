/**
 * The check types this build can run. Extension point: a new type is one file in this folder exporting a Checker,
 * plus one line in BUILTIN below (docs/health-checks.md, docs/udp-health-checks.md).
 *
 * A type that is missing here is refused when checks are (re)configured, with UnsupportedCheckError, instead of being
 * run as a check that always fails: a silent failure would drain every backend of the service.
 */

import { CHECK_TYPES } from "../../config/schema/health.ts";
import { UnsupportedCheckError } from "../errors.ts";
import type { CheckType, Checker, HealthTarget } from "../types.ts";
import { httpChecker } from "./http.ts";
import { createTcpChecker } from "./tcp.ts";
import { createUdpDnsChecker } from "./udp-dns.ts";
import { createUdpEchoChecker } from "./udp-echo.ts";
import { udpNtpChecker } from "./udp-ntp.ts";
import { udpSipChecker } from "./udp-sip.ts";

/**
 * How each built-in checker is made: a checker that remembers something (tcp, and udp_echo and udp_dns their prepared
 * requests) is made afresh for each monitor.
 */
const BUILTIN: Partial<Record<CheckType, () => Checker>> = {
  tcp: createTcpChecker,
  udp_echo: createUdpEchoChecker,
  udp_dns: createUdpDnsChecker,
  udp_sip: () => udpSipChecker,
  udp_ntp: () => udpNtpChecker,
  http: () => httpChecker,
};

/** Finds the checker of a type; `undefined` when it is not available. Tests inject their own. */
export type CheckerLookup = (type: CheckType) => Checker | undefined;

/** A lookup of the checks this build has, each made on first use and then kept by this lookup (one per monitor). */
export function builtinCheckers(): CheckerLookup {
  const made = new Map<CheckType, Checker>();
  return (type) => {
    let checker = made.get(type);
    if (checker === undefined) {
      checker = BUILTIN[type]?.();
      if (checker !== undefined) made.set(type, checker);
    }
    return checker;
  };
}

export function availableCheckTypes(lookup?: CheckerLookup): CheckType[] {
  return CHECK_TYPES.filter((type) => (lookup ? lookup(type) : BUILTIN[type]) !== undefined);
}

/** The checker of `type`; throws UnsupportedCheckError when this build has none. */
export function checkerFor(type: CheckType, lookup: CheckerLookup = builtinCheckers()): Checker {
  const checker = lookup(type);
  if (checker === undefined) throw new UnsupportedCheckError([{ type, services: [] }], availableCheckTypes(lookup));
  return checker;
}

/**
 * The checkers `targets` need, by type. Throws one UnsupportedCheckError naming every missing type and the services
 * that use it, so the daemon can refuse a config (at start or reload) before it changes anything.
 */
export function resolveCheckers(
  targets: ReadonlyArray<Pick<HealthTarget, "service" | "health">>,
  lookup: CheckerLookup = builtinCheckers(),
): Map<CheckType, Checker> {
  const found = new Map<CheckType, Checker>();
  const missing = new Map<CheckType, Set<string>>();
  for (const { service, health } of targets) {
    if (found.has(health.type)) continue;
    const checker = lookup(health.type);
    if (checker !== undefined) found.set(health.type, checker);
    else missing.set(health.type, (missing.get(health.type) ?? new Set()).add(service));
  }
  if (missing.size > 0) {
    const list = [...missing].map(([type, services]) => ({ type, services: [...services].sort() }));
    throw new UnsupportedCheckError(list, availableCheckTypes(lookup));
  }
  return found;
}
