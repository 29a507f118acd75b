/**
 * The metrics as a pure function of the daemon's events: no timers, no I/O, no prom-client. The exposition reads
 * this model at scrape time; tests feed it events and read it back.
 *
 * Every change goes through `emit` and bumps `generation`; each family also records the generation of its own last
 * change (`changedAt`), so the exposition re-renders only the families that changed since it last rendered them.
 * A reconcile every second touches two small families; the six big traffic families change once per stats cycle.
 */

import type { DaemonEvent, DestinationSample, EventSink, KernelChange, ServiceInventory } from "../events.ts";
import { CHECK_LATENCY_BUCKETS, FAMILIES, RECONCILE_BUCKETS, type FamilyKey, type LabelSet } from "./families.ts";
import { HistogramCounts } from "./histogram.ts";
import { KUBERNETES_FAMILIES, KubernetesMetrics } from "./kubernetes.ts";
import { BackendTraffic, DestinationCounters } from "./traffic.ts";

/** What one stats sample changed: its families, and each one's generation just before it (changedAt). */
export interface StatsChange {
  readonly families: readonly FamilyKey[];
  readonly before: ReadonlyMap<FamilyKey, number>;
}

/** What metrics know of one (service, backend) of the config. */
export class BackendMetrics {
  /** undefined: no series (checks off, or nothing known yet). */
  healthy: 0 | 1 | undefined;
  weight: number | undefined;
  latency: HistogramCounts | undefined;
  /** undefined until the first stats sample that includes this backend. */
  traffic: BackendTraffic | undefined;
  /** Labels of this backend's series, cached per node name (series.ts). */
  labels: LabelSet | undefined;
  labelNode = "";

  constructor(
    readonly service: string,
    readonly backend: string,
    public checked: boolean,
  ) {}
}

export interface VipMetrics {
  owner: 0 | 1;
  acquire: number;
  release: number;
}

/** Config replication's series (spec/controlplane.md), present only once a control plane started. */
export interface ControlPlaneMetrics {
  /** peer → 1 connected, 0 not. */
  readonly connected: Map<string, 0 | 1>;
  /** result → count; the results of the node's side start at 0. */
  readonly updates: Map<string, number>;
  /** Unix seconds; undefined until the first sync. */
  lastSync: number | undefined;
  readonly certificateExpiry: { local: number; ca: number };
}

const CONTROL_PLANE_RESULTS = { primary: ["held"], secondary: ["applied", "unchanged", "refused"] } as const;

const EVERY_FAMILY = Object.keys(FAMILIES) as FamilyKey[];
const VIP_FAMILIES: readonly FamilyKey[] = ["vipIsOwner", "vipTransitions"];
/** What one stats sample moves: the IPVS counters, active connections, and the kernel's weight. */
const STATS_FAMILIES: readonly FamilyKey[] = ["connections", "connectionsActive", "packetsIn", "packetsOut", "bytesIn", "bytesOut", "backendWeight"];

