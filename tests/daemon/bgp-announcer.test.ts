import { describe, expect, test } from "bun:test";
import { BgpAnnouncer, FOLLOWS_PER_LISTING } from "../../src/daemon/bgp-announcer.ts";
import type { KernelServiceEntry } from "../../src/ipvs/types.ts";
import { auditSink, type AuditRecord } from "../../src/observability/audit.ts";
import type { DaemonEvent } from "../../src/observability/events.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import type { AnnouncementRoutes } from "../../src/system/announce-routes.ts";
import { configFrom, service, type Patch } from "../support/load-helpers.ts";

const MAIN: Patch = { network: { frontend: { vip: "192.0.2.10" } }, bgp: { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.1", remote_asn: 65000 }] } };
const config = configFrom(MAIN, [service({ name: "web", mode: "dr", scheduler: "mh", backends: [{ address: "10.0.0.21" }] })]);
const kernel = (weight: number): KernelServiceEntry[] =>
  desiredServices(config).map((s) => ({
    service: { ...s, fwmark: 0 },
    destinations: s.destinations.map((d) => ({ ...d, weight, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 })),
  }));

function setUp() {
  const routes = new Set<string>();
  const local = new Set<string>();
  const listings = { main: 0, local: 0 };
  let failNextAdd = false;
  const fake: AnnouncementRoutes = {
    list: () => (listings.main++, [...routes]),
    add: (vip) => {
      if (failNextAdd) {
        failNextAdd = false;
        throw new Error("ip route replace: RTNETLINK answers: Operation not permitted");
      }
      routes.add(vip);
    },
    remove: (vip) => void routes.delete(vip),
    listLocal: () => (listings.local++, [...local]),
    addLocal: (vip) => void local.add(vip),
    removeLocal: (vip) => void local.delete(vip),
  };
  const events: DaemonEvent[] = [];
  const audit: AuditRecord[] = [];
  const toAudit = auditSink((r) => audit.push(r));
  const announcer = new BgpAnnouncer(fake, { emit: (e) => (events.push(e), toAudit.emit(e)) });
  return { routes, local, events, audit, announcer, listings, failAdd: () => (failNextAdd = true) };
}

describe("the BGP announcer", () => {
  test("announces while serving, withdraws when every backend is at weight 0, announces again; each change audited once", () => {
    const { routes, local, audit, announcer } = setUp();
    announcer.follow(config, () => kernel(1), true);
    expect([...routes]).toEqual(["192.0.2.10"]);
    announcer.follow(config, () => kernel(1), true);
    announcer.follow(config, () => kernel(0), true);
    expect([...routes]).toEqual([]);
    // Withdrawn, the VIP stays local: flows the routers still send are served.
    expect([...local]).toEqual(["192.0.2.10"]);
    announcer.follow(config, () => kernel(1), true);
    expect(audit.map((r) => [r.event, r.fields.reason])).toEqual([
      ["bgp_announced", "serving"],
      ["bgp_withdrawn", "no backend with a weight above 0"],
      ["bgp_announced", "serving"],
    ]);
    expect(announcer.status()).toEqual({ announced: ["192.0.2.10"], withdrawn: [] });
  });

  test("routes are listed once per FOLLOWS_PER_LISTING ticks, not every tick; a route removed by hand comes back at the next listing", () => {
    const { routes, announcer, listings, audit } = setUp();
    for (let i = 0; i < 10; i++) announcer.follow(config, () => kernel(1), true);
    // The positive sign that the ticks ran: the VIP was announced by the first one.
    expect([...routes]).toEqual(["192.0.2.10"]);
    expect(listings).toEqual({ main: 1, local: 1 });
    routes.delete("192.0.2.10"); // an operator's `ip route del`
    for (let i = 10; i < FOLLOWS_PER_LISTING - 1; i++) announcer.follow(config, () => kernel(1), true);
    expect([...routes]).toEqual([]);
    announcer.follow(config, () => kernel(1), true);
    expect(listings).toEqual({ main: 2, local: 2 });
    expect([...routes]).toEqual(["192.0.2.10"]);
    expect(audit.map((r) => r.event)).toEqual(["bgp_announced", "bgp_announced"]);
  });

  test("a failed ip command makes the next tick list the routes again and retry", () => {
    const { routes, announcer, listings, events, failAdd } = setUp();
    failAdd();
    announcer.follow(config, () => kernel(1), true);
    expect([...routes]).toEqual([]);
    expect(events.some((e) => e.type === "error" && /Operation not permitted/.test(e.message))).toBe(true);
    announcer.follow(config, () => kernel(1), true);
    expect([...routes]).toEqual(["192.0.2.10"]);
    expect(listings.main).toBe(2);
  });

  test("SIGTERM: every route withdrawn; a restarted daemon adopts a route already there without a change", () => {
    const { routes, audit, announcer } = setUp();
    announcer.follow(config, () => kernel(1), true);
    expect(announcer.withdrawAll("stopping (SIGTERM)")).toBe(1);
    expect([...routes]).toEqual([]);
    expect(audit.at(-1)).toMatchObject({ event: "bgp_withdrawn", fields: { vip: "192.0.2.10", reason: "stopping (SIGTERM)" } });
    const restarted = setUp();
    restarted.routes.add("192.0.2.10");
    restarted.announcer.follow(config, () => kernel(1), true);
    expect([...restarted.routes]).toEqual(["192.0.2.10"]);
    expect(restarted.audit.map((r) => r.event)).toEqual(["bgp_announced"]);
  });

  test("bgp turned off by a reload: its routes go; never on: nothing is read", () => {
    const { routes, local, announcer } = setUp();
    const off = configFrom({ network: { frontend: { vip: "192.0.2.10" } } }, [service({ name: "web" })]);
    let reads = 0;
    const quiet = new BgpAnnouncer({ list: () => (reads++, []), add: () => {}, remove: () => {}, listLocal: () => [], addLocal: () => {}, removeLocal: () => {} }, { emit: () => {} });
    let tableReads = 0;
    const table = () => (tableReads++, kernel(1));
    quiet.follow(off, table, true);
    // Off, the kernel table is not even read (a dump of every service after each reconcile that wrote).
    expect(tableReads).toBe(0);
    quiet.follow(config, table, true); // the positive sign: on, it reads
    expect(reads).toBe(1);
    expect(tableReads).toBe(1);
    announcer.follow(config, () => kernel(1), true);
    announcer.follow(off, () => kernel(1), true);
    expect([...routes]).toEqual([]);
    // Off: the VIP is no longer made local either.
    expect([...local]).toEqual([]);
    expect(announcer.status()).toBeUndefined();
  });
});
