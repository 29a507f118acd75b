/**
 * The case every check type shares: a backend healthy through the real monitor goes unhealthy once its peer stops,
 * on exactly the fail_after-th failed probe, within a bound counted in intervals.
 */

import { expect, test } from "bun:test";
import type { Patch } from "../../../support/load-helpers.ts";
import { watchBackend, type Watched } from "./monitor.ts";
import type { Peer } from "./peers.ts";
import type { CheckScope } from "./scope.ts";

const INTERVAL_MS = 300;
const FAIL_AFTER = 3;
/**
 * The first failed probe comes within one interval of the stop and each further one an interval later, so the
 * fail_after-th lands within fail_after intervals. Three more intervals of margin absorb a loaded machine (a stalled
 * event loop delays ticks; the scheduler then skips them rather than bursting); beyond that something is wrong.
 */
const MARGIN_INTERVALS = 3;

export interface DownAfterStopCase {
  /** What stops, for the test's name: "httpd", "chronyd". */
  peerName: string;
  protocol: "tcp" | "udp";
  /** The check's settings besides timing (type, dns_query, ...). */
  health: Patch;
  /** Starts the peer, answering healthily, and hands it to the scope for release. */
  start(): Promise<Peer>;
  /** The reason of every probe once the peer is gone ("connection refused", "ICMP port unreachable"). */
  reason: string;
  /** Further checks on the watched backend once it is down. */
  also?(watched: Watched): void;
}

/** Registers the test for one check type; `scope` releases the monitor and the peer afterwards. */
export function testDownAfterStop(scope: CheckScope, downCase: DownAfterStopCase): void {
  test(`healthy through the monitor, then unhealthy on the fail_after-th failed probe once ${downCase.peerName} stops`, async () => {
    const server = await downCase.start();
    const watched = watchBackend(downCase.protocol, server.port, { ...downCase.health, interval_ms: INTERVAL_MS, timeout_ms: 150, fail_after: FAIL_AFTER, recover_after: 1 });
    scope.watched = watched;
    await watched.waitFor("healthy", 5000);
    // The stop is the kill, not the moment its exit is reported: on a slow machine a probe can fail in between.
    const stoppedAt = performance.now();
    const firstAfterKill = watched.results.length;
    await server.stop();
    const firstAfterExit = watched.results.length;
    const downAt = await watched.waitFor("unhealthy", (FAIL_AFTER + MARGIN_INTERVALS) * INTERVAL_MS + 5000);

    const down = watched.transitions.at(-1)!;
    expect(down).toMatchObject({ from: "healthy", to: "unhealthy" });
    // The streak that took it down: fail_after failures, all after the kill, and a success right before them (so
    // fewer failures did not do it).
    const first = down.probe - FAIL_AFTER + 1;
    const streak = watched.results.slice(first, down.probe + 1);
    expect(streak.map((result) => result.ok)).toEqual(Array.from({ length: FAIL_AFTER }, () => false));
    expect(first).toBeGreaterThanOrEqual(firstAfterKill);
    expect(watched.results[first - 1]!.ok).toBe(true);
    // Every probe after the first failure fails for the expected reason; the first may be one that was in flight at
    // the kill (a UDP request the dying peer never answered times out), and so may any before the exit is reported.
    const settled = watched.results.slice(Math.max(first + 1, Math.min(firstAfterExit, down.probe)), down.probe + 1);
    expect(settled.length).toBeGreaterThan(0);
    expect(settled.map((result) => result.reason)).toEqual(settled.map(() => downCase.reason));
    // No lower bound in time: after a stall, two ticks can fire close together. The streak above is what shows that
    // fewer failures did not do it.
    expect(downAt - stoppedAt).toBeLessThan((FAIL_AFTER + MARGIN_INTERVALS) * INTERVAL_MS);
    downCase.also?.(watched);
  }, 30_000);
}
