/**
 * S1, in the kernel lab guest: the failure model of a BGP ECMP fleet (docs/scale-out.md), measured on the fleet of
 * tests/lab/support/bgp-fleet.ts: three directors (FRR + lbctl, `dr`, `mh`, TCP checks every 200 ms × fail_after 2,
 * reconcile every 300 ms), a router with bgpd ECMP (BGP timers 1/3 s), two backends, a client.
 *
 *   backend failure: director 3's path to both backends is cut (blackhole routes), BENCH_ROUNDS times. From its
 *     daemon's records: the unhealthy verdict on the last backend → `bgp_withdrawn` (lbctl's part; target ≤ one
 *     reconcile interval); from outside: the cut → the router without director 3 (its route monitor's stamp).
 *   SIGTERM drain: requests through the VIP, one after another, while director 2's lbctl stops (withdraw, wait
 *     drain_seconds, exit). Target: zero failed.
 *   host failures, with 32 long-lived flows (a line every 200 ms each, echoed): all of director 3's processes
 *     SIGKILLed (its kernel closes bgpd's session: the router drops it at once), then director 2's power lost (link
 *     down, then its processes killed: the router waits its hold time). Time to the router's change; flows alive on
 *     their first backend afterwards (target: all); the longest wait for an echo.
 *
 * Emulated guest: times are an upper bound of real hardware. Run: npm run bench -- bgp-failover (needs build/lbctl).
 */

import type { Subprocess } from "bun";
import { allDirectors, BgpFleet, directorAddress, DRAIN_SECONDS, FLEET_BACKENDS, HOLD_SECONDS, logTimes, RECONCILE_INTERVAL_MS } from "../tests/lab/support/bgp-fleet.ts";
import type { FlowReport } from "../tests/lab/support/bgp-flow-client.ts";
import { forEachLine } from "../tests/lab/support/lines.ts";
import { median, report, row } from "./support.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FLOWS = 32;
const common = {
  id: "S1",
  what: "a BGP ECMP fleet of three directors (FRR, BGP timers 1/3 s, checks 200 ms × 2, reconcile 300 ms) behind a router with bgpd ECMP",
  where: "guest" as const,
  bench: "bgp-failover",
};
const medianWorst = (values: number[]) => `${median(values).toFixed(0)} ms median, ${Math.max(...values).toFixed(0)} ms worst`;

/**
 * When the router's routes change: `ip -ts monitor route nexthop` in its namespace stamps every change as the kernel
 * reports it, so the bench learns the time of a change without polling the guest busy (which would slow what it
 * measures). Each stamp is the monitor's wall clock (the guest's, as the daemons' records).
 */
class RouteWatch {
  readonly stamps: { at: number; seen: number }[] = [];
  readonly #child: Subprocess<"ignore", "pipe", "ignore">;

