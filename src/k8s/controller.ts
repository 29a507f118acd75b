/**
 * The Kubernetes controller: informers on Services, Nodes and EndpointSlices, a reconcile pass after every change
 * (coalesced), and, on the elected leader only, the writes back to the cluster (finalizers, status, events).
 * Every director computes the same services from the same cluster state and programs its own IPVS with them.
 * While the API server is unreachable the last computed services stay: traffic keeps flowing.
 */

import type { LoadedService } from "../config/model.ts";
import { exponentialBackoff } from "./backoff.ts";
import { isConflict, type KubeClient } from "./client.ts";
import { Informer } from "./informer.ts";
import { LeaderElector } from "./leader.ts";
import { FINALIZER, leaseName } from "./names.ts";
import { reconcile, type ReconcileResult, type ReconcileSettings, type ServiceActions, type Snapshot } from "./reconcile.ts";
import type { EndpointSlice, Node, Service } from "./types.ts";

export interface ControllerSettings extends ReconcileSettings {
  resyncMs: number;
  leaseNamespace: string;
  /** This director's name: the Lease holder identity and the Events' reporting instance. */
  identity: string;
  leaseDurationSeconds?: number;
  renewMs?: number;
  watchTimeoutSeconds?: number;
}

export type ControllerNotice =
  | { type: "connected"; connected: boolean; error?: string }
  | { type: "leader"; leader: boolean }
  /** Addresses of each pool, after a pass that changed them. */
  | { type: "pools"; usage: PoolUsage[] }
  | { type: "write-failed"; what: string; error: string };

export interface PoolUsage {
  pool: string;
  allocated: number;
  free: number;
}

export interface ControllerDeps {
  client: KubeClient;
  settings: ControllerSettings;
  /** The desired services changed: the daemon should load them. */
  onServices: () => void;
  /** A pass over the live cluster ran (the shell saves the state it came from). */
  onPass?: () => void;
  notice?: (notice: ControllerNotice) => void;
}

export class KubernetesController {
  readonly services: Informer<Service>;
  readonly nodes: Informer<Node>;
  readonly slices: Informer<EndpointSlice>;
  readonly elector: LeaderElector;
  #desired: LoadedService[] = [];
  #desiredText = "[]";
  #generation = 0;
  #handedOut = 0;
  /** Cleanup of a Service waits until the daemon loaded services without it (generation). */
  readonly #cleanupAfter = new Map<string, number>();
  #lastEvents = new Map<string, Set<string>>();
  #passTimer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #again = false;
  #connected = new Map<string, boolean>();
  #wasConnected: boolean | undefined;
  #usageText = "";
  #stopped = false;
  readonly #writeBackoff = exponentialBackoff(200, 10_000);
  last: ReconcileResult | undefined;
  /** Counts of writes sent, for tests and logs. */
  readonly writes = { finalizers: 0, status: 0, events: 0, conflicts: 0 };

  constructor(private readonly deps: ControllerDeps) {
    const { client, settings } = deps;
    const informer = <T extends { metadata: { name: string } }>(path: string) =>
      new Informer<T & { metadata: Service["metadata"] }>(client, path, {
        onChange: () => this.#schedule(),
        onConnected: (connected, error) => this.#setConnected(path, connected, error),
        resyncMs: settings.resyncMs,
        ...(settings.watchTimeoutSeconds ? { watchTimeoutSeconds: settings.watchTimeoutSeconds } : {}),
      });
    this.services = informer<Service>("/api/v1/services");
    this.nodes = informer<Node>("/api/v1/nodes");
    this.slices = informer<EndpointSlice>("/apis/discovery.k8s.io/v1/endpointslices");
    this.elector = new LeaderElector(client, {
      namespace: settings.leaseNamespace,
      name: leaseName(settings.loadBalancerClass),
      identity: settings.identity,
      ...(settings.leaseDurationSeconds ? { leaseDurationSeconds: settings.leaseDurationSeconds } : {}),
      ...(settings.renewMs ? { renewMs: settings.renewMs } : {}),
      onChange: (leader) => {
        this.deps.notice?.({ type: "leader", leader });
        if (leader) this.#lastEvents.clear();
        this.#schedule();
      },
    });
  }

  start(): void {
    for (const informer of [this.services, this.nodes, this.slices]) informer.start();
    this.elector.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#passTimer) clearTimeout(this.#passTimer);
    this.elector.stop();
    await Promise.all([this.services.stop(), this.nodes.stop(), this.slices.stop()]);
    await this.#writing;
  }

  get connected(): boolean {
    return this.#wasConnected ?? false;
  }

  get leader(): boolean {
    return this.elector.leader;
  }

  /**
   * Services from a saved snapshot (saved-state.ts) until the cluster has been listed: a daemon started while the
   * API server is unreachable keeps serving them. Ignored once a pass over the live cluster has run. Writes nothing.
   */
  seed(snapshot: Snapshot): void {
    if (this.last !== undefined) return;
    const result = reconcile(snapshot, this.deps.settings);
    this.#desired = result.services;
    this.#desiredText = JSON.stringify(result.services);
    this.#generation++;
    this.#reportUsage(result);
  }

