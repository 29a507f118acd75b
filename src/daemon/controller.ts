/**
 * The daemon's decisions, free of timers, sockets and signals (daemon.ts wires those): converge the kernel on the
 * desired services every tick (drift repair), gate each VIP on whether this node holds it, turn health transitions
 * into weight plans at once, and swap configs on reload only when the new one is valid and within the change limits.
 */

import { addressFamily, backendKey, configuredVips, serviceVip, servicePorts, type Config, type LoadedService } from "../config/model.ts";
import { formatServiceKey } from "../ipvs/identity.ts";
import { formatIssue } from "../config/errors.ts";
import { targetId, type TargetId, type TargetKey } from "../health/target-key.ts";
import { healthTargets } from "../health/targets.ts";
import type { HealthState, HealthTarget, HealthTransition } from "../health/types.ts";
import type { IpvsClient, KernelServiceEntry } from "../ipvs/types.ts";
import { BULK_CHANGES, type WeightChangeReason, type DaemonEvent, type EventSink, type KernelChange, type ReconcilePhase, type ReconcileTrigger, type ServiceInventory } from "../observability/events.ts";
import { backendWeight, planBackendWeight } from "../plan/backend-weight.ts";
import { decideOverride, type BackendOverride, type OverrideRequest } from "../plan/overrides.ts";
import { planOperations, type Change, type ChangeOp, type Plan } from "../plan/changes.ts";
import { desiredServices, type DesiredDestination, type DesiredService, type WeightOf } from "../plan/desired.ts";
import { executePlan, type ExecutionResult } from "../plan/execute.ts";
import { reconcile, type ReconcileOutcome } from "../plan/reconcile.ts";
import { configManagedVips } from "../system/managed-vips.ts";
import { configHash } from "./config-hash.ts";
import { Drains, type DrainStore } from "./draining.ts";
import { deletesAnything } from "./snapshot-store.ts";
import { mergeSources, type MergeResult, type SourceFailure } from "./sources/merge.ts";
import type { ServiceSource, SourceServices } from "./sources/source.ts";
import { BackendOverrides } from "./overrides.ts";
import { memoryOverrideStore, type OverrideStore } from "./overrides-store.ts";
import { SlowStarts, slowStartMs } from "./slow-starts.ts";
import { QuorumStates, type QuorumView } from "./quorum-states.ts";
import { slowStartWeight } from "../plan/slow-start.ts";
import { StateCache } from "./state-cache.ts";
import { StatsIndex } from "./stats.ts";

/** What the controller needs of the health monitor (src/health/monitor.ts). */
export interface HealthChecks {
  sync(targets: readonly HealthTarget[], options?: { probeFirst?: Iterable<TargetId> }): unknown;
  state(id: TargetId): { state: HealthState; reportedWeight?: number } | undefined;
  /** The state `target` will have after the next sync (kept when unchanged, unknown otherwise). */
  stateAfterSync(target: HealthTarget): HealthState;
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
  /** Producers of desired services, in priority order; the first (the main file) gives the daemon's settings. */
  sources: readonly ServiceSource[];
  ipvs: IpvsClient;
  addresses: LocalAddresses;
  health: HealthChecks;
  events: EventSink;
  vipRecord: VipRecord;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Wall-clock milliseconds: override TTLs outlive the process, so they are wall-clock times. Default Date.now. */
  wallNow?: () => number;
  /** Where the operator's overrides persist (state_dir/overrides.json); default: memory only. */
  overrides?: OverrideStore;
  /**
   * Asks for a full converge soon, outside the current call: the health path found the kernel not as it knew it.
   * Without it the next interval tick converges.
   */
  requestConverge?: () => void;
  /** Where the draining destinations are recorded (state_dir/draining.json); default nowhere (tests). */
  drainStore?: DrainStore;
  /** Wall-clock ms (epoch), for drain deadlines that outlive the process; default Date.now. */
  wallClock?: () => number;
  /**
   * Saves a snapshot of the managed part of `kernel` (state_dir/snapshots) and returns its id: a reload that deletes
   * anything takes one first. Default: none (tests).
   */
  snapshot?: (config: Config, kernel: readonly KernelServiceEntry[], managedVips: ReadonlySet<string>) => string;
}

export interface ReloadOptions {
  dryRun?: boolean;
  /** Ignore change limits (`lbctl apply --force` through the daemon). */
  force?: boolean;
}

export type ReloadResult =
  | { result: "success"; changes: Change[]; hash: string; draining: DrainingDestination[]; snapshot?: string }
  | { result: "planned"; changes: Change[] }
  | { result: "failure"; message: string; changes?: Change[]; failed?: Change; rolledBack?: boolean }
  | { result: "refused"; message: string; changes: Change[]; limit: { name: string; limit: number; planned: number } };

/** The desired services loaded and merged: what `Controller.start` begins with. */
export type LoadedDesired = Extract<MergeResult, { ok: true }>;

