/**
 * The exposition kept between scrapes: after every kind of model change it equals a fresh render and prom-client's
 * own rendering of the same series (the oracle); the model's generations say what changed; gzip bodies gunzip to
 * the plain text.
 */

import { describe, expect, test } from "bun:test";
import { gunzipSync, inflateRawSync } from "node:zlib";
import type { DaemonEvent } from "../../src/observability/events.ts";
import { crc32Combine } from "../../src/observability/metrics/crc32-combine.ts";
import { ExpositionCache } from "../../src/observability/metrics/exposition-cache.ts";
import { familyText } from "../../src/observability/metrics/exposition.ts";
import { FAMILIES, type FamilyKey } from "../../src/observability/metrics/families.ts";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry, type MetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { configLoaded, sample } from "./support.ts";

const KEYS = Object.keys(FAMILIES) as FamilyKey[];
const WEB = { service: "web", backends: ["10.0.0.1:80", "10.0.0.2:80"], health: true };
const DNS = { service: "dns", backends: ["10.0.0.9:53"], health: false };
const stats = (bytes: number, weight = 5): DaemonEvent => ({
  type: "ipvs-stats",
  destinations: [
    sample("web", "10.0.0.1:80", 80, { bytesIn: bytes, connections: bytes >> 4, activeConnections: 3, weight }),
    sample("web", "10.0.0.2:80", 80, { bytesOut: bytes, packetsIn: 7 }),
    sample("dns", "10.0.0.9:53", 53, { packetsOut: bytes }),
  ],
});

/** The families a stats sample changes. */
const TRAFFIC: FamilyKey[] = ["backendWeight", "connectionsActive", "connections", "packetsIn", "packetsOut", "bytesIn", "bytesOut"];

const OVERRIDE = { service: "web", backend: "10.0.0.2:80", kind: "drain", weight: 0, force: false, created_at: 0, by: { user: "alice" } } as const;

/** A model with a series in every family. */
function busyModel(): MetricsModel {
  const model = new MetricsModel();
  for (const event of [
    { type: "daemon-started", node: "lb-a", pid: 1, version: "test" },
    configLoaded([WEB, DNS]),
    { type: "vip-state", vip: "192.0.2.10", held: true },
    { type: "vip-transition", vip: "192.0.2.10", direction: "acquire" },
    { type: "connection-sync", role: "backup", running: true, interface: "eth0", syncId: 50, reason: "enabled" },
    { type: "bgp-announcement", vip: "192.0.2.10", announced: true, reason: "serving" },
    { type: "reconcile", result: "success", trigger: "startup", durationMs: 3, changes: 3 },
    { type: "probe", service: "web", backend: "10.0.0.1:80", ok: true, latencyMs: 4, reason: "connected" },
    stats(1000),
    { type: "change-limit-hit", limit: "max_services_deleted", planned: 11, max: 10 },
    { type: "config-refused", reason: "invalid", message: "bad" },
    { type: "kubernetes-connection", connected: true },
    { type: "kubernetes-pools", pools: [{ pool: "default", allocated: 2, free: 14 }] },
    { type: "controlplane-started", mode: "secondary", certificateExpiry: { local: 1_900_000_000, ca: 2_100_000_000 } },
    { type: "controlplane-peer", peer: "primary", connected: false },
    { type: "controlplane-synced", atSeconds: 1_800_000_000 },
    { type: "drain-started", service: "tcp:192.0.2.10:80", destination: "10.0.0.7:80", name: "web", deadline: 1_800_000_000_000, connections: 2, resumed: false },
    { type: "backend-override", action: "set", override: OVERRIDE },
    { type: "slow-start", service: "web", backend: "10.0.0.1:80", phase: "started", durationMs: 30_000 },
    { type: "quorum", service: "web", up: false, liveWeight: 0, quorum: 1, hysteresis: 0, sorryServer: "10.0.0.99:80" },
  ] satisfies DaemonEvent[]) {
    model.emit(event);
  }
  return model;
}

/**
 * Every kind of event, each in the variants that change something a scraper sees (`visible`) or not. Keyed by event
 * type: a new type of event does not compile until it is listed here.
 */
