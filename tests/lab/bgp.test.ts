/**
 * BGP scale-out in the kernel lab (the fleet of tests/lab/support/bgp-fleet.ts): three director namespaces, each
 * running FRR (zebra + bgpd, config written by `lbctl setup frr`) and the lbctl daemon with the same config; a router
 * namespace running bgpd with ECMP; two direct-routing backends that log every connection and line; a client behind
 * the router. The router must have three equal-cost next hops for the VIP while every director can serve it, drop
 * the one whose backends fail (health-gated withdrawal), and drop one whose lbctl is stopped with SIGTERM (withdrawn
 * first: no request fails through its drain). Long-lived flows then live through two host failures: one director's
 * processes all SIGKILLed, another's power lost (link down, then everything killed); every flow stays on its backend.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { allDirectors, BgpFleet, directorAddress, DIRECTORS, FLEET_BACKENDS, FLEET_VIP, HOLD_SECONDS, KEEPALIVE_SECONDS, } from "./support/bgp-fleet.ts";
import type { FlowReport } from "./support/bgp-flow-client.ts";
import type { FlowClient } from "./support/bgp-fleet.ts";

let fleet: BgpFleet;

beforeAll(async () => {
  fleet = await BgpFleet.start();
}, 300_000);

afterAll(() => {
  fleet?.destroy();
});

const isBackend = (answer: string) => answer === "b1" || answer === "b2";
const backendAddress = (name: string) => FLEET_BACKENDS[Number(name.slice(1)) - 1]!;

test("three directors announce the VIP: the router has three equal-cost next hops and flows reach all of them", async () => {
  await fleet.waitOrShow(() => fleet.nextHops().join() === allDirectors().join(), 60_000, "three next hops for the VIP on the router");
  // 24 connections from one process (a process per request is slow in an emulated guest): each answered by a backend,
  // and spread over the directors, each connection in one director's IPVS table.
  const before = DIRECTORS.map((n) => fleet.connectionsPer(n));
  const client = await fleet.startFlows(24, 1000);
  try {
    expect(client.opened.filter((flow) => !isBackend(flow.backend) || flow.failure !== undefined)).toEqual([]);
    const carried = fleet.carriers(DIRECTORS);
    expect(client.opened.filter((flow) => carried.get(flow.client)?.length !== 1)).toEqual([]);
    const used = new Set(client.opened.map((flow) => carried.get(flow.client)![0]!.director));
    expect(used.size).toBeGreaterThanOrEqual(2);
    // The kernel folds its per-CPU counters into the totals `ipvsadm --stats` shows on its estimator tick (every 2 s),
    // so a director's connection count may lag the entries just read: wait for the totals to catch up.
    const counted = () => DIRECTORS.filter((n, i) => fleet.connectionsPer(n) > before[i]!).length;
    await fleet.waitOrShow(() => counted() >= used.size, 15_000, `connection totals of ${used.size} directors rising`);
    expect(counted()).toBe(used.size);
    await client.stop();
  } finally {
    client.kill();
  }
  expect(fleet.request()).toMatch(/^b[12]$/);
  // From the daemon (a loaded guest may make the CLI give up on the socket and read the kernel itself: ask again).
  let status: { daemon?: boolean; bgp?: unknown } = {};
  await fleet.waitOrShow(async () => {
    status = JSON.parse((await fleet.ns("d1").lbctl(["status", "--json", "--config", fleet.configFile(1)])).stdout);
    return status.daemon === true;
  }, 150_000, "lbctl status from director 1's daemon");
  if (status.bgp === undefined) throw new Error(`status has no bgp object; director 1's daemon said:\n${fleet.daemon(1).log().slice(-3000)}`);
  expect(status.bgp).toEqual({ announced: [FLEET_VIP], withdrawn: [] });
  expect(fleet.daemon(1).log()).toContain(`audit=bgp_announced vip=${FLEET_VIP} reason=serving`);
}, 300_000);

test("a director whose backends all fail withdraws, and the router drops it; they recover and it returns", async () => {
  // Only director 3 loses its path to the backends: its health checks fail, the others' do not.
  for (const backend of FLEET_BACKENDS) fleet.ns("d3").exec(["ip", "route", "add", "blackhole", `${backend}/32`]);
  await fleet.waitOrShow(() => fleet.nextHops().join() === [directorAddress(1), directorAddress(2)].join(), 30_000, "the router to drop director 3");
  // The audit line is written after the daemon's turn and read from its pipe: it may follow the router's change.
  const withdrawn = () => fleet.daemon(3).log().split("\n").filter((line) => line.includes(`audit=bgp_withdrawn vip=${FLEET_VIP}`));
  await fleet.waitOrShow(() => withdrawn().length > 0, 15_000, "director 3's bgp_withdrawn audit record");
  expect(withdrawn().join("\n")).toContain('reason="no backend with a weight above 0"');
  const answers = Array.from({ length: 4 }, () => fleet.request());
  expect(answers.filter((a) => !isBackend(a))).toEqual([]);
  for (const backend of FLEET_BACKENDS) fleet.ns("d3").exec(["ip", "route", "del", "blackhole", `${backend}/32`]);
  await fleet.waitOrShow(() => fleet.nextHops().join() === allDirectors().join(), 30_000, "director 3 back on the router");
}, 90_000);

test("SIGTERM: lbctl withdraws first, waits its drain, and no request fails; restarted, it adopts the table and announces again", async () => {
  let failures = 0;
  let requests = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      if (!isBackend(fleet.request())) failures++;
      requests++;
      await Bun.sleep(20);
    }
  })();
  const stopped = await fleet.daemon(2).stop("SIGTERM");
  expect(stopped.exitCode).toBe(0);
  // It waited bgp.drain_seconds (2 s) after withdrawing, and the router had dropped it by then.
  expect(stopped.ms).toBeGreaterThanOrEqual(2000);
  expect(fleet.nextHops()).not.toContain(directorAddress(2));
  await Bun.sleep(1000);
  stop = true;
  await load;
  // Each request is a process in the emulated guest (a few hundred ms, more on a busy host): a few are enough to
  // show the load ran through the whole drain.
  expect(requests).toBeGreaterThanOrEqual(3);
  expect(failures).toBe(0);

  // systemd would start it again: it adopts the kernel table and announces once it can serve.
  await fleet.startDaemon(2);
  await fleet.waitOrShow(() => fleet.nextHops().join() === allDirectors().join(), 30_000, "director 2 back on the router after its restart");
}, 300_000);

/**
 * Reports until every flow had a line echoed since `before`: a flow the router moved waits for TCP's next
 * retransmission (its timer backs off while the path is gone), a little after the router's change.
 */
