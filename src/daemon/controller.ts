/**
 * The daemon's decisions, free of timers, sockets and signals (the runner wires those): converge the kernel on the
 * config every tick (drift repair), gate each VIP on whether this node holds it, turn health transitions into
 * weight changes at once, and swap configs on reload only when the new one is valid and within the change limits.
 */

import { backendKey, configuredVips, servicePorts, serviceVip, type Config, type LoadedService } from "../config/model.ts";
import type { LoadResult } from "../config/load.ts";
import { formatIssue } from "../config/errors.ts";
import { healthTargets } from "../health/targets.ts";
import type { HealthTarget, HealthTransition } from "../health/types.ts";
import type { IpvsClient, IpvsOperation, KernelServiceEntry } from "../ipvs/types.ts";
import type { Change } from "../plan/changes.ts";
import { desiredServices, type WeightOf } from "../plan/desired.ts";
import { reconcile, type ReconcileOutcome } from "../plan/reconcile.ts";
import { configHash } from "./config-hash.ts";
import type { EventSink, ReconcileTrigger, ServiceInventory } from "./events.ts";
import { StateCache } from "./state-cache.ts";
import { StatsIndex } from "./stats.ts";

/** What the controller needs of the health monitor (src/health/monitor.ts). */
export interface HealthChecks {
  sync(targets: readonly HealthTarget[], options?: { probeFirst?: Iterable<string> }): unknown;
  state(id: string): { state: "unknown" | "healthy" | "unhealthy" } | undefined;
}

export interface LocalAddresses {
  /** Every address on a local interface now, in canonical text form. */
  localAddresses(): ReadonlySet<string>;
}

export interface VipRecord {
  read(stateDir: string): string[];
  write(stateDir: string, vips: Iterable<string>): void;
}

export interface ControllerDeps {
  load: () => LoadResult;
  ipvs: IpvsClient;
  addresses: LocalAddresses;
  health: HealthChecks;
  events: EventSink;
  vipRecord: VipRecord;
  /** Monotonic milliseconds. */
  now: () => number;
}

export interface ReloadOptions {
  dryRun?: boolean;
  /** Ignore change limits (`lbctl apply --force` through the daemon). */
  force?: boolean;
}

export type ReloadResult =
  | { result: "success"; changes: Change[]; hash: string }
  | { result: "planned"; changes: Change[] }
  | { result: "failure"; message: string; changes?: Change[]; failed?: Change; rolledBack?: boolean }
  | { result: "refused"; message: string; changes: Change[]; limit: { name: string; limit: number; planned: number } };

export class ControllerStartError extends Error {
  override readonly name = "ControllerStartError";
}

const targetKey = (service: string, backend: string) => `${service}/${backend}`;

export class Controller {
  #config: Config;
  #hash: string;
  #managed = new Set<string>();
  #held = new Set<string>();
  /** Targets adopted from the kernel at start: they keep the kernel's weight until their first probe. */
  readonly #adopting = new Set<string>();
  readonly #cache: StateCache;
  #cycles = 0;
  /** The config side of the stats join; rebuilt when the config changes. */
  #statsIndex: StatsIndex | undefined;
  /** What the state file says; read at start, written only when the managed set changes. */
  #recorded = new Set<string>();

  private constructor(
    private readonly deps: ControllerDeps,
    config: Config,
  ) {
    this.#config = config;
    this.#hash = configHash(config);
    this.#cache = new StateCache(deps.ipvs, deps.now, config.main.daemon.state_cache);
  }