  /** The cluster as last listed and watched; meaningful once `last` is set. */
  snapshot(): Snapshot {
    return { services: [...this.services.store.values()], nodes: [...this.nodes.store.values()], slices: [...this.slices.store.values()] };
  }

  /** The services computed last, without handing them out (desiredServices does that). */
  get computed(): readonly LoadedService[] {
    return this.#desired;
  }

  /** The services to program now; the daemon calls this when it loads. */
  desiredServices(): LoadedService[] {
    this.#handedOut = this.#generation;
    // Finalizers of cleaned-up Services may go now that the daemon has the services without them.
    if (this.#cleanupAfter.size > 0) this.#schedule();
    return this.#desired;
  }

  #setConnected(path: string, connected: boolean, error?: Error): void {
    this.#connected.set(path, connected);
    // Not connected until every informer has listed once; not disconnected before that either (still starting).
    if (this.#wasConnected === undefined && connected && this.#connected.size < 3) return;
    const all = [...this.#connected.values()].every(Boolean) && this.#connected.size === 3;
    const now = connected ? all : false;
    if (now !== this.#wasConnected) {
      this.#wasConnected = now;
      this.deps.notice?.({ type: "connected", connected: now, ...(error ? { error: error.message } : {}) });
    }
  }

  #schedule(delayMs = 20): void {
    if (this.#stopped || this.#passTimer) return;
    this.#passTimer = setTimeout(() => {
      this.#passTimer = undefined;
      this.#pass();
    }, delayMs);
  }

  #pass(): void {
    if (!this.services.synced || !this.nodes.synced || !this.slices.synced) return;
    const result = reconcile(this.snapshot(), this.deps.settings);
    this.last = result;
    this.#reportUsage(result);
    this.deps.onPass?.();
    const text = JSON.stringify(result.services);
    if (text !== this.#desiredText) {
      this.#desired = result.services;
      this.#desiredText = text;
      this.#generation++;
      this.deps.onServices();
    }
    if (!this.elector.leader) return;
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = this.#write(result.actions).finally(() => {
      this.#writing = undefined;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  #reportUsage(result: ReconcileResult): void {
    const usage = [...result.usage].map(([pool, n]) => ({ pool, allocated: n.allocated, free: n.free }));
    const text = JSON.stringify(usage);
    if (text === this.#usageText) return;
    this.#usageText = text;
    this.deps.notice?.({ type: "pools", usage });
  }

  async #write(actions: readonly ServiceActions[]): Promise<void> {
    let retry = false;
    const emitted = new Map<string, Set<string>>();
    for (const action of actions) {
      if (this.#stopped || !this.elector.leader) return;
      const { service } = action;
      const path = `/api/v1/namespaces/${service.metadata.namespace}/services/${service.metadata.name}`;
      const rv = service.metadata.resourceVersion;
      try {
        const before = this.#lastEvents.get(action.key) ?? new Set<string>();
        const now = new Set<string>();
        for (const event of action.events) {
          const id = `${event.reason}|${event.message}`;
          now.add(id);
          if (!before.has(id)) await this.#event(service, event.type, event.reason, event.message);
        }
        emitted.set(action.key, now);
        if (action.addFinalizer) {
          await this.deps.client.patch(path, { metadata: { resourceVersion: rv, finalizers: [...(service.metadata.finalizers ?? []), FINALIZER] } });
          this.writes.finalizers++;
          continue;
        }
        if (action.status) {
          await this.deps.client.patch(`${path}/status`, { metadata: { resourceVersion: rv }, ...action.status });
          this.writes.status++;
        }
        if (action.removeFinalizer) {
          const after = this.#cleanupAfter.get(action.key);
          if (after === undefined) {
            this.#cleanupAfter.set(action.key, this.#generation);
            if (this.#handedOut < this.#generation) continue;
          } else if (this.#handedOut < after) continue;
          const rest = (service.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
          await this.deps.client.patch(path, { metadata: { resourceVersion: rv, finalizers: rest.length > 0 ? rest : null } });
          this.#cleanupAfter.delete(action.key);
          this.writes.finalizers++;
        }
      } catch (error) {
        if (isConflict(error)) {
          // Someone changed the Service meanwhile: its watch event brings the new version; re-run then, backed off.
          this.writes.conflicts++;
          retry = true;
          continue;
        }
        retry = true;
        this.deps.notice?.({ type: "write-failed", what: `${action.key}`, error: (error as Error).message });
      }
    }
    this.#lastEvents = emitted;
    if (retry) this.#schedule(this.#writeBackoff.next());
    else this.#writeBackoff.reset();
  }

  async #event(service: Service, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const namespace = service.metadata.namespace ?? "default";
    await this.deps.client.create(`/api/v1/namespaces/${namespace}/events`, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${service.metadata.name}.`, namespace },
      involvedObject: { kind: "Service", apiVersion: "v1", namespace, name: service.metadata.name, uid: service.metadata.uid, resourceVersion: service.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: "lbctl", host: this.deps.settings.identity },
      reportingComponent: "libraflux.io/lbctl",
      reportingInstance: this.deps.settings.identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    this.writes.events++;
  }
}