async function echoedSince(client: FlowClient, before: FlowReport[]): Promise<FlowReport[]> {
  let flows: FlowReport[] = [];
  const behind = () => flows.filter((flow) => flow.failure === undefined && flow.answered <= before.find((b) => b.flow === flow.flow)!.answered);
  try {
    await fleet.waitOrShow(async () => {
      flows = await client.report();
      return flows.length > 0 && behind().length === 0;
    }, 30_000, "an echo on every flow");
  } catch (error) {
    throw new Error(`${(error as Error).message}\nflows without an echo: ${JSON.stringify(behind())}`);
  }
  return flows;
}

/**
 * After a director loss: every flow alive, every echo from its own backend, lines echoed since `before`; and in the
 * backends' log, one accepted connection per flow, on the backend that greeted it, which also got its lines since
 * `since` (a flow the router moved to a director that never saw its SYN reached the same backend, not a new one).
 */
function expectFlowsIntact(flows: FlowReport[], before: FlowReport[], since: number): void {
  expect(flows.filter((flow) => flow.failure !== undefined || flow.wrong > 0)).toEqual([]);
  const stalled = flows.filter((flow) => flow.answered <= before.find((b) => b.flow === flow.flow)!.answered);
  expect(stalled).toEqual([]);
  const log = fleet.backendLog();
  for (const flow of flows) {
    const accepted = log.filter((record) => record.event === "accept" && record.peer === flow.client).map((record) => record.backend);
    expect({ client: flow.client, accepted }).toEqual({ client: flow.client, accepted: [flow.backend] });
    const lines = log.filter((record) => record.event === "message" && record.peer === flow.client && record.at >= since);
    expect({ client: flow.client, backends: [...new Set(lines.map((record) => record.backend))] }).toEqual({ client: flow.client, backends: [flow.backend] });
  }
}

