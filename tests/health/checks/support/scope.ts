/** What the check tests share: a probe-target factory per check type, and the per-test release of what they start. */

import { afterEach } from "bun:test";
import type { HealthFile, ProbeTarget } from "../../../../src/health/types.ts";
import type { Watched } from "./monitor.ts";
import type { Peer } from "./peers.ts";

/** A target factory for one check type: `base` settings, overridden per test, on loopback unless told otherwise. */
export function targetFor(base: HealthFile): (port: number, health?: Partial<HealthFile>, address?: string) => ProbeTarget {
  return (port, health = {}, address = "127.0.0.1") => ({ address, port, family: address.includes(":") ? 6 : 4, health: { ...base, ...health } });
}

export interface CheckScope {
  peers: Peer[];
  cleanups: Array<() => void>;
  watched: Watched | undefined;
}

/** Registers the release after each test: the watched monitor, then the peers, then any other cleanup. */
export function checkScope(): CheckScope {
  const scope: CheckScope = { peers: [], cleanups: [], watched: undefined };
  afterEach(async () => {
    await scope.watched?.stop();
    scope.watched = undefined;
    await Promise.all(scope.peers.splice(0).map((peer) => peer.stop()));
    for (const cleanup of scope.cleanups.splice(0)) cleanup();
  });
  return scope;
}