const CHANGES: Record<DaemonEvent["type"], { name: string; events: DaemonEvent[]; visible: boolean }[]> = {
  "daemon-started": [{ name: "a new node name", events: [{ type: "daemon-started", node: "lb-z", pid: 2, version: "test" }], visible: true }],
  "daemon-stopping": [{ name: "stopping", events: [{ type: "daemon-stopping", node: "lb-a", signal: "SIGTERM" }], visible: false }],
  "config-loaded": [
    { name: "a reload without dns, one backend less", events: [configLoaded([{ ...WEB, backends: ["10.0.0.1:80"] }], { startup: false })], visible: true },
    { name: "a reload turning checks off", events: [configLoaded([{ ...WEB, health: false }, DNS], { startup: false })], visible: true },
    { name: "a reload adding a backend", events: [configLoaded([{ ...WEB, backends: [...WEB.backends, "10.0.0.3:80"] }, DNS], { startup: false })], visible: true },
  ],
  "config-refused": [
    { name: "over a limit", events: [{ type: "config-refused", reason: "limit", message: "over", limit: { name: "max_services_deleted", limit: 1, planned: 2 } }], visible: true },
    { name: "an error", events: [{ type: "config-refused", reason: "error", message: "boom" }], visible: true },
  ],
  reconcile: [
    { name: "an interval reconcile", events: [{ type: "reconcile", result: "success", trigger: "interval", durationMs: 0.4, changes: 0 }], visible: true },
    { name: "a failed one", events: [{ type: "reconcile", result: "failure", trigger: "reload", durationMs: 40, changes: 0, error: "x" }], visible: true },
    {
      name: "one that drops a VIP no longer managed",
      events: [
        { type: "vip-state", vip: "192.0.2.11", held: false },
        { type: "reconcile", result: "success", trigger: "interval", durationMs: 1, changes: 0 },
      ],
      visible: true,
    },
  ],
  "kernel-changes": [
    {
      name: "a destination's weight",
      events: [{ type: "kernel-changes", changes: [{ op: "update-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.2:80", name: "web", backend: "10.0.0.2:80", reason: "health", weight: 0, previousWeight: 1 }], bulk: false }],
      visible: true,
    },
    {
      name: "a destination recreated, then a stats sample",
      events: [
        { type: "kernel-changes", changes: [{ op: "delete-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", reason: "drift" }], bulk: false },
        { type: "kernel-changes", changes: [{ op: "create-destination", service: "tcp:192.0.2.10:80", destination: "10.0.0.1:80", name: "web", backend: "10.0.0.1:80", reason: "drift", weight: 5 }], bulk: false },
        stats(10),
      ],
      visible: true,
    },
    { name: "a service updated", events: [{ type: "kernel-changes", changes: [{ op: "update-service", service: "tcp:192.0.2.10:80", name: "web", reason: "config" }], bulk: false }], visible: false },
  ],
  "vip-transition": [{ name: "a release", events: [{ type: "vip-transition", vip: "192.0.2.10", direction: "release" }], visible: true }],
  "vip-state": [
    { name: "a VIP lost", events: [{ type: "vip-state", vip: "192.0.2.10", held: false }], visible: true },
    { name: "a new VIP", events: [{ type: "vip-state", vip: "192.0.2.12", held: true }], visible: true },
  ],
  "bgp-announcement": [
    { name: "a VIP withdrawn", events: [{ type: "bgp-announcement", vip: "192.0.2.10", announced: false, reason: "no backend with a weight above 0" }], visible: true },
    { name: "another VIP announced", events: [{ type: "bgp-announcement", vip: "192.0.2.20", announced: true, reason: "serving" }], visible: true },
  ],
  "connection-sync": [
    { name: "the master role started", events: [{ type: "connection-sync", role: "master", running: true, interface: "eth0", syncId: 50, reason: "VIP held" }], visible: true },
    { name: "the backup role stopped", events: [{ type: "connection-sync", role: "backup", running: false, interface: "eth0", syncId: 50, reason: "disabled" }], visible: true },
  ],
  "health-transition": [
    { name: "a backend healthy", events: [{ type: "health-transition", service: "web", backend: "10.0.0.2:80", from: "unknown", to: "healthy", reason: "connected" }], visible: true },
    { name: "an unchecked backend", events: [{ type: "health-transition", service: "dns", backend: "10.0.0.9:53", from: "unknown", to: "healthy", reason: "?" }], visible: false },
  ],
  probe: [
    { name: "a probe", events: [{ type: "probe", service: "web", backend: "10.0.0.2:80", ok: false, latencyMs: 2000, reason: "timeout" }], visible: true },
    { name: "a probe of an unknown backend", events: [{ type: "probe", service: "web", backend: "10.9.9.9:80", ok: true, latencyMs: 1, reason: "connected" }], visible: false },
  ],
  "weight-change": [
    { name: "a weight", events: [{ type: "weight-change", service: "web", backend: "10.0.0.1:80", from: 5, to: 0, reason: "health" }], visible: true },
    { name: "a weight of an unknown backend", events: [{ type: "weight-change", service: "gone", backend: "10.0.0.1:80", from: 5, to: 0, reason: "health" }], visible: false },
  ],
  "change-limit-hit": [{ name: "a limit hit", events: [{ type: "change-limit-hit", limit: "max_destinations_deleted", planned: 30, max: 20 }], visible: true }],
  "ipvs-stats": [
    { name: "a stats sample", events: [stats(5000)], visible: true },
    { name: "a stats sample with another kernel weight", events: [stats(1000, 2)], visible: true },
    { name: "a sample without a backend", events: [{ type: "ipvs-stats", destinations: [sample("web", "10.0.0.1:80", 80, { bytesIn: 9000, weight: 5 })] }], visible: true },
  ],
  error: [{ name: "an error", events: [{ type: "error", message: "x" }], visible: false }],
  "kubernetes-connection": [{ name: "API server unreachable", events: [{ type: "kubernetes-connection", connected: false, error: "refused" }], visible: true }],
  "kubernetes-leader": [{ name: "leader", events: [{ type: "kubernetes-leader", leader: true, lease: "lbctl-x", identity: "lb-a" }], visible: true }],
  "kubernetes-pools": [{ name: "one more allocated", events: [{ type: "kubernetes-pools", pools: [{ pool: "default", allocated: 3, free: 13 }] }], visible: true }],
  "kubernetes-removal": [{ name: "a removal", events: [{ type: "kubernetes-removal", service: "k8s/a/b/http", reason: "Service deleted", services: 1, destinations: 0 }], visible: false }],
  "controlplane-started": [
    { name: "restarted with a renewed certificate", events: [{ type: "controlplane-started", mode: "secondary", certificateExpiry: { local: 1_950_000_000, ca: 2_100_000_000 } }], visible: true },
  ],
  "controlplane-peer": [
    { name: "the primary's CN connected", events: [{ type: "controlplane-peer", peer: "lb-a", connected: true }], visible: true },
    { name: "the placeholder down again", events: [{ type: "controlplane-peer", peer: "primary", connected: false }], visible: false },
  ],
  "controlplane-peer-gone": [
    { name: "the placeholder dropped", events: [{ type: "controlplane-peer-gone", peer: "primary" }], visible: true },
    { name: "an unknown peer dropped", events: [{ type: "controlplane-peer-gone", peer: "lb-q" }], visible: false },
  ],
  "controlplane-update": [{ name: "an update applied", events: [{ type: "controlplane-update", result: "applied" }], visible: true }],
  "controlplane-synced": [{ name: "a later sync", events: [{ type: "controlplane-synced", atSeconds: 1_800_000_030 }], visible: true }],
  "controlplane-audit": [
    { name: "an audit record", events: [{ type: "controlplane-audit", event: "controlplane_connected", level: "info", message: "Connected", fields: { peer_cn: "lb-a" } }], visible: false },
  ],
  "drain-started": [
    {
      name: "another destination drains",
      events: [{ type: "drain-started", service: "tcp:192.0.2.10:80", destination: "10.0.0.8:80", deadline: 1_800_000_000_000, connections: 1, resumed: true }],
      visible: true,
    },
  ],
  "drain-ended": [
    { name: "the drain finished", events: [{ type: "drain-ended", service: "tcp:192.0.2.10:80", destination: "10.0.0.7:80", reason: "drained", connections: 0 }], visible: true },
    { name: "a drain not known", events: [{ type: "drain-ended", service: "tcp:192.0.2.10:80", destination: "10.0.0.99:80", reason: "gone", connections: 0 }], visible: false },
  ],
  quorum: [
    { name: "quorum regained", events: [{ type: "quorum", service: "web", up: true, liveWeight: 2, quorum: 1, hysteresis: 0 }], visible: true },
    { name: "quorum lost by dns", events: [{ type: "quorum", service: "dns", up: false, liveWeight: 0, quorum: 2, hysteresis: 1 }], visible: true },
  ],
  "slow-start": [
    { name: "a ramp done", events: [{ type: "slow-start", service: "web", backend: "10.0.0.1:80", phase: "done" }], visible: true },
    { name: "a ramp started", events: [{ type: "slow-start", service: "web", backend: "10.0.0.2:80", phase: "started", durationMs: 1000 }], visible: true },
  ],
  "backend-override": [
    { name: "an override set", events: [{ type: "backend-override", action: "set", override: { ...OVERRIDE, backend: "10.0.0.1:80", kind: "weight", weight: 3 } }], visible: true },
    { name: "an override expired", events: [{ type: "backend-override", action: "expired", override: OVERRIDE }], visible: true },
  ],
  "config-committed": [
    { name: "a shell commit", events: [{ type: "config-committed", origin: "shell", by: { user: "alice" }, files: ["/etc/lbctl/config.d/web.yaml"], result: "success" }], visible: false },
  ],
  "config-lock-broken": [{ name: "a broken lock", events: [{ type: "config-lock-broken", by: { user: "alice" }, holder: { user: "bob", host: "lb-a", pid: 42 } }], visible: false }],
};