test("host failures: long-lived flows through a dead director move to the others and stay on their backend; the rest go on", async () => {
  await fleet.waitOrShow(() => fleet.nextHops().join() === allDirectors().join(), 30_000, "three next hops");
  const client = await fleet.startFlows(32, 200);
  try {
    const opened = client.opened;
    // Each flow went through exactly one director, which sent it to the backend that greeted it.
    const carried = fleet.carriers(DIRECTORS);
    const via = new Map<string, number>();
    for (const flow of opened) {
      const holders = carried.get(flow.client) ?? [];
      expect({ client: flow.client, holders: holders.map((h) => [h.director, h.entry.backend]) }).toEqual({ client: flow.client, holders: [[holders[0]?.director ?? 0, backendAddress(flow.backend)]] });
      via.set(flow.client, holders[0]!.director);
    }
    // ECMP spread them over the three directors, and `mh` (on the client's address) over both backends.
    expect(new Set(via.values()).size).toBe(3);
    expect(new Set(opened.map((flow) => flow.backend)).size).toBe(2);
    await Bun.sleep(1000);

    // 1. Every process of director 3 SIGKILLed at once: lbctl, zebra, bgpd. Its kernel lives on and closes bgpd's
    // session, so the router need not wait for its hold time; its IPVS table stays, but once the router has dropped
    // it nothing reaches it: its flows reach directors that never saw their SYN.
    const beforeKill = await client.report();
    const killedAt = Date.now();
    const killed = fleet.killAll(3);
    expect(killed.map((p) => p.name).filter((name) => name === "bgpd" || name === "zebra").sort()).toEqual(["bgpd", "zebra"]);
    expect(killed.map((p) => p.pid)).toContain(fleet.daemon(3).process.pid);
    await fleet.daemon(3).process.exited;
    expect(fleet.daemon(3).process.signalCode).toBe("SIGKILL");
    await fleet.waitOrShow(() => fleet.nextHops().join() === [directorAddress(1), directorAddress(2)].join(), 60_000, "the router to drop director 3");
    const afterKill = await echoedSince(client, beforeKill);
    expectFlowsIntact(afterKill, beforeKill, killedAt);
    // The flows director 3 carried now have an entry on director 1 or 2 (created by a mid-flow segment: sloppy_tcp),
    // to the same backend.
    const moved = opened.filter((flow) => via.get(flow.client) === 3);
    expect(moved.length).toBeGreaterThan(0);
    const survivors = fleet.carriers([1, 2]);
    for (const flow of moved) {
      const backends = (survivors.get(flow.client) ?? []).map((h) => h.entry.backend);
      expect({ client: flow.client, backends }).toEqual({ client: flow.client, backends: [backendAddress(flow.backend)] });
    }

    // 2. Director 2 loses its power: its link goes down first (no FIN escapes), then its processes die. The router
    // hears nothing and drops it when its hold time runs out; the flows stall meanwhile, then all go through director 1.
    const beforePowerOff = await client.report();
    const offAt = Date.now();
    const lostPower = fleet.powerOff(2);
    expect(lostPower.map((p) => p.name).filter((name) => name === "bgpd" || name === "zebra").sort()).toEqual(["bgpd", "zebra"]);
    await fleet.waitOrShow(() => fleet.nextHops().join() === directorAddress(1), 60_000, "the router to keep only director 1");
    const dropMs = Date.now() - offAt;
    // The last keepalive came at most one interval before the power went: the hold time runs out no sooner than this.
    expect(dropMs).toBeGreaterThanOrEqual((HOLD_SECONDS - KEEPALIVE_SECONDS) * 1000);
    expect(fleet.lastReset(2)).toMatch(/hold timer expired/i);
    const afterPowerOff = await echoedSince(client, beforePowerOff);
    expectFlowsIntact(afterPowerOff, beforePowerOff, offAt);
    const final = await client.stop();
    expect(final.filter((flow) => flow.failure !== undefined)).toEqual([]);
    expect(client.failures).toEqual([]);
  } finally {
    client.kill();
  }
}, 240_000);