export type OverrideResult =
  | { result: "applied"; service: string; backend: string; override: BackendOverride | null; previous: BackendOverride | null; changes: Change[] }
  | { result: "refused"; status: 400 | 404 | 409 | 500; message: string };

export class ControllerStartError extends Error {
  override readonly name = "ControllerStartError";
}

/** Loads every source once; the daemon does this before it opens IPVS, so a bad config touches nothing. */
export function loadDesired(sources: readonly ServiceSource[], lastGood: ReadonlyMap<string, SourceServices> = new Map()): MergeResult {
  return mergeSources(
    sources.map((source) => ({ source: source.name, load: source.load() })),
    lastGood,
  );
}

/** A deletion a source's own truth decided: the service and why; undefined for any other change. */
type RemovalOf = (change: Change) => { service: string; reason: string } | undefined;
/** A destination removed from the config that drains at weight 0 (config `daemon.drain`), with its connections now. */
export type DrainingDestination = ReturnType<Drains["view"]>[number];
type Phases = Partial<Record<ReconcilePhase, number>>;

interface Vips {
  managed: Set<string>;
  held: Set<string>;
}

export class Controller {
  #config: Config;
  #hash: string;
  /** What each source last loaded successfully. */
  #good: Map<string, SourceServices>;
  #managed = new Set<string>();
  #held = new Set<string>();
  /** The VIPs each config manages (Kubernetes pools can hold thousands): computed once per config, not per tick. */
  readonly #configVips = new WeakMap<Config, ReadonlySet<string>>();
  /** Targets adopted from the kernel at start: they keep the kernel's weight until their first probe. */
  readonly #adopting = new Set<TargetId>();
  readonly #cache: StateCache;
  #cycles = 0;
  /** The config side of the stats join; rebuilt when the config changes. */
  #statsIndex: StatsIndex | undefined;
  /** What the state file says; read at start, written only when the managed set changes. */
  #recorded = new Set<string>();
  /** Destinations removed from the config that still drain (plan/drain.ts). */
  readonly #drains: Drains;
  readonly #overrides: BackendOverrides;
  /** Slow-start ramps of backends that turned healthy, were added or enabled. */
  readonly #slow: SlowStarts;
  /** Services with a quorum (or a sorry server): whether each is up. */
  readonly #quorum: QuorumStates;

  private constructor(
    private readonly deps: ControllerDeps,
    loaded: LoadedDesired,
  ) {
    this.#config = loaded.config;
    this.#good = loaded.good;
    this.#hash = configHash(loaded.config);
    this.#cache = new StateCache(deps.ipvs, deps.now, loaded.config.main.daemon.state_cache);
    this.#drains = new Drains(deps.drainStore ?? { read: () => [], write: () => {} }, deps.events, deps.wallClock ?? Date.now);
    this.#slow = new SlowStarts(deps.events);
    this.#quorum = new QuorumStates(deps.events);
    this.#overrides = new BackendOverrides(deps.overrides ?? memoryOverrideStore(), loaded.config.main.system.state_dir, deps.events);
  }