/**
 * The text of a scrape through the cache, a fresh registry's, and prom-client's rendering of the same series. After a
 * stats sample, once its render ahead is done (a scrape before that is served the families as before the sample: see
 * "rendering ahead of the scrape").
 */
async function renders(model: MetricsModel, cached: MetricsRegistry): Promise<{ cached: string; fresh: string; oracle: string }> {
  await cached.settled();
  return {
    cached: await cached.scrapeText(),
    fresh: await createMetricsRegistry(model, { processMetrics: false }).scrapeText(),
    oracle: await cached.registry.metrics(),
  };
}

function familyTexts(model: MetricsModel): Map<FamilyKey, string> {
  return new Map(KEYS.map((key) => [key, familyText(model, key)]));
}

describe("the cached exposition after each kind of model change", () => {
  for (const [type, variants] of Object.entries(CHANGES)) {
    for (const change of variants) {
      test(`${type}: ${change.name}`, async () => {
        const model = busyModel();
        const registry = createMetricsRegistry(model, { processMetrics: false });
        const before = await registry.scrapeText();
        // The cache holds every family now: the next scrape without a change serves the same bytes.
        expect(await registry.scrapeText()).toBe(before);
        const textsBefore = familyTexts(model);
        const generation = model.generation;

        let after = { cached: before, fresh: before, oracle: before };
        for (const event of change.events) {
          model.emit(event);
          after = await renders(model, registry);
          expect(after.cached).toBe(after.oracle);
          expect(after.cached).toBe(after.fresh);
        }
        if (change.visible) expect(after.cached).not.toBe(before);
        else expect(after.cached).toBe(before);
        // Every family whose text changed says so through its generation.
        const textsAfter = familyTexts(model);
        const changed = KEYS.filter((key) => textsAfter.get(key) !== textsBefore.get(key));
        if (change.visible) expect(changed.length).toBeGreaterThan(0);
        for (const key of changed) expect({ key, changedAt: model.changedAt(key) > generation }).toEqual({ key, changedAt: true });
      });
    }
  }

  test("every event that changes the model bumps its generation; the others leave it", () => {
    const mutating: string[] = [];
    for (const [type, variants] of Object.entries(CHANGES)) {
      const model = busyModel();
      const generation = model.generation;
      model.emit(variants[0]!.events[0]!);
      if (model.generation > generation) mutating.push(type);
    }
    expect(mutating.sort()).toEqual(
      ["backend-override", "bgp-announcement", "change-limit-hit", "config-loaded", "config-refused", "connection-sync", "controlplane-peer", "controlplane-peer-gone", "controlplane-started", "controlplane-synced", "controlplane-update", "daemon-started", "drain-ended", "drain-started", "health-transition", "ipvs-stats", "kernel-changes", "kubernetes-connection", "kubernetes-leader", "kubernetes-pools", "probe", "quorum", "reconcile", "slow-start", "vip-state", "vip-transition", "weight-change"].sort(),
    );
  });

  test("a random sequence of 400 events: each scrape is prom-client's rendering of the model, or of the model before the sample being rendered ahead", async () => {
    let seed = 12345;
    const random = (n: number) => {
      // In 32-bit integer arithmetic: a float product past 2^53 loses the low bits and the sequence collapses.
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const pool = Object.values(CHANGES).flat().flatMap((change) => change.events);
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    const oracle = () => registry.registry.metrics();
    await registry.scrapeText();
    /** The stats sample being rendered ahead: prom-client's families just before it, its generation; or two samples. */
    let pending: { before: string[]; generation: number } | "two samples" | undefined;
    const distinct = new Set<string>();
    let previousServed = 0;
    for (let i = 0; i < 400; i++) {
      const pick = pool[random(pool.length)]!;
      const event = pick.type === "ipvs-stats" && pick.destinations.length > 1 ? stats(1000 + i * 10) : pick;
      const before = (await oracle()).split("\n\n");
      model.emit(event);
      if (event.type === "ipvs-stats") pending = pending ? "two samples" : { before, generation: model.generation };
      const text = await registry.scrapeText();
      const now = await oracle();
      distinct.add(text);
      // Served the families as before the sample only while it alone changed them since: every one of them as before,
      // every other family as of now.
      const sample = typeof pending === "object" ? pending : undefined;
      const alone = sample !== undefined && TRAFFIC.every((key) => model.changedAt(key) === sample.generation);
      if (text !== now) {
        expect({ i, event: event.type, alone }).toEqual({ i, event: event.type, alone: true });
        const old = sample!.before;
        expect(text).toBe(now.split("\n\n").map((family, f) => (TRAFFIC.includes(KEYS[f]!) ? old[f] : family)).join("\n\n"));
        previousServed++;
      } else if (!alone) {
        // The scrape waited for the render ahead: it is done.
        pending = undefined;
      }
      if (random(3) === 0) {
        await registry.settled();
        pending = undefined;
        expect(await registry.scrapeText()).toBe(now);
      }
    }
    // The sequence did change what is served, many times, and scrapes were served the families as before a sample.
    expect(distinct.size).toBeGreaterThan(100);
    expect(previousServed).toBeGreaterThan(10);
  });

  test("only the families that changed are rendered again", () => {
    const model = busyModel();
    const cache = new ExpositionCache(model, KEYS);
    const first = cache.families();
    expect(cache.families()).toEqual(first);
    expect(cache.families().every((family, i) => family === first[i])).toBe(true);
    model.emit({ type: "health-transition", service: "web", backend: "10.0.0.1:80", from: "unknown", to: "healthy", reason: "connected" });
    const second = cache.families();
    const rendered = KEYS.filter((_, i) => second[i] !== first[i]);
    expect(rendered).toEqual(["backendHealthy"]);
    model.emit({ type: "reconcile", result: "success", trigger: "interval", durationMs: 1, changes: 0 });
    const third = cache.families();
    expect(KEYS.filter((_, i) => third[i] !== second[i])).toEqual(["vipIsOwner", "vipTransitions", "reconcileRuns", "reconcileDuration"]);
  });
});

describe("rendering ahead of the scrape", () => {
  test("after a stats sample the families it changed are rendered in later turns of the loop, without a scrape", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    const cache = new ExpositionCache(model, KEYS);
    model.onStatsSample((change) => cache.renderAhead(change));
    cache.families();
    expect(cache.stale()).toEqual([]);
    model.emit(stats(4242));
    // Nothing on the emitter's path: the sample's families are all stale right after it.
    expect(cache.stale().sort()).toEqual([...TRAFFIC].sort());
    await cache.settled();
    expect(cache.stale()).toEqual([]);
    const text = new TextDecoder().decode(cache.exposition(cache.families(), new TextEncoder().encode("\n")).plain());
    expect(text).toBe(await registry.registry.metrics());
  });

  test("only the sample's families are rendered ahead; before the first scrape nothing is", async () => {
    const model = busyModel();
    const cache = new ExpositionCache(model, KEYS);
    model.onStatsSample((change) => cache.renderAhead(change));
    model.emit(stats(10));
    await cache.settled();
    expect(cache.stale()).toEqual(KEYS);
    cache.families();
    model.emit({ type: "probe", service: "web", backend: "10.0.0.1:80", ok: true, latencyMs: 4, reason: "connected" });
    model.emit(stats(20));
    await cache.settled();
    expect(cache.stale()).toEqual(["checkLatency"]);
  });

  test("a scrape during the render ahead is served the families as before the sample, all of them, without waiting", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    await registry.scrape().then((exposition) => exposition.gzip());
    for (let i = 1; i <= 3; i++) {
      const before = await registry.registry.metrics();
      model.emit(stats(5000 * i));
      let done = false;
      void registry.settled().then(() => (done = true));
      const exposition = await registry.scrape();
      const [plain, gzip] = [new TextDecoder().decode(exposition.plain()), gunzipSync(await exposition.gzip()).toString()];
      // Positive sign that the render ahead was still in progress: it had not finished when the scrape was served.
      expect(done).toBe(false);
      expect(plain).toBe(before);
      expect(gzip).toBe(before);
      await registry.settled();
      const after = await registry.scrape();
      const now = await registry.registry.metrics();
      expect(now).not.toBe(before);
      expect(new TextDecoder().decode(after.plain())).toBe(now);
      expect(gunzipSync(await after.gzip()).toString()).toBe(now);
    }
  });

  test("during the render ahead, a change of another family is served at once, beside the families as before the sample", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    await registry.scrapeText();
    const before = (await registry.registry.metrics()).split("\n\n");
    model.emit(stats(7000));
    model.emit({ type: "reconcile", result: "failure", trigger: "interval", durationMs: 2, changes: 0, error: "x" });
    const now = (await registry.registry.metrics()).split("\n\n");
    const text = await registry.scrapeText();
    const reconcile = KEYS.indexOf("reconcileRuns");
    expect(text.split("\n\n")[reconcile]).toBe(now[reconcile]);
    expect(now[reconcile]).not.toBe(before[reconcile]);
    expect(text).toBe(now.map((family, f) => (TRAFFIC.includes(KEYS[f]!) ? before[f] : family)).join("\n\n"));
  });

  test("two samples in one render ahead, or a sample after an unscraped reload: the scrape waits and has every change", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    await registry.scrapeText();
    model.emit(stats(100));
    model.emit(stats(200));
    expect(await registry.scrapeText()).toBe(await registry.registry.metrics());
    // A reload changes the traffic families; no scrape renders them before the next sample.
    model.emit(configLoaded([{ ...WEB, backends: [...WEB.backends, "10.0.0.3:80"] }, DNS], { startup: false }));
    model.emit(stats(300));
    const text = await registry.scrapeText();
    expect(text).toBe(await registry.registry.metrics());
    expect(text).toContain(`backend="10.0.0.3:80"`);
  });

  test("a scrape that arrives while the families are rendered ahead waits for them and has every change", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    await registry.scrapeText();
    for (let i = 1; i <= 5; i++) {
      model.emit(stats(1000 * i, i));
      // A change right after the sample, while its families wait for their turn.
      model.emit({ type: "weight-change", service: "web", backend: "10.0.0.2:80", from: 5, to: i, reason: "health" });
      expect(await registry.scrapeText()).toBe(await registry.registry.metrics());
    }
  });
});

