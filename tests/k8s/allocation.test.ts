/** Address allocation (issue 15 §2): keep what status shows, requests, pools, sharing, oldest pending first. */

import { expect, test } from "bun:test";
import { allocate, poolUsage, type Claim } from "../../src/k8s/allocation.ts";
import { buildPools } from "../../src/k8s/pools.ts";

const pools = buildPools([
  { name: "a", addresses: ["192.0.2.128/30"] },
  { name: "b", addresses: ["198.51.100.10-198.51.100.11"] },
  { name: "v6", addresses: ["2001:db8::10-2001:db8::11"] },
]);

let clock = 0;
function claim(key: string, patch: Partial<Claim> = {}): Claim {
  clock++;
  return { key, created: `2026-01-01T00:00:${String(clock).padStart(2, "0")}Z`, families: [4], requested: [], ports: ["TCP/80"], current: [], ...patch };
}

const ips = (result: ReturnType<typeof allocate>, key: string) => {
  const a = result.get(key);
  return a?.ok ? a.ips : a?.message;
};

test("first free address of the first pool of the family, in order", () => {
  const r = allocate(pools, [claim("ns/x"), claim("ns/y")]);
  expect(ips(r, "ns/x")).toEqual(["192.0.2.128"]);
  expect(ips(r, "ns/y")).toEqual(["192.0.2.129"]);
});

test("addresses in status are kept before anything new is handed out (a restart reshuffles nothing)", () => {
  // y is older and pending; x already shows .128: x keeps it, y gets the next.
  const y = claim("ns/y", { created: "2025-01-01T00:00:00Z" });
  const x = claim("ns/x", { current: ["192.0.2.128"] });
  const r = allocate(pools, [x, y]);
  expect(ips(r, "ns/x")).toEqual(["192.0.2.128"]);
  expect(ips(r, "ns/y")).toEqual(["192.0.2.129"]);
  // Same input, other order: same answer.
  expect(allocate(pools, [y, x])).toEqual(r);
});

test("two Services claiming one address in status: the older keeps it, the other is re-allocated", () => {
  const old = claim("ns/old", { current: ["192.0.2.130"] });
  const young = claim("ns/young", { current: ["192.0.2.130"] });
  const r = allocate(pools, [young, old]);
  expect(ips(r, "ns/old")).toEqual(["192.0.2.130"]);
  expect(ips(r, "ns/young")).toEqual(["192.0.2.128"]);
});

test("a status address outside every pool is not kept", () => {
  expect(ips(allocate(pools, [claim("ns/x", { current: ["203.0.113.1"] })]), "ns/x")).toEqual(["192.0.2.128"]);
});

test("requested address honoured; out of pool or taken stays pending with the reason", () => {
  const r = allocate(pools, [
    claim("ns/a", { requested: ["198.51.100.11"] }),
    claim("ns/b", { requested: ["203.0.113.9"] }),
    claim("ns/c", { requested: ["198.51.100.11"] }),
  ]);
  expect(ips(r, "ns/a")).toEqual(["198.51.100.11"]);
  expect(r.get("ns/b")).toEqual({ ok: false, reason: "IPNotAvailable", message: "requested address 203.0.113.9 is in no address pool" });
  expect(r.get("ns/c")).toEqual({ ok: false, reason: "IPNotAvailable", message: "198.51.100.11 is taken by Service ns/a" });
});

test("pool annotation; unknown pool; pool exhausted", () => {
  const r = allocate(pools, [
    claim("ns/a", { pool: "b" }),
    claim("ns/b", { pool: "b" }),
    claim("ns/c", { pool: "b" }),
    claim("ns/d", { pool: "nope" }),
  ]);
  expect(ips(r, "ns/a")).toEqual(["198.51.100.10"]);
  expect(ips(r, "ns/b")).toEqual(["198.51.100.11"]);
  expect(r.get("ns/c")).toMatchObject({ ok: false, reason: "IPNotAvailable", message: 'no free IPv4 address in pool "b"' });
  expect(r.get("ns/d")).toMatchObject({ ok: false, message: 'no address pool is named "nope" (annotation libraflux.io/address-pool)' });
});

test("a freed address goes to the oldest pending Service", () => {
  const holders = ["ns/h1", "ns/h2"].map((key, i) => claim(key, { pool: "b", current: [`198.51.100.1${i}`] }));
  const older = claim("ns/older", { pool: "b", created: "2025-06-01T00:00:00Z" });
  const newer = claim("ns/newer", { pool: "b", created: "2025-07-01T00:00:00Z" });
  const full = allocate(pools, [...holders, newer, older]);
  expect(full.get("ns/older")?.ok).toBe(false);
  expect(full.get("ns/newer")?.ok).toBe(false);
  const freed = allocate(pools, [holders[1] as Claim, newer, older]);
  expect(ips(freed, "ns/older")).toEqual(["198.51.100.10"]);
  expect(freed.get("ns/newer")?.ok).toBe(false);
});

test("sharing: same key, disjoint ports share one address (DNS over TCP and UDP)", () => {
  const r = allocate(pools, [
    claim("ns/dns-tcp", { sharingKey: "dns", ports: ["TCP/53"] }),
    claim("ns/dns-udp", { sharingKey: "dns", ports: ["UDP/53"] }),
    claim("ns/other", {}),
  ]);
  expect(ips(r, "ns/dns-tcp")).toEqual(["192.0.2.128"]);
  expect(ips(r, "ns/dns-udp")).toEqual(["192.0.2.128"]);
  expect(ips(r, "ns/other")).toEqual(["192.0.2.129"]);
});

test("sharing conflicts: overlapping ports are SyncLoadBalancerFailed; another key cannot join", () => {
  const r = allocate(pools, [
    claim("ns/a", { sharingKey: "k", ports: ["TCP/80"], requested: ["192.0.2.128"] }),
    claim("ns/b", { sharingKey: "k", ports: ["TCP/80", "TCP/443"], requested: ["192.0.2.128"] }),
    claim("ns/c", { sharingKey: "other", ports: ["TCP/8080"], requested: ["192.0.2.128"] }),
  ]);
  expect(r.get("ns/b")).toMatchObject({ ok: false, reason: "SyncLoadBalancerFailed" });
  expect((r.get("ns/b") as { message: string }).message).toContain("both use TCP/80");
  expect(r.get("ns/c")).toMatchObject({ ok: false, reason: "IPNotAvailable" });
});

test("dual-stack: one address per family; IPv6 alone", () => {
  const r = allocate(pools, [claim("ns/ds", { families: [4, 6] }), claim("ns/six", { families: [6] })]);
  expect(ips(r, "ns/ds")).toEqual(["192.0.2.128", "2001:db8::10"]);
  expect(ips(r, "ns/six")).toEqual(["2001:db8::11"]);
});

test("pool usage counts each address once, shared or not", () => {
  const r = allocate(pools, [claim("ns/t", { sharingKey: "dns", ports: ["TCP/53"] }), claim("ns/u", { sharingKey: "dns", ports: ["UDP/53"] })]);
  expect(poolUsage(pools, r).get("a")).toEqual({ allocated: 1, free: 3 });
  expect(poolUsage(pools, r).get("b")).toEqual({ allocated: 0, free: 2 });
});