  /** Adopts the kernel table, starts checks and converges once; loads the sources first unless given them. */
  static start(deps: ControllerDeps, loaded: MergeResult = loadDesired(deps.sources)): Controller {
    if (!loaded.ok) throw new ControllerStartError(`Config is not valid:\n${loaded.failure.issues.map(formatIssue).join("\n")}`);
    const controller = new Controller(deps, loaded);
    controller.#reportSourceProblems(loaded);
    const { config } = loaded;
    controller.#recorded = new Set(deps.vipRecord.read(config.main.system.state_dir));
    // Before the first plan: a backend drained by an operator stays drained across a restart.
    controller.#overrides.load();
    controller.#adopt();
    controller.#drains.resume(config.main.system.state_dir, controller.#cache.get());
    controller.#quorum.commit(controller.#quorum.evaluate(config.services, controller.#liveWeightOf(controller.#currentState)), config);
    deps.events.emit({ type: "config-loaded", startup: true, hash: controller.#hash, files: config.files, ...sizes(config), ...inventory(config) });
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

  /** The destinations left draining, with their connections as the kernel last reported them. */
  draining(): DrainingDestination[] {
    return this.#drains.size === 0 ? [] : this.#drains.view(this.#cache.get());
  }

  /** The kernel table as last read (through the state cache). */
  kernel(): readonly KernelServiceEntry[] {
    return this.#cache.get();
  }

  /** Drift repair and VIP gating: the periodic convergence. Change limits do not apply (the config did not change). */
  tick(trigger: ReconcileTrigger = "interval"): ReconcileOutcome | undefined {
    this.#cycles++;
    this.#expireOverrides();
    // Health states move between ticks without a transition only at a reload; this keeps the view exact regardless.
    this.#quorum.commit(this.#quorum.evaluate(this.#config.services, this.#liveWeightOf(this.#currentState)), this.#config);
    this.#setVips(this.#vipsFor(this.#config));
    const planned = this.deps.now();
    const outcome = this.#converge(trigger);
    // After the converge that set their last step: only ramps already done when it planned (so it set their full
    // weight) end now; one that ran out during the converge ends at the next, which sets its full weight.
    this.#slow.finish(this.#config, planned);
    if (this.#cycles % this.#config.main.daemon.stats_collection_interval_cycles === 0) this.#sampleStats();
    return outcome;
  }

  /** A target changed state: plan and set the weight of that backend's destinations now, without waiting for a tick. */
  onHealthTransition(transition: HealthTransition): void {
    const decidedAt = this.deps.now();
    this.#adopting.delete(targetId(transition));
    if (transition.from === "unhealthy" && transition.to === "healthy") {
      const service = this.#config.services.find((s) => s.name === transition.service);
      if (service) this.#slow.start(service, transition.backend, decidedAt);
    }
    this.deps.events.emit({
      type: "health-transition",
      service: transition.service,
      backend: transition.backend,
      from: transition.from,
      to: transition.to,
      reason: transition.result.reason,
    });
    if (this.#quorumMoved(transition.service)) return void this.#converge("health", "health");
    this.#applyBackendWeight(transition, decidedAt);
  }

  /**
   * Re-evaluates one service's quorum after a change of one of its backends. When it crossed the line, the whole
   * service changes (every backend's weight, the sorry server in or out): the caller converges instead of planning
   * one backend.
   */
  #quorumMoved(serviceName: string): boolean {
    if (this.#quorum.view.size === 0) return false;
    const service = this.#config.services.find((s) => s.name === serviceName);
    if (!service) return false;
    const next = this.#quorum.evaluate([service], this.#liveWeightOf(this.#currentState));
    return this.#quorum.commit(next, this.#config, new Set([serviceName])).length > 0;
  }

  /** Whether a service's sorry server is in the kernel's desired state now (below quorum). */
  sorryActive(service: LoadedService): boolean {
    return this.#quorum.sorryActive(service);
  }

  /**
   * A probe of an adopted target ends its adoption. The first probe of an UNKNOWN target always changes its state, so
   * onHealthTransition (called first) has normally done this; this keeps adoption from outliving a probe regardless.
   */
  onProbe(target: TargetKey, weightChanged = false): void {
    const adopted = this.#adopting.delete(targetId(target));
    // A HEALTHY backend whose check reports a new weight (http_weight_header) gets it now, as on a transition.
    if (adopted || weightChanged) this.#applyBackendWeight(target, this.deps.now());
  }

  /**
   * SIGHUP / POST /v1/reload / a source's watch: load every source; a source that fails keeps its last good
   * services. The merged config is planned once: refused over a change limit, else swapped in and that plan applied.
   */
  reload(options: ReloadOptions = {}): ReloadResult {
    const merged = loadDesired(this.deps.sources, this.#good);
    const failures = merged.ok ? merged.failures : [merged.failure];
    const failureMessage = failures.map(describeFailure).join("\n");
    if (!options.dryRun) {
      for (const failure of failures) this.deps.events.emit({ type: "config-refused", reason: "invalid", message: describeFailure(failure) });
    }
    if (!merged.ok || failures.length === this.deps.sources.length) return { result: "failure", message: failureMessage };

    const next = merged.config;
    let targets: HealthTarget[];
    try {
      targets = healthTargets(next);
    } catch (error) {
      return this.#refuse((error as Error).message, options);
    }
    const predicted = new Map(targets.map((target) => [target.id, this.deps.health.stateAfterSync(target)]));
    const vips = this.#vipsFor(next);
    const removals = this.#sourceRemovals();
    // Backends the new config adds start at weight 1 under slow start; their ramps begin if the reload goes through.
    const added = addedBackends(this.#config, next);
    const predictedState = (id: TargetId) => predicted.get(id) ?? "unknown";
    const quorum = this.#quorum.evaluate(next.services, this.#liveWeightOf(predictedState));
    const outcome = this.#plan(next, {
      dryRun: true,
      vips,
      quorum,
      weightOf: this.#weightOf(predictedState, added, quorum),
      limits: options.force ? undefined : next.main.daemon.change_limits,
      exempt: (change) => removals(change) !== undefined,
      reason: "config",
    });
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
    const snapshot = deletesAnything(outcome.plan) ? this.#snapshot(next, vips.managed) : undefined;
    try {
      this.deps.health.sync(targets);
    } catch (error) {
      return this.#refuse((error as Error).message, options);
    }
    this.#swap(merged);
    this.#quorum.commit(quorum, next);
    const rampedAt = this.deps.now();
    for (const service of next.services) for (const key of added.get(service.name) ?? []) this.#slow.start(service, key, rampedAt);
    this.#setVips(vips);
    const applied = this.#execute("reload", outcome.plan, this.deps.now(), {}, outcome.desired);
    if (!applied.ok) {
      const rollback = "failed" in applied ? { failed: applied.failed, rolledBack: applied.rolledBack } : {};
      return { result: "failure", message: applied.error.message, changes: outcome.plan.changes, ...rollback };
    }
    this.#emitRemovals(outcome.plan.changes, removals);
    if (failures.length > 0) return { result: "failure", message: failureMessage, changes: outcome.plan.changes };
    return { result: "success", changes: outcome.plan.changes, hash: this.#hash, draining: this.draining(), ...(snapshot ? { snapshot } : {}) };
  }

  /**
   * Which deletions a source's own truth decided (ServiceSource.removalReason), by the running config's service
   * names: a deleted kernel service has no name in the plan, only `PROTO:VIP:PORT`.
   */
  #sourceRemovals(): RemovalOf {
    const sources = this.deps.sources.filter((source) => source.removalReason);
    if (sources.length === 0) return () => undefined;
    const running = this.#config;
    let names: Map<string, string> | undefined;
    return (change) => {
      if (change.op !== "delete-service" && change.op !== "delete-destination") return undefined;
      names ??= new Map(desiredServices(running).map((service) => [service.id, service.name]));
      const service = change.name ?? names.get(change.service);
      if (service === undefined) return undefined;
      for (const source of sources) {
        const reason = source.removalReason?.(service, change.op === "delete-service" ? "virtual-service" : "destination");
        if (reason !== undefined) return { service, reason };
      }
      return undefined;
    };
  }

  /** One audit record per service whose rules a source's truth removed, with the reason. */
  #emitRemovals(changes: readonly Change[], removals: RemovalOf): void {
    const counts = new Map<string, { reason: string; services: number; destinations: number }>();
    for (const change of changes) {
      const removal = removals(change);
      if (!removal) continue;
      const entry = counts.get(removal.service) ?? { reason: removal.reason, services: 0, destinations: 0 };
      if (change.op === "delete-service") entry.services++;
      else entry.destinations++;
      counts.set(removal.service, entry);
    }
    for (const [service, entry] of counts) this.deps.events.emit({ type: "kubernetes-removal", service, ...entry });
  }

  /** The operator's overrides held now (expired ones go at the next tick). */
  get overrides(): readonly BackendOverride[] {
    return this.#overrides.list();
  }

  override(service: string, backend: string): BackendOverride | undefined {
    return this.#overrides.get(service, backend);
  }

  /**
   * `lbctl backend drain|weight|enable`: checks the request against the running config, persists the override, and
   * sets the backend's weight in the kernel now (the health path's plan), before returning.
   */
  setOverride(request: OverrideRequest): OverrideResult {
    const service = this.#config.services.find((s) => s.name === request.service);
    const keys = service ? [...new Set(service.backends.map((b) => backendKeyOf(service, b)))] : undefined;
    const orphan = request.action === "enable" ? this.#overrides.get(request.service, request.backend) : undefined;
    if (orphan && !keys?.includes(request.backend)) {
      // An override of a backend the config no longer has can always be removed (it changes no weight).
      const previous = this.#overrides.put(request.service, request.backend, undefined, request.by) ?? null;
      return { result: "applied", service: request.service, backend: request.backend, override: null, previous, changes: [] };
    }
    const decision = decideOverride(request, keys, this.#overrides.size, this.#wallNow());
    if (!decision.ok) return { result: "refused", status: decision.status, message: decision.message };
    let previous: BackendOverride | undefined;
    try {
      previous = this.#overrides.put(request.service, decision.backend, decision.override, request.by);
    } catch (error) {
      return { result: "refused", status: 500, message: `The override was not recorded, nothing changed: ${(error as Error).message}` };
    }
    // Back from a drain (or a weight of 0): the backend ramps up under slow start, as a recovered one does.
    if (previous?.weight === 0 && (decision.override?.weight ?? 1) > 0) this.#slow.start(service!, decision.backend, this.deps.now());
    const changes = this.#quorumMoved(request.service)
      ? (this.#converge("override", "override")?.plan.changes ?? [])
      : this.#applyBackendWeight({ service: request.service, backend: decision.backend }, this.deps.now(), "override");
    return { result: "applied", service: request.service, backend: decision.backend, override: decision.override ?? null, previous: previous ?? null, changes };
  }

  #wallNow(): number {
    return (this.deps.wallNow ?? Date.now)();
  }

  /** Overrides past their TTL go, and their backends get the weight config and health give them, now. */
  #expireOverrides(): void {
    if (this.#overrides.size === 0) return;
    let expired: BackendOverride[];
    try {
      expired = this.#overrides.expire(this.#wallNow());
    } catch (error) {
      this.deps.events.emit({ type: "error", message: `Expiring backend overrides failed (kept until the next tick): ${(error as Error).message}` });
      return;
    }
    for (const override of expired) {
      if (!this.#quorumMoved(override.service)) this.#applyBackendWeight(override, this.deps.now(), "override");
    }
  }

  /** The weight the planner gives a backend now: the one health rule (plan/backend-weight.ts) on the monitor's state. */
  readonly weightOf: WeightOf = (service, backend, configured) =>
    this.#weightOf(this.#currentState)(service, backend, configured);

  /**
   * The weight rule on given health states: health and overrides (plan/backend-weight.ts), then the slow-start ramp
   * of a backend that has one; `starting` backends (added by a reload being planned) ramp from now.
   */
  #weightOf(stateOf: (id: TargetId) => HealthState, starting?: ReadonlyMap<string, ReadonlySet<string>>, quorum?: QuorumView): WeightOf {
    const slow = this.#slow;
    const base = this.#baseWeightOf(stateOf);
    return (service: LoadedService, backend: string, configured: number) => {
      const weight = base(service, backend, configured);
      // Below quorum with a sorry server, the sorry server takes the new connections (keepalived's behaviour).
      if (service.sorry_server && this.#quorum.sorryActive(service, quorum)) return 0;
      if (weight === "kernel" || weight <= 1) return weight;
      const now = this.deps.now();
      const step = this.#config.main.daemon.reconcile_interval_ms;
      if (starting?.get(service.name)?.has(backend)) return slowStartWeight(weight, { startedAt: now }, now, slowStartMs(service), step);
      return slow.weight(service, backend, weight, now, step);
    };
  }

  /** Health and overrides, without quorum or slow start: what a backend counts for towards its service's quorum. */
  #baseWeightOf(stateOf: (id: TargetId) => HealthState): WeightOf {
    const overrides = this.#overrides;
    return (service: LoadedService, backend: string, configured: number) => {
      const override = overrides.size > 0 ? overrides.get(service.name, backend) : undefined;
      if (!service.health.enabled) return backendWeight({ checked: false, state: "unknown", adopting: false }, configured, override);
      const id = targetId({ service: service.name, backend });
      const state = stateOf(id);
      // A healthy target keeps the weight its check reported (http_weight_header), also through a reload.
      const reportedWeight = state === "healthy" ? this.deps.health.state(id)?.reportedWeight : undefined;
      return backendWeight({ checked: true, state, adopting: this.#adopting.has(id), reportedWeight }, configured, override);
    };
  }

  /**
   * What a backend counts for towards its service's quorum: health and overrides, and for an adopted backend not yet
   * probed, the weight the kernel has (a daemon restarted below quorum finds its backends at 0 and keeps the sorry
   * server, rather than counting them live and removing it before the first probe).
   */
  #liveWeightOf(stateOf: (id: TargetId) => HealthState): WeightOf {
    const base = this.#baseWeightOf(stateOf);
    return (service, backend, configured) => {
      const weight = base(service, backend, configured);
      return weight === "kernel" ? (this.#kernelWeight(service, backend) ?? configured) : weight;
    };
  }

  /** The kernel's weight of a backend's destination on the service's lowest port, as last known. */
  #kernelWeight(service: LoadedService, backend: string): number | undefined {
    const port = servicePorts(service)[0];
    if (port === undefined) return undefined;
    const vip = serviceVip(this.#config.main, service);
    const entry = service.backends.find((b) => backendKey(b, port) === backend);
    if (!entry) return undefined;
    const destinationPortNumber = entry.port || port;
    const id = formatServiceKey({ family: addressFamily(vip), protocol: service.protocol, address: vip, port });
    return this.#cache.known().get(id)?.destinations.find((d) => d.address === entry.address && d.port === destinationPortNumber)?.weight;
  }

  readonly #currentState = (id: TargetId): HealthState => this.deps.health.state(id)?.state ?? "unknown";

  /** Seconds left of a backend's slow-start ramp, if it ramps. */
  slowStartRemaining(service: string, backend: string): number | undefined {
    if (this.#slow.size === 0) return undefined;
    return this.#slow.remaining(this.#config.services.find((s) => s.name === service), backend, this.deps.now());
  }

  /** The table before a reload that deletes: a failed snapshot is an error to see, not a reason to refuse the reload. */
  #snapshot(config: Config, managed: ReadonlySet<string>): string | undefined {
    if (!this.deps.snapshot) return undefined;
    try {
      return this.deps.snapshot(config, this.#cache.get(), managed);
    } catch (error) {
      this.deps.events.emit({ type: "error", message: `No snapshot taken before the reload: ${(error as Error).message}` });
      return undefined;
    }
  }

  #swap(merged: LoadedDesired): void {
    const next = merged.config;
    const previousHash = this.#hash;
    this.#config = next;
    this.#good = merged.good;
    this.#statsIndex = undefined;
    this.#hash = configHash(next);
    this.#cache.configure(next.main.daemon.state_cache);
    try {
      this.#overrides.moveTo(next.main.system.state_dir);
    } catch (error) {
      this.deps.events.emit({ type: "error", message: `Writing the backend overrides to the new state_dir failed: ${(error as Error).message}` });
    }
    this.#reportSourceProblems(merged, false);
    this.deps.events.emit({ type: "config-loaded", startup: false, hash: this.#hash, previousHash, files: next.files, ...sizes(next), ...inventory(next) });
  }

  /** Sources that failed but keep their last good services, and services left out of the merge, are errors to see. */
  #reportSourceProblems(merged: LoadedDesired, failures = true): void {
    if (failures) for (const failure of merged.failures) this.deps.events.emit({ type: "error", message: describeFailure(failure) });
    for (const conflict of merged.conflicts) this.deps.events.emit({ type: "error", message: formatIssue(conflict) });
  }

  #refuse(message: string, options: ReloadOptions): ReloadResult {
    if (!options.dryRun) this.deps.events.emit({ type: "config-refused", reason: "error", message });
    return { result: "failure", message };
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

  /** At start: targets whose destinations are already in the kernel keep its weights until probed (probed first). */
  #adopt(): void {
    const kernel = this.#cache.get();
    const present = new Set<string>();
    for (const entry of kernel) {
      for (const d of entry.destinations) present.add(`${entry.service.protocol}:${entry.service.address}:${entry.service.port}>${d.address}:${d.port}`);
    }
    const targets = healthTargets(this.#config);
    const checked = new Set(targets.map((t) => t.id));
    // An empty table (a fresh start) or no checked backend adopts nothing: the config is not expanded for that.
    const candidates = present.size > 0 && checked.size > 0 ? desiredServices(this.#config) : [];
    for (const service of candidates) {
      for (const d of service.destinations) {
        const id = targetId({ service: service.name, backend: d.backend });
        if (checked.has(id) && present.has(`${service.protocol}:${service.address}:${service.port}>${d.address}:${d.port}`)) this.#adopting.add(id);
      }
    }
    this.deps.health.sync(targets, { probeFirst: this.#adopting });
  }

  #vipsOf(config: Config): ReadonlySet<string> {
    let vips = this.#configVips.get(config);
    if (!vips) this.#configVips.set(config, (vips = new Set(configManagedVips(config))));
    return vips;
  }

  /** Managed VIPs (config + recorded + still managed) and those of them held on a local interface now. */
  #vipsFor(config: Config): Vips {
    const managed = new Set([...this.#vipsOf(config), ...this.#recorded, ...this.#managed]);
    const local = this.deps.addresses.localAddresses();
    return { managed, held: new Set([...managed].filter((vip) => local.has(vip))) };
  }

  #setVips({ managed, held }: Vips): void {
    for (const vip of managed) {
      const was = this.#held.has(vip);
      const is = held.has(vip);
      if (was !== is) this.deps.events.emit({ type: "vip-transition", vip, direction: is ? "acquire" : "release" });
      this.deps.events.emit({ type: "vip-state", vip, held: is });
    }
    this.#managed = managed;
    this.#held = held;
  }

  #includeVip(config: Config, held: ReadonlySet<string>): ((vip: string) => boolean) | undefined {
    return config.main.daemon.standby === "cold" ? (vip) => held.has(vip) : undefined;
  }

  #plan(
    config: Config,
    options: {
      dryRun: boolean;
      vips?: Vips;
      weightOf?: WeightOf;
      quorum?: QuorumView;
      limits?: Config["main"]["daemon"]["change_limits"] | undefined;
      exempt?: (change: Change) => boolean;
      reason: "config" | "drift" | "health" | "override";
      kernel?: readonly KernelServiceEntry[];
    },
  ): ReconcileOutcome {
    const { managed, held } = options.vips ?? { managed: this.#managed, held: this.#held };
    const includeVip = this.#includeVip(config, held);
    return reconcile({
      config,
      client: this.deps.ipvs,
      kernel: options.kernel ?? this.#cache.get(),
      managedVips: managed,
      weightOf: options.weightOf ?? this.weightOf,
      sorryServer: (service) => this.#quorum.sorryActive(service, options.quorum),
      weightReason: (d) => {
        if (d.weight > 0 && this.#slow.rampsBackend(d.backend)) return "slow-start";
        if (options.reason === "override" || options.reason === "health") return options.reason;
        return d.weight === 0 && d.configuredWeight !== 0 ? "health" : options.reason;
      },
      ...(includeVip ? { includeVip } : {}),
      // Removals drain (daemon.drain); under cold standby only on held VIPs: elsewhere no traffic arrives.
      adjust: (plan, kernel) => this.#drains.pass(config, plan, kernel, includeVip),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.exempt ? { exemptFromLimits: options.exempt } : {}),
      reason: options.reason,
      dryRun: options.dryRun,
    });
  }

  /** Plans against the kernel and applies the plan: a tick's converge, or a quorum crossed (`reason` health or override). */
  #converge(trigger: ReconcileTrigger, reason?: "health" | "override"): ReconcileOutcome | undefined {
    const started = this.deps.now();
    let outcome: ReconcileOutcome;
    const phases: Phases = {};
    try {
      const kernel = this.#cache.get();
      const read = this.deps.now();
      phases.read = read - started;
      outcome = this.#plan(this.#config, { dryRun: true, reason: reason ?? (trigger === "reload" ? "config" : "drift"), kernel });
      phases.plan = this.deps.now() - read;
    } catch (error) {
      this.#cache.invalidate();
      this.deps.events.emit({ type: "reconcile", result: "failure", trigger, durationMs: this.deps.now() - started, changes: 0, error: (error as Error).message });
      return undefined;
    }
    const execution = this.#execute(trigger, outcome.plan, started, phases, outcome.desired);
    if (execution.ok) return { kind: "applied", plan: outcome.plan };
    return "failed" in execution ? { kind: "failed", plan: outcome.plan, execution } : undefined;
  }

  /**
   * Runs a config or drift plan through the executor (all or nothing), then reports it: one kernel-changes event for
   * its changes, one weight-change per backend, one reconcile event. Nothing runs when the VIPs cannot be recorded first.
   * The reconcile's duration ends when the kernel has acknowledged its last batch (or the rollback's): the table is
   * programmed then. Reporting its changes (metrics, audit records, 25,000 of them at a start on a large table) comes
   * after and is timed apart, as the `events` phase.
   */
  #execute(
    trigger: ReconcileTrigger,
    plan: Plan,
    started: number,
    phases: Phases = {},
    desired?: readonly DesiredService[],
  ): ExecutionResult | { ok: false; error: Error } {
    const config = this.#config;
    try {
      // Remember every VIP before touching it, so a crash orphans nothing.
      this.#record(config.main.system.state_dir, this.#managed);
    } catch (error) {
      this.deps.events.emit({ type: "reconcile", result: "failure", trigger, durationMs: this.deps.now() - started, changes: 0, error: (error as Error).message });
      return { ok: false, error: error as Error };
    }
    const executing = this.deps.now();
    const execution = this.#run(plan);
    const executed = this.deps.now();
    // Read after the clock: a fresh table's plan builds its change records now (plan/fresh-table.ts).
    const changes = plan.changes;
    const durationMs = executed - started;
    if (changes.length > 0) phases.execute = executed - executing;
    if (execution.ok && changes.length > 0) {
      const backendOf = backendsOf(desired ?? desiredServices(config));
      this.#emitChanges(changes, backendOf);
      this.#emitWeightChanges(changes, backendOf);
      phases.events = this.deps.now() - executed;
    }
    if (execution.ok) this.#drains.commit(plan, config.main.system.state_dir);
    if (execution.ok) this.#forgetDroppedVips(config);
    this.deps.events.emit({
      type: "reconcile",
      result: execution.ok ? "success" : "failure",
      trigger,
      durationMs,
      changes: execution.ok ? changes.length : 0,
      ...(execution.ok ? {} : { error: execution.error.message }),
      ...(changes.length > 0 ? { phases, ...(execution.ok ? { ops: countOps(changes) } : {}) } : {}),
    });
    return execution;
  }

  /** The executor with rollback, keeping the state cache's view of the kernel in step with what was accepted. */
  #run(plan: Plan): ExecutionResult {
    const execution = executePlan(this.deps.ipvs, plan);
    if (execution.ok) this.#cache.wrote(planOperations(plan));
    else if (execution.rolledBack) this.#cache.invalidate();
    else this.#cache.forget();
    return execution;
  }

  /** Once the kernel has no service left on a VIP the config dropped, the VIP is no longer managed. */
  #forgetDroppedVips(config: Config): void {
    const current = this.#vipsOf(config);
    // The usual case, every managed VIP still configured, needs no look at the kernel (after a bulk write, building
    // that view replays every write).
    if ([...this.#managed].every((vip) => current.has(vip))) return;
    const stillUsed = new Set([...this.#cache.known().values()].map((s) => s.address));
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
   * The health path: a plan for one backend's destinations on every port (plan/backend-weight.ts), from the kernel
   * as the state cache knows it (no table read, so a failover stays fast on large tables), run by the executor with
   * rollback. A kernel that is not as known (a destination missing, an update refused) gets a converge soon.
   */
  #applyBackendWeight(key: TargetKey, decidedAt: number, reason: "health" | "override" = "health"): Change[] {
    const config = this.#config;
    const service = config.services.find((s) => s.name === key.service);
    if (!service) return [];
    let plan: ReturnType<typeof planBackendWeight>;
    try {
      const known = this.#cache.known();
      const includeVip = this.#includeVip(config, this.#held);
      plan = planBackendWeight({
        config,
        service,
        backend: key.backend,
        weightOf: this.weightOf,
        known: (id) => known.get(id)?.destinations,
        reason,
        ...(includeVip ? { includeVip } : {}),
      });
    } catch (error) {
      this.deps.events.emit({ type: "error", message: `Planning the weight of ${key.service} ${key.backend} failed: ${(error as Error).message}` });
      this.deps.requestConverge?.();
      return [];
    }
    if (plan.missing > 0) this.deps.requestConverge?.();
    if (plan.changes.length === 0) return [];
    const execution = this.#run(plan);
    if (execution.ok) {
      this.#emitChanges(plan.changes, () => key.backend);
      this.#emitWeightChanges(plan.changes, () => key.backend);
    }
    this.deps.events.emit({
      type: "reconcile",
      result: execution.ok ? "success" : "failure",
      trigger: reason,
      // From the probe's verdict to the kernel's acknowledgement of the new weight.
      durationMs: this.deps.now() - decidedAt,
      changes: execution.ok ? plan.changes.length : 0,
      ...(execution.ok ? { ops: countOps(plan.changes) } : { error: execution.error.message }),
    });
    if (!execution.ok) this.deps.requestConverge?.();
    return execution.ok ? plan.changes : [];
  }

  #emitWeightChanges(changes: readonly Change[], backendOf: (change: Change) => string | undefined): void {
    for (const change of weightChanges(changes, backendOf)) this.deps.events.emit({ type: "weight-change", ...change });
  }

  /** The kernel's accepted changes, to metrics and audit in one event (audit writes one record per change). */
  #emitChanges(changes: readonly Change[], backendOf: (change: Change) => string | undefined): void {
    const out: KernelChange[] = new Array(changes.length);
    for (let i = 0; i < changes.length; i++) out[i] = kernelChange(changes[i]!, backendOf(changes[i]!));
    this.deps.events.emit({ type: "kernel-changes", changes: out, bulk: changes.length > BULK_CHANGES });
  }
}

/** A change as the sinks read it, built field by field: a start-up reconcile makes 25,000. */
function kernelChange(change: Change, backend: string | undefined): KernelChange {
  const out: KernelChange = { op: change.op, service: change.service, reason: change.reason };
  if (change.destination) out.destination = change.destination;
  if (change.name) out.name = change.name;
  if (backend) out.backend = backend;
  if (change.after?.weight !== undefined) out.weight = change.after.weight;
  if (change.before?.weight !== undefined) out.previousWeight = change.before.weight;
  return out;
}

/** Weight updates of a plan, once per backend (however many ports it has), for metrics and audit. */
function weightChanges(changes: readonly Change[], backendOf: (change: Change) => string | undefined) {
  const seen = new Map<TargetId, { service: string; backend: string; from: number; to: number; reason: WeightChangeReason }>();
  for (const change of changes) {
    if (change.op !== "update-destination") continue;
    const from = change.before?.weight;
    const to = change.after?.weight;
    if (from === undefined || to === undefined || from === to || !change.name) continue;
    const backend = backendOf(change);
    if (!backend) continue;
    const reason = change.reason === "health" || change.reason === "drift" || change.reason === "override" || change.reason === "slow-start" ? change.reason : "config";
    const id = targetId({ service: change.name, backend });
    if (!seen.has(id)) seen.set(id, { service: change.name, backend, from, to, reason });
  }
  return [...seen.values()];
}

/**
 * The backend key of a change's destination, looked up by service, then among that service's few destinations by
 * the operation's address and port: the address is the desired destination's own string, so no string is built,
 * hashed or flattened per destination (a start-up reconcile names 20,000 of them). A service with many
 * destinations gets an index by id on its first question.
 */
function backendsOf(desired: readonly DesiredService[]): (change: Pick<Change, "service" | "destination" | "operation">) => string | undefined {
  const byService = new Map<string, readonly DesiredDestination[]>();
  for (const service of desired) byService.set(service.id, service.destinations);
  const indexes = new Map<string, Map<string, string>>();
  // A plan lists a service's destinations one after another: the last service found answers most questions.
  let lastService: string | undefined;
  let lastDestinations: readonly DesiredDestination[] | undefined;
  return (change) => {
    const id = change.destination;
    if (id === undefined) return undefined;
    if (change.service !== lastService) {
      lastService = change.service;
      lastDestinations = byService.get(change.service);
    }
    const destinations = lastDestinations;
    if (!destinations) return undefined;
    if (destinations.length <= 8) {
      const operation = change.operation;
      if (operation.kind === "new-destination" || operation.kind === "set-destination" || operation.kind === "del-destination") {
        const { address, port } = operation.destination;
        for (const d of destinations) if (d.port === port && d.address === address) return d.backend;
        return undefined;
      }
      for (const d of destinations) if (d.id === id) return d.backend;
      return undefined;
    }
    let index = indexes.get(change.service);
    if (!index) indexes.set(change.service, (index = new Map(destinations.map((d) => [d.id, d.backend]))));
    return index.get(id);
  };
}

/** Service name → backend keys the next config has that the running one does not (per service). */
function addedBackends(running: Config, next: Config): Map<string, Set<string>> {
  const before = new Map(running.services.map((s) => [s.name, new Set(s.backends.map((b) => backendKeyOf(s, b)))]));
  const added = new Map<string, Set<string>>();
  for (const service of next.services) {
    if (slowStartMs(service) <= 0) continue;
    const had = before.get(service.name);
    const keys = service.backends.map((b) => backendKeyOf(service, b)).filter((key) => !had?.has(key));
    if (keys.length > 0) added.set(service.name, new Set(keys));
  }
  return added;
}

function countOps(changes: readonly Change[]): Partial<Record<ChangeOp, number>> {
  const ops: Partial<Record<ChangeOp, number>> = {};
  for (const change of changes) ops[change.op] = (ops[change.op] ?? 0) + 1;
  return ops;
}

function describeFailure(failure: SourceFailure): string {
  return failure.issues.map(formatIssue).join("\n");
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