  constructor(namespace: string) {
    const child = Bun.spawn(["ip", "-n", namespace, "-ts", "monitor", "route", "nexthop"], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    this.#child = child;
    void forEachLine(child.stdout, (line) => {
      // [2026-12-03T13:21:30.536847] ...: local time, to the millisecond.
      const at = Date.parse(line.slice(1, 24));
      if (Number.isFinite(at)) this.stamps.push({ at, seen: performance.now() });
    });
  }

  /**
   * Waits until `condition` holds (checked after each change the monitor reports, and every second in case one is
   * missed) and returns the stamp of the last change at or after `since` seen before the check that found it
   * holding (or, if the monitor's line comes later than the check, the first one that comes).
   */
  async changed(since: number, condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
    const started = performance.now();
    let checked = -1;
    let lastCheck = 0;
    let holdsAt = -1;
    while (performance.now() - started < timeoutMs) {
      const count = this.stamps.length;
      if (holdsAt < 0 && (count !== checked || performance.now() - lastCheck > 1000)) {
        checked = count;
        lastCheck = performance.now();
        if (condition()) holdsAt = count;
      }
      if (holdsAt >= 0) {
        const fresh = (stamp: { at: number }) => stamp.at >= since;
        const pick = this.stamps.slice(0, holdsAt).filter(fresh).at(-1) ?? this.stamps.find(fresh);
        if (pick) return pick.at;
      }
      await Bun.sleep(20);
    }
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  stop(): void {
    this.#child.kill("SIGKILL");
  }
}

const fleet = await BgpFleet.start();
/** The router's reason for its last reset of a director's session, or why it could not be read. */
const routerReason = (n: number) => {
  try {
    return String((JSON.parse(fleet.lastReset(n)) as { lastNotificationReason?: string }).lastNotificationReason);
  } catch (error) {
    return `unread: ${(error as Error).message.split("\n")[0]!.slice(0, 80)}`;
  }
};
const without = (...gone: number[]) =>
  allDirectors()
    .filter((address) => !gone.some((n) => directorAddress(n) === address))
    .join();
const hops = () => fleet.nextHops().join();
const watch = new RouteWatch(fleet.ns("router").name);
try {
  await fleet.waitOrShow(() => hops() === allDirectors().join(), 120_000, "three next hops on the router");

  // 1. Backend failure seen from one director: health-gated withdrawal.
  const verdictToWithdrawn: number[] = [];
  const verdictToRouter: number[] = [];
  const cutToRouter: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cut = Date.now();
    for (const backend of FLEET_BACKENDS) fleet.ns("d3").exec(["ip", "route", "add", "blackhole", `${backend}/32`]);
    const dropped = await watch.changed(cut, () => hops() === without(3), 120_000, "the router to drop director 3");
    await fleet.waitOrShow(() => logTimes(fleet.daemon(3).log(), "audit=bgp_withdrawn").some((t) => t >= cut), 15_000, "director 3's bgp_withdrawn record");
    const log = fleet.daemon(3).log();
    const verdicts = FLEET_BACKENDS.map((b) => logTimes(log, `audit=health_state_changed service=web backend=${b}:8080 old_state=healthy new_state=unhealthy`).find((t) => t >= cut) ?? Number.NaN);
    const verdict = Math.max(...verdicts);
    const withdrawn = logTimes(log, "audit=bgp_withdrawn").find((t) => t >= cut)!;
    if (Number.isFinite(verdict)) {
      verdictToWithdrawn.push(withdrawn - verdict);
      verdictToRouter.push(dropped - verdict);
    }
    cutToRouter.push(dropped - cut);
    for (const backend of FLEET_BACKENDS) fleet.ns("d3").exec(["ip", "route", "del", "blackhole", `${backend}/32`]);
    await fleet.waitOrShow(() => hops() === allDirectors().join(), 60_000, "director 3 back on the router");
  }
  const withdrawOk = verdictToWithdrawn.length === ROUNDS && Math.max(...verdictToWithdrawn) <= RECONCILE_INTERVAL_MS;
  console.log(row("unhealthy verdict → bgp_withdrawn", medianWorst(verdictToWithdrawn), `≤ ${RECONCILE_INTERVAL_MS} ms`, withdrawOk));
  report({ ...common, name: `director 3's path to both backends cut, ${ROUNDS} times: the last unhealthy verdict → bgp_withdrawn (the daemon's records)`, target: `≤ ${RECONCILE_INTERVAL_MS} ms (one reconcile interval)`, measured: `${medianWorst(verdictToWithdrawn)} (${verdictToWithdrawn.length} of ${ROUNDS} placed)`, value: Math.max(...verdictToWithdrawn), unit: "ms", ok: withdrawOk });
  console.log(row("unhealthy verdict → router drops the next hop", medianWorst(verdictToRouter), "none", true));
  report({ ...common, name: "the last unhealthy verdict → the router without director 3's next hop", measured: `${medianWorst(verdictToRouter)} (the router's route monitor)`, value: Math.max(...verdictToRouter), unit: "ms", ok: true });
  report({ ...common, name: "path cut → the router without director 3's next hop (detection 200 ms × 2 included)", measured: medianWorst(cutToRouter), value: Math.max(...cutToRouter), unit: "ms", ok: true });

  // 2. SIGTERM: withdraw, drain, exit; requests keep flowing.
  let requests = 0;
  let failed = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      const answer = fleet.request();
      requests++;
      if (answer !== "b1" && answer !== "b2") failed++;
      await Bun.sleep(20);
    }
  })();
  await Bun.sleep(1000);
  const termAt = Date.now();
  const stopping = fleet.daemon(2).stop("SIGTERM");
  const termDropped = await watch.changed(termAt, () => hops() === without(2), 120_000, "the router to drop director 2 after SIGTERM");
  const stopped = await stopping;
  await Bun.sleep(1000);
  stop = true;
  await load;
  console.log(row("failed requests through a SIGTERM drain", `${failed} of ${requests}`, "0", failed === 0));
  report({ ...common, name: `requests one after another through director 2's SIGTERM (withdraw, drain ${DRAIN_SECONDS} s, exit): failed`, target: "0", measured: `${failed} of ${requests} (router changed ${termDropped - termAt} ms after the signal, exit after ${stopped.ms.toFixed(0)} ms)`, value: failed, unit: "requests", ok: failed === 0 && requests > 0 });
  await fleet.startDaemon(2);
  await fleet.waitOrShow(() => hops() === allDirectors().join(), 60_000, "director 2 back after its restart");

  // 3. Host failures under long-lived flows.
  const client = await fleet.startFlows(FLOWS, 200);
  try {
    const carried = fleet.carriers([1, 2, 3]);
    const via = new Map(client.opened.map((flow) => [flow.client, carried.get(flow.client)?.[0]?.director ?? 0]));
    await Bun.sleep(1000);
    const backendOf = new Map(client.opened.map((flow) => [flow.client, flow.backend]));
    /** Flows alive since `before`, echoed by their first backend, with no other backend accepting them (its log). */
    const intact = (flows: FlowReport[], before: FlowReport[]) =>
      flows.filter((flow) => {
        const earlier = before.find((b) => b.flow === flow.flow)!;
        const accepted = fleet.backendLog().filter((r) => r.event === "accept" && r.peer === flow.client);
        return flow.failure === undefined && flow.wrong === 0 && flow.answered > earlier.answered && flow.backend === backendOf.get(flow.client) && accepted.length === 1 && accepted[0]!.backend === flow.backend;
      });
    const settle = async (before: FlowReport[]) => {
      let flows = await client.report();
      const deadline = Date.now() + 90_000;
      while (intact(flows, before).length < flows.length && Date.now() < deadline) {
        await Bun.sleep(250);
        flows = await client.report();
      }
      return flows;
    };
    const longestWait = (flows: FlowReport[], pick: (flow: FlowReport) => boolean) => Math.max(0, ...flows.filter(pick).map((flow) => flow.maxWaitMs));

    const beforeKill = await client.report();
    const killAt = Date.now();
    fleet.killAll(3);
    const killDropped = await watch.changed(killAt, () => hops() === without(3), 120_000, "the router to drop director 3 after SIGKILL");
    const afterKill = await settle(beforeKill);
    const killIntact = intact(afterKill, beforeKill).length;
    const moved = (flow: FlowReport) => via.get(flow.client) === 3;
    console.log(row("SIGKILL of all of a director's processes → router", `${killDropped - killAt} ms`, "none", true));
    report({ ...common, name: "all of director 3's processes SIGKILLed (lbctl, zebra, bgpd; its kernel closes the session) → the router without it", measured: `${killDropped - killAt} ms`, value: killDropped - killAt, unit: "ms", ok: true });
    report({
      ...common,
      name: `long-lived flows alive on their first backend after director 3's SIGKILL (${client.opened.filter(moved).length} moved from it)`,
      target: `all ${FLOWS}`,
      measured: `${killIntact} of ${FLOWS}; longest wait for an echo: ${longestWait(afterKill, moved)} ms moved, ${longestWait(afterKill, (f) => !moved(f))} ms others`,
      value: killIntact,
      unit: "flows",
      ok: killIntact === FLOWS,
    });

    const beforeOff = await client.report();
    const offAt = Date.now();
    fleet.powerOff(2);
    const offDropped = await watch.changed(offAt, () => hops() === without(2, 3), 120_000, "the router to drop director 2 after its power loss");
    const afterOff = await settle(beforeOff);
    const offIntact = intact(afterOff, beforeOff).length;
    console.log(row("power loss (link down) → router", `${offDropped - offAt} ms`, `hold time ${HOLD_SECONDS} s`, true));
    report({ ...common, name: `director 2's power lost (link down, processes killed) → the router without it (hold time ${HOLD_SECONDS} s)`, measured: `${offDropped - offAt} ms (the router's reason: ${routerReason(2)})`, value: offDropped - offAt, unit: "ms", ok: true });
    report({
      ...common,
      name: "long-lived flows alive on their first backend after director 2's power loss",
      target: `all ${FLOWS}`,
      measured: `${offIntact} of ${FLOWS}; longest wait for an echo: ${longestWait(afterOff, () => true)} ms`,
      value: offIntact,
      unit: "flows",
      ok: offIntact === FLOWS,
    });
    await client.stop();
  } finally {
    client.kill();
  }
} finally {
  watch.stop();
  fleet.destroy();
}