export class MetricsModel implements EventSink {
  #node = "";
  readonly vips = new Map<string, VipMetrics>();
  /** Connection-sync role → 1 running, 0 stopped; only roles lbctl has reported. */
  readonly connectionSync = new Map<"master" | "backup", 0 | 1>();
  /** VIP → 1 announced over BGP, 0 withdrawn; only VIPs the announcer has reported. */
  readonly bgpAnnounced = new Map<string, 0 | 1>();
  readonly reconcileRuns = { success: 0, failure: 0 };
  readonly reconcileDuration = new HistogramCounts(RECONCILE_BUCKETS);
  readonly configReloads = { success: 0, failure: 0, refused: 0 };
  readonly changeLimitHits = new Map<string, number>();
  /** Destinations draining now, as `[virtual service, destination]` by `PROTO:VIP:PORT>ADDR:PORT`. */
  readonly draining = new Map<string, [string, string]>();
  /** Operators' overrides: `service\0backend` → what the override asks (kept whether or not the backend is configured). */
  readonly overrides = new Map<string, { service: string; backend: string; kind: string; weight: number }>();
  /** Backends ramping under slow start: `service\0backend` → labels. */
  readonly slowStarts = new Map<string, { service: string; backend: string }>();
  /** Services with a quorum rule → 1 up, 0 below quorum (from quorum events; dropped when the service leaves). */
  readonly quorum = new Map<string, 0 | 1>();
  /** Log destination → records its full queue dropped. */
  readonly logRecordsDropped = new Map<string, number>();
  readonly kubernetes = new KubernetesMetrics();
  /** undefined: no control plane (no series). */
  controlPlane: ControlPlaneMetrics | undefined;
  /** service name → backend key → metrics; only what the current config has. */
  readonly backends = new Map<string, Map<string, BackendMetrics>>();
  #backendList: readonly BackendMetrics[] = [];
  /** `PROTO:VIP:PORT` → `ADDR:PORT` → counters: how kernel changes find the destinations they restart. */
  readonly #byVirtual = new Map<string, Map<string, DestinationCounters>>();
  #batch = 0;
  /** VIPs reported since the last full reconcile (a burst of vip-state events precedes each). */
  #vipsSeen = new Set<string>();
  /** Monotonic ms of the last reconcile event: the daemon loop's liveness. */
  lastReconcileAt: number | undefined;
  #generation = 0;
  readonly #changedAt = new Map<FamilyKey, number>();
  readonly #statsListeners: Array<(change: StatsChange) => void> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  backend(service: string, backend: string): BackendMetrics | undefined {
    return this.backends.get(service)?.get(backend);
  }

  /** node.name: the `node` label. */
  get node(): string {
    return this.#node;
  }

  /** The configured backends in config order, for fast iteration at scrape time. */
  get backendList(): readonly BackendMetrics[] {
    return this.#backendList;
  }

  /** Bumped by every change of the model. */
  get generation(): number {
    return this.#generation;
  }

  /** The generation of the last change to `key`'s series (0: none since the model was created). */
  changedAt(key: FamilyKey): number {
    return this.#changedAt.get(key) ?? 0;
  }

  /**
   * `listener` runs after each stats sample with the families it changed: the bulk of the exposition (7 series per
   * backend), changed at a known moment, which the exposition cache renders ahead of the next scrape.
   */
  onStatsSample(listener: (change: StatsChange) => void): void {
    this.#statsListeners.push(listener);
  }

  /** Called by every path that changes the model, with the families whose series it may have changed. */
  #changed(families: readonly FamilyKey[]): void {
    const generation = ++this.#generation;
    for (const key of families) this.#changedAt.set(key, generation);
  }

  /** A log destination's queue was full (observability/log-queue.ts): not an event, as logging is what failed. */
  logDropped(sink: string, count: number): void {
    this.logRecordsDropped.set(sink, (this.logRecordsDropped.get(sink) ?? 0) + count);
    this.#changed(["logRecordsDropped"]);
  }

  emit(event: DaemonEvent): void {
    switch (event.type) {
      case "daemon-started":
        this.#node = event.node;
        // The node label is on every series.
        return this.#changed(EVERY_FAMILY);
      case "config-loaded":
        this.#node = event.node;
        if (!event.startup) this.configReloads.success++;
        this.#applyInventory(event.inventory);
        for (const service of this.quorum.keys()) if (!event.inventory.some((s) => s.service === service)) this.quorum.delete(service);
        return this.#changed(EVERY_FAMILY);
      case "config-refused":
        if (event.reason === "limit") this.configReloads.refused++;
        else this.configReloads.failure++;
        return this.#changed(["configReloads"]);
      case "change-limit-hit":
        this.changeLimitHits.set(event.limit, (this.changeLimitHits.get(event.limit) ?? 0) + 1);
        return this.#changed(["changeLimitHits"]);
      case "reconcile":
        this.reconcileRuns[event.result]++;
        this.reconcileDuration.observe(event.durationMs / 1000);
        this.lastReconcileAt = this.now();
        if (event.trigger !== "health") this.#pruneVips();
        return this.#changed(["reconcileRuns", "reconcileDuration", ...VIP_FAMILIES]);
      case "vip-state":
        this.#vip(event.vip).owner = event.held ? 1 : 0;
        this.#vipsSeen.add(event.vip);
        return this.#changed(VIP_FAMILIES);
      case "vip-transition":
        this.#vip(event.vip)[event.direction]++;
        return this.#changed(VIP_FAMILIES);
      case "bgp-announcement":
        this.bgpAnnounced.set(event.vip, event.announced ? 1 : 0);
        return this.#changed(["bgpAnnounced"]);
      case "connection-sync":
        this.connectionSync.set(event.role, event.running ? 1 : 0);
        return this.#changed(["connectionSyncRunning"]);
      case "health-transition": {
        const b = this.backend(event.service, event.backend);
        if (!b?.checked) return;
        b.healthy = event.to === "healthy" ? 1 : 0;
        return this.#changed(["backendHealthy"]);
      }
      case "probe": {
        const b = this.backend(event.service, event.backend);
        if (!b?.checked) return;
        b.latency ??= new HistogramCounts(CHECK_LATENCY_BUCKETS);
        b.latency.observe(event.latencyMs / 1000);
        return this.#changed(["checkLatency"]);
      }
      case "weight-change": {
        const b = this.backend(event.service, event.backend);
        if (!b) return;
        b.weight = event.to;
        return this.#changed(["backendWeight"]);
      }
      case "kernel-changes":
        for (const change of event.changes) this.#kernelChange(change);
        // A restarted destination shows only at the next stats sample (which bumps the traffic families).
        return this.#changed(["backendWeight"]);
      case "drain-started":
        this.draining.set(`${event.service}>${event.destination}`, [event.service, event.destination]);
        return this.#changed(["backendDraining"]);
      case "drain-ended":
        this.draining.delete(`${event.service}>${event.destination}`);
        return this.#changed(["backendDraining"]);
      case "ipvs-stats": {
        const before = new Map(STATS_FAMILIES.map((key) => [key, this.changedAt(key)]));
        this.#stats(event.destinations);
        this.#changed(STATS_FAMILIES);
        for (const listener of this.#statsListeners) listener({ families: STATS_FAMILIES, before });
        return;
      }
      case "backend-override": {
        const { service, backend, kind, weight } = event.override;
        const key = `${service}\u0000${backend}`;
        if (event.action === "set" || event.action === "restored") this.overrides.set(key, { service, backend, kind, weight });
        else this.overrides.delete(key);
        return this.#changed(["backendOverride"]);
      }
      case "quorum":
        this.quorum.set(event.service, event.up ? 1 : 0);
        return this.#changed(["serviceQuorum"]);
      case "slow-start": {
        const key = `${event.service}\u0000${event.backend}`;
        if (event.phase === "started") this.slowStarts.set(key, { service: event.service, backend: event.backend });
        else this.slowStarts.delete(key);
        return this.#changed(["backendSlowStart"]);
      }
      case "kubernetes-connection":
      case "kubernetes-leader":
      case "kubernetes-pools":
        this.kubernetes.apply(event);
        return this.#changed(KUBERNETES_FAMILIES);
      case "controlplane-started":
        this.controlPlane = {
          connected: this.controlPlane?.connected ?? new Map(),
          updates: this.controlPlane?.updates ?? new Map(CONTROL_PLANE_RESULTS[event.mode].map((result) => [result, 0])),
          lastSync: this.controlPlane?.lastSync,
          certificateExpiry: { ...event.certificateExpiry },
        };
        return this.#changed(["controlPlaneConnected", "controlPlaneUpdates", "controlPlaneLastSync", "controlPlaneCertificateExpiry"]);
      case "controlplane-peer":
        this.controlPlane?.connected.set(event.peer, event.connected ? 1 : 0);
        return this.#changed(["controlPlaneConnected"]);
      case "controlplane-peer-gone":
        this.controlPlane?.connected.delete(event.peer);
        return this.#changed(["controlPlaneConnected"]);
      case "controlplane-update": {
        const updates = this.controlPlane?.updates;
        updates?.set(event.result, (updates.get(event.result) ?? 0) + 1);
        return this.#changed(["controlPlaneUpdates"]);
      }
      case "controlplane-synced":
        if (this.controlPlane) this.controlPlane.lastSync = event.atSeconds;
        return this.#changed(["controlPlaneLastSync"]);
      case "controlplane-audit":
      case "daemon-stopping":
      case "kubernetes-removal":
      case "config-committed":
      case "config-lock-broken":
      case "error":
        return;
    }
  }

  #vip(vip: string): VipMetrics {
    let v = this.vips.get(vip);
    if (!v) this.vips.set(vip, (v = { owner: 0, acquire: 0, release: 0 }));
    return v;
  }

  /** VIPs no longer managed lose their series once a reconcile has reported the managed set. */
  #pruneVips(): void {
    if (this.#vipsSeen.size === 0) return;
    for (const vip of this.vips.keys()) if (!this.#vipsSeen.has(vip)) this.vips.delete(vip);
    this.#vipsSeen = new Set();
  }

  #applyInventory(inventory: readonly ServiceInventory[]): void {
    const next = new Map<string, Map<string, BackendMetrics>>();
    for (const service of inventory) {
      const old = this.backends.get(service.service);
      const backends = new Map<string, BackendMetrics>();
      for (const key of service.backends) {
        const b = old?.get(key) ?? new BackendMetrics(service.service, key, service.health);
        b.checked = service.health;
        if (service.health) b.healthy ??= 0;
        else {
          b.healthy = undefined;
          b.latency = undefined;
        }
        backends.set(key, b);
      }
      next.set(service.service, backends);
    }
    for (const [service, backends] of this.backends) {
      for (const [key, b] of backends) if (next.get(service)?.get(key) !== b) this.#forgetTraffic(b);
    }
    this.backends.clear();
    for (const [service, backends] of next) this.backends.set(service, backends);
    this.#backendList = [...next.values()].flatMap((backends) => [...backends.values()]);
  }

  #forgetTraffic(b: BackendMetrics): void {
    for (const d of b.traffic?.destinations.values() ?? []) this.#unindex(d);
    b.traffic = undefined;
  }

  /** A destination now counted for another backend: its total so far stays with the old one. */
  #forgetDestination(d: DestinationCounters): void {
    d.owner.retire(d);
    this.#unindex(d);
  }

  #unindex(d: DestinationCounters): void {
    const byDestination = this.#byVirtual.get(d.virtualService);
    if (byDestination?.get(d.destination) !== d) return;
    byDestination.delete(d.destination);
    if (byDestination.size === 0) this.#byVirtual.delete(d.virtualService);
  }

  #kernelChange(event: KernelChange): void {
    // Before the first stats sample (a start-up reconcile) no destination has counters to restart.
    const byDestination = this.#byVirtual.size === 0 ? undefined : this.#byVirtual.get(event.service);
    switch (event.op) {
      case "create-service":
      case "delete-service":
        for (const d of byDestination?.values() ?? []) d.restart();
        return;
      case "create-destination":
      case "delete-destination":
        if (event.destination) byDestination?.get(event.destination)?.restart();
        break;
      case "update-service":
        return;
      case "update-destination":
        break;
    }
    if (event.op === "delete-destination" || event.weight === undefined || !event.name || !event.backend) return;
    const b = this.backend(event.name, event.backend);
    if (b) b.weight = event.weight;
  }

  #stats(samples: readonly DestinationSample[]): void {
    const batch = ++this.#batch;
    for (const sample of samples) {
      let byDestination = this.#byVirtual.get(sample.virtualService);
      let d = byDestination?.get(sample.destination);
      if (!d || d.owner.service !== sample.service || d.owner.backend !== sample.backend) {
        const b = this.backend(sample.service, sample.backend);
        if (!b) continue;
        if (d) this.#forgetDestination(d);
        const traffic = (b.traffic ??= new BackendTraffic(b.service, b.backend));
        d = new DestinationCounters(sample.virtualService, sample.destination, traffic);
        traffic.destinations.set(`${sample.virtualService}>${sample.destination}`, d);
        if (!byDestination) this.#byVirtual.set(sample.virtualService, (byDestination = new Map()));
        byDestination.set(sample.destination, d);
      }
      d.update(sample, batch);
    }
    const retire = (d: DestinationCounters) => this.#unindex(d);
    for (const b of this.#backendList) {
      if (!b.traffic) continue;
      b.traffic.settle(batch, retire);
      if (b.traffic.weight !== undefined) b.weight = b.traffic.weight;
    }
  }
}