  /** Loads the config (fatal when invalid), adopts the kernel table, starts checks and converges once. */
  static start(deps: ControllerDeps): Controller {
    const loaded = deps.load();
    if (!loaded.ok) throw new ControllerStartError(`Config is not valid:\n${loaded.issues.map(formatIssue).join("\n")}`);
    const controller = new Controller(deps, loaded.config);
    controller.#recorded = new Set(deps.vipRecord.read(loaded.config.main.system.state_dir));
    controller.#adopt();
    deps.events.emit({ type: "config-loaded", startup: true, hash: controller.#hash, files: loaded.config.files, ...sizes(loaded.config), ...inventory(loaded.config) });
    controller.tick("startup");
    return controller;
  }

  get config(): Config {
    return this.#config;
  }

  get heldVips(): ReadonlySet<string> {
    return this.#held;
  }

  get managedVips(): ReadonlySet<string> {
    return this.#managed;
  }

  /** Reconcile cycles run so far (stats are collected every N cycles). */
  get cycles(): number {
    return this.#cycles;
  }

  /** The kernel table as last read (through the state cache). */
  kernel(): readonly KernelServiceEntry[] {
    return this.#cache.get();
  }

  /** Drift repair and VIP gating: the periodic convergence. Change limits do not apply (the config did not change). */
  tick(trigger: ReconcileTrigger = "interval"): ReconcileOutcome | undefined {
    this.#cycles++;
    this.#refreshVips();
    const outcome = this.#converge(trigger, this.#config);
    if (this.#cycles % this.#config.main.daemon.stats_collection_interval_cycles === 0) this.#sampleStats();
    return outcome;
  }

  /** Kernel counters of every configured destination, for the metrics sinks. */
  #sampleStats(): void {
    let kernel: readonly KernelServiceEntry[];
    try {
      kernel = this.#cache.get();
    } catch (error) {
      this.deps.events.emit({ type: "error", message: `Reading IPVS statistics failed: ${(error as Error).message}` });
      return;
    }
    this.#statsIndex ??= new StatsIndex(desiredServices(this.#config));
    this.deps.events.emit({ type: "ipvs-stats", destinations: this.#statsIndex.samples(kernel) });
  }

  /** A target changed state: set the weight of that backend's destinations now, without waiting for a tick. */
  onHealthTransition(transition: HealthTransition): void {
    const decidedAt = this.deps.now();
    this.#adopting.delete(transition.targetId);
    this.deps.events.emit({
      type: "health-transition",
      service: transition.service,
      backend: transition.backend,
      from: transition.from,
      to: transition.to,
      reason: transition.result.reason,
    });
    const service = this.#config.services.find((s) => s.name === transition.service);
    const configured = service?.backends.find((b) => service && backendKeyOf(service, b) === transition.backend)?.weight;
    const previous = configured === undefined ? undefined : transition.from === "unhealthy" ? 0 : configured;
    if (service) this.#applyBackendWeight(service, transition.backend, previous, decidedAt);
  }

  /** The first probe of an adopted target ends its adoption even without a transition (e.g. unknown → healthy is one). */
  onProbe(targetId: string): void {
    if (!this.#adopting.delete(targetId)) return;
    const [serviceName, backend] = splitTargetId(targetId);
    const service = this.#config.services.find((s) => s.name === serviceName);
    if (service && backend) this.#applyBackendWeight(service, backend);
  }

  /** SIGHUP / POST /v1/reload: load and validate first; only a valid config within the change limits is swapped in. */
  reload(options: ReloadOptions = {}): ReloadResult {
    const loaded = this.deps.load();
    if (!loaded.ok) {
      const message = loaded.issues.map(formatIssue).join("\n");
      if (!options.dryRun) this.deps.events.emit({ type: "config-refused", reason: "invalid", message });
      return { result: "failure", message };
    }
    const next = loaded.config;
    let targets: HealthTarget[];
    try {
      targets = healthTargets(next);
    } catch (error) {
      return this.#refuse((error as Error).message, options);
    }
    const outcome = this.#plan(next, { dryRun: true, vips: this.#vipsFor(next), limits: options.force ? undefined : next.main.daemon.change_limits });
    if (outcome.kind === "limit") {
      const { name, limit, planned } = outcome.limit;
      const message = `The new config would delete ${planned} (daemon.change_limits.${name} is ${limit}): kept the running config`;
      if (!options.dryRun) {
        this.deps.events.emit({ type: "change-limit-hit", limit: name, planned, max: limit });
        this.deps.events.emit({ type: "config-refused", reason: "limit", message, limit: outcome.limit });
      }
      return { result: "refused", message, changes: outcome.plan.changes, limit: outcome.limit };
    }
    if (options.dryRun) return { result: "planned", changes: outcome.plan.changes };
    try {
      this.deps.health.sync(targets);
    } catch (error) {
      return this.#refuse((error as Error).message, options);
    }
    const previousHash = this.#hash;
    this.#config = next;
    this.#statsIndex = undefined;
    this.#hash = configHash(next);
    this.#cache.configure(next.main.daemon.state_cache);
    this.deps.events.emit({ type: "config-loaded", startup: false, hash: this.#hash, previousHash, files: next.files, ...sizes(next), ...inventory(next) });
    this.#refreshVips(next);
    const applied = this.#converge("reload", next);
    if (applied?.kind === "failed") {
      const { failed, error, rolledBack } = applied.execution;
      return { result: "failure", message: error.message, changes: applied.plan.changes, failed, rolledBack };
    }
    return { result: "success", changes: applied?.plan.changes ?? [], hash: this.#hash };
  }

  /** The weight the planner gives a backend: 0 when its checks say unhealthy; the kernel's while adopted. */
  readonly weightOf: WeightOf = (service: LoadedService, backend: string, configured: number) => {
    if (!service.health.enabled) return configured;
    const id = targetKey(service.name, backend);
    const state = this.deps.health.state(id)?.state ?? "unknown";
    if (state === "unhealthy") return 0;
    if (state === "unknown" && this.#adopting.has(id)) return "kernel";
    return configured;
  };

  #refuse(message: string, options: ReloadOptions): ReloadResult {
    if (!options.dryRun) this.deps.events.emit({ type: "config-refused", reason: "error", message });
    return { result: "failure", message };
  }

  /** At start: targets whose destinations are already in the kernel keep its weights until probed (probed first). */
  #adopt(): void {
    const kernel = this.#cache.get();
    const present = new Set<string>();
    for (const entry of kernel) {
      for (const d of entry.destinations) present.add(`${entry.service.protocol}:${entry.service.address}:${entry.service.port}>${d.address}:${d.port}`);
    }
    const desired = desiredServices(this.#config);
    for (const service of desired) {
      for (const d of service.destinations) {
        if (present.has(`${service.protocol}:${service.address}:${service.port}>${d.address}:${d.port}`)) this.#adopting.add(targetKey(service.name, d.backend));
      }
    }
    const targets = healthTargets(this.#config);
    for (const id of [...this.#adopting]) if (!targets.some((t) => t.id === id)) this.#adopting.delete(id);
    this.deps.health.sync(targets, { probeFirst: this.#adopting });
  }

  /** Managed VIPs (config + recorded + still managed) and those of them held on a local interface now. */
  #vipsFor(config: Config): { managed: Set<string>; held: Set<string> } {
    const managed = new Set([...configuredVips(config), ...this.#recorded, ...this.#managed]);
    const local = this.deps.addresses.localAddresses();
    return { managed, held: new Set([...managed].filter((vip) => local.has(vip))) };
  }

  #refreshVips(config: Config = this.#config): void {
    const { managed, held } = this.#vipsFor(config);
    for (const vip of managed) {
      const was = this.#held.has(vip);
      const is = held.has(vip);
      if (was !== is) this.deps.events.emit({ type: "vip-transition", vip, direction: is ? "acquire" : "release" });
      this.deps.events.emit({ type: "vip-state", vip, held: is });
    }
    this.#managed = managed;
    this.#held = held;
  }

  #plan(
    config: Config,
    options: {
      dryRun: boolean;
      vips?: { managed: ReadonlySet<string>; held: ReadonlySet<string> };
      limits?: Config["main"]["daemon"]["change_limits"] | undefined;
      reason?: "config" | "drift";
    },
  ): ReconcileOutcome {
    const cold = config.main.daemon.standby === "cold";
    const { managed, held } = options.vips ?? { managed: this.#managed, held: this.#held };
    return reconcile({
      config,
      client: this.deps.ipvs,
      kernel: this.#cache.get(),
      managedVips: managed,
      weightOf: this.weightOf,
      weightReason: (d) => (d.weight === 0 && d.configuredWeight !== 0 ? "health" : (options.reason ?? "config")),
      ...(cold ? { includeVip: (vip: string) => held.has(vip) } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
      dryRun: options.dryRun,
    });
  }

  #converge(trigger: ReconcileTrigger, config: Config): ReconcileOutcome | undefined {
    const started = this.deps.now();
    const stateDir = config.main.system.state_dir;
    let outcome: ReconcileOutcome;
    try {
      // Remember every VIP before touching it, so a crash orphans nothing.
      this.#record(stateDir, this.#managed);
      outcome = this.#plan(config, { dryRun: false, reason: trigger === "reload" ? "config" : "drift" });
    } catch (error) {
      this.#cache.invalidate();
      this.deps.events.emit({ type: "reconcile", result: "failure", trigger, durationMs: this.deps.now() - started, changes: 0, error: (error as Error).message });
      return undefined;
    }
    const changes = outcome.plan.changes;
    if (changes.length > 0) this.#cache.invalidate();
    if (outcome.kind === "applied") {
      const backends = changes.length > 0 ? backendsOf(config) : undefined;
      for (const change of changes) this.#emitChange(change, backends?.get(destinationKey(change)));
      if (backends) this.#emitWeightChanges(changes, backends);
      this.#forgetDroppedVips(config);
    }
    this.deps.events.emit({
      type: "reconcile",
      result: outcome.kind === "applied" ? "success" : "failure",
      trigger,
      durationMs: this.deps.now() - started,
      changes: outcome.kind === "applied" ? changes.length : 0,
      ...(outcome.kind === "failed" ? { error: outcome.execution.error.message } : {}),
    });
    return outcome;
  }

  /** Once the kernel has no service left on a VIP the config dropped, the VIP is no longer managed. */
  #forgetDroppedVips(config: Config): void {
    const current = new Set(configuredVips(config));
    const stillUsed = new Set(this.#cache.get().map((e) => e.service.address));
    const keep = [...this.#managed].filter((vip) => current.has(vip) || stillUsed.has(vip));
    if (keep.length === this.#managed.size) return;
    this.#managed = new Set(keep);
    this.#record(config.main.system.state_dir, this.#managed);
  }

  #record(stateDir: string, vips: ReadonlySet<string>): void {
    if (vips.size === this.#recorded.size && [...vips].every((vip) => this.#recorded.has(vip))) return;
    this.deps.vipRecord.write(stateDir, vips);
    this.#recorded = new Set(vips);
  }

  /**
   * Sets the weight of every destination of one backend (all the service's ports) without reading the kernel
   * first: SET_DEST is idempotent, and skipping the read keeps a failover fast on large tables.
   */
  #applyBackendWeight(service: LoadedService, backend: string, previous?: number, decidedAt = this.deps.now()): void {
    const config = this.#config;
    if (config.main.daemon.standby === "cold" && !this.#held.has(serviceVip(config.main, service))) return;
    const operations: IpvsOperation[] = [];
    const changes: Change[] = [];
    for (const virtual of desiredServices({ main: config.main, services: [service] }, { weightOf: this.weightOf })) {
      for (const d of virtual.destinations) {
        if (d.backend !== backend || d.keepKernelWeight) continue;
        const key = { family: virtual.family, protocol: virtual.protocol, address: virtual.address, port: virtual.port };
        const { id: _id, backend: _backend, configuredWeight: _configured, keepKernelWeight: _keep, ...settings } = d;
        const operation: IpvsOperation = { kind: "set-destination", service: key, destination: settings };
        operations.push(operation);
        changes.push({
          op: "update-destination",
          service: virtual.id,
          destination: d.id,
          name: service.name,
          after: { weight: d.weight, forward: d.forward },
          ...(previous === undefined ? {} : { before: { weight: previous, forward: d.forward } }),
          reason: "health",
          operation,
          undo: [],
        });
      }
    }
    if (operations.length === 0) return;
    const result = this.deps.ipvs.execute(operations);
    const durationMs = this.deps.now() - decidedAt;
    this.#cache.invalidate();
    const applied = result.ok ? changes : result.succeeded.map((index) => changes[index]!);
    for (const change of applied) this.#emitChange(change, backend);
    const to = changes[0]!.after!.weight!;
    if (previous !== to) this.deps.events.emit({ type: "weight-change", service: service.name, backend, from: previous ?? to, to, reason: "health" });
    this.deps.events.emit({
      type: "reconcile",
      result: result.ok ? "success" : "failure",
      trigger: "health",
      // From the probe's verdict to the kernel's acknowledgement of the new weight.
      durationMs,
      changes: applied.length,
      ...(result.ok ? {} : { error: result.error.message }),
    });
    // A destination missing or changed under us: converge the whole table instead.
    if (!result.ok) this.tick("health");
  }

  #emitWeightChanges(changes: readonly Change[], backends: ReadonlyMap<string, string>): void {
    for (const change of weightChanges(changes, backends)) this.deps.events.emit({ type: "weight-change", ...change });
  }

  #emitChange(change: Change, backend: string | undefined): void {
    this.deps.events.emit({
      type: "kernel-change",
      op: change.op,
      service: change.service,
      ...(change.destination ? { destination: change.destination } : {}),
      ...(change.name ? { name: change.name } : {}),
      ...(backend ? { backend } : {}),
      reason: change.reason,
      ...(change.after?.weight !== undefined ? { weight: change.after.weight } : {}),
      ...(change.before?.weight !== undefined ? { previousWeight: change.before.weight } : {}),
    });
  }
}

/** Weight updates of a converge, once per backend (however many ports it has), for metrics and audit. */
function weightChanges(changes: readonly Change[], backends: ReadonlyMap<string, string>) {
  const seen = new Map<string, { service: string; backend: string; from: number; to: number; reason: "health" | "config" | "drift" }>();
  for (const change of changes) {
    const from = change.before?.weight;
    const to = change.after?.weight;
    const backend = backends.get(destinationKey(change));
    if (change.op !== "update-destination" || from === undefined || to === undefined || from === to || !change.name || !backend) continue;
    const reason = change.reason === "health" || change.reason === "drift" ? change.reason : "config";
    const key = `${change.name}/${backend}`;
    if (!seen.has(key)) seen.set(key, { service: change.name, backend, from, to, reason });
  }
  return [...seen.values()];
}

/** `PROTO:VIP:PORT>ADDR:PORT` → backend key, for every configured destination. */
function backendsOf(config: Config): Map<string, string> {
  const map = new Map<string, string>();
  for (const service of desiredServices(config)) for (const d of service.destinations) map.set(`${service.id}>${d.id}`, d.backend);
  return map;
}

function destinationKey(change: Pick<Change, "service" | "destination">): string {
  return `${change.service}>${change.destination ?? ""}`;
}

function inventory(config: Config): { node: string; inventory: ServiceInventory[] } {
  return {
    node: config.main.node.name,
    inventory: config.services.map((service) => ({
      service: service.name,
      backends: service.backends.map((b) => backendKeyOf(service, b)),
      health: service.health.enabled,
    })),
  };
}

function backendKeyOf(service: LoadedService, backend: LoadedService["backends"][number]): string {
  return backendKey(backend, servicePorts(service)[0] ?? 0);
}

function sizes(config: Config): { services: number; backends: number } {
  return { services: config.services.length, backends: config.services.reduce((n, s) => n + s.backends.length, 0) };
}

function splitTargetId(id: string): [string, string | undefined] {
  const slash = id.indexOf("/");
  return slash < 0 ? [id, undefined] : [id.slice(0, slash), id.slice(slash + 1)];
}