describe("gzip", () => {
  /** The gzip body of a scrape, checked to be one member: one DEFLATE stream holds the whole text. */
  async function gzipOf(registry: MetricsRegistry): Promise<{ plain: Uint8Array; gzip: Uint8Array }> {
    const exposition = await registry.scrape();
    return { plain: exposition.plain(), gzip: await exposition.gzip() };
  }

  test("the body gunzips to the plain text, as one member with the right CRC and size; again after changes", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model);
    for (const event of [undefined, stats(77_777), { type: "probe", service: "web", backend: "10.0.0.1:80", ok: true, latencyMs: 0.2, reason: "connected" } as DaemonEvent]) {
      if (event) model.emit(event);
      const { plain, gzip } = await gzipOf(registry);
      expect(new TextDecoder().decode(gunzipSync(gzip))).toBe(new TextDecoder().decode(plain));
      expect(Buffer.from(inflateRawSync(gzip.subarray(10, -8))).equals(Buffer.from(plain))).toBe(true);
      const trailer = Buffer.from(gzip.subarray(-8));
      expect(trailer.readUInt32LE(0)).toBe(Bun.hash.crc32(plain) >>> 0);
      expect(trailer.readUInt32LE(4)).toBe(plain.length);
    }
  });

  test("a large exposition (many DEFLATE blocks per family) compresses well and round-trips", async () => {
    const model = new MetricsModel();
    const backends = Array.from({ length: 5000 }, (_, i) => `10.1.${i >> 8}.${i & 255}:80`);
    model.emit(configLoaded([{ service: "big", backends, health: true }]));
    model.emit({ type: "ipvs-stats", destinations: backends.map((b, i) => sample("big", b, 80, { bytesIn: 2 ** 40 + i * 7919, connections: i })) });
    const { plain, gzip } = await gzipOf(createMetricsRegistry(model, { processMetrics: false }));
    expect(plain.length).toBeGreaterThan(2_000_000);
    expect(gzip.length).toBeLessThan(plain.length / 5);
    expect(Buffer.from(gunzipSync(gzip)).equals(Buffer.from(plain))).toBe(true);
  });

  test("once a scraper asked for gzip, a family rendered again goes to the compressor at once; before, never", async () => {
    const model = busyModel();
    const cache = new ExpositionCache(model, KEYS);
    const tail = new Uint8Array([0x0a]);
    let families = cache.families();
    model.emit(stats(2000));
    families = cache.families();
    cache.exposition(families, tail).plain();
    expect(families.filter((family) => family.compressing)).toEqual([]);
    const gzip = await cache.exposition(families, tail).gzip();
    expect(gunzipSync(gzip).toString()).toBe(`${KEYS.map((key) => familyText(model, key)).join("\n\n")}\n`);
    model.emit(stats(3000));
    const next = cache.families();
    const rendered = next.filter((family, i) => family !== families[i]);
    expect(rendered).toHaveLength(7);
    expect(rendered.every((family) => family.compressing)).toBe(true);
  });

  test("concurrent scrapes of one generation share one compression per family", async () => {
    const model = busyModel();
    const registry = createMetricsRegistry(model, { processMetrics: false });
    const [a, b] = await Promise.all([registry.scrape(), registry.scrape()]);
    const [ga, gb] = await Promise.all([a.gzip(), b.gzip()]);
    expect(Buffer.from(ga).equals(Buffer.from(gb))).toBe(true);
    const cache = new ExpositionCache(model, KEYS);
    const family = cache.families()[0]!;
    expect(family.deflated()).toBe(family.deflated());
  });
});

test("crc32Combine: the CRC of a concatenation from its parts' CRCs", () => {
  const bytes = (n: number, fill: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + fill) & 255);
  for (const [a, b] of [
    [0, 0],
    [0, 9],
    [9, 0],
    [1, 1],
    [1000, 3],
    [5, 200_000],
  ] as const) {
    const left = bytes(a, 1);
    const right = bytes(b, 2);
    const whole = new Uint8Array(a + b);
    whole.set(left);
    whole.set(right, a);
    expect(crc32Combine(Bun.hash.crc32(left), Bun.hash.crc32(right), b)).toBe(Bun.hash.crc32(whole) >>> 0);
  }
});
