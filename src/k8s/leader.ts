/**
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder renews every
 * `renewMs`; another candidate takes over once it has seen the same lease record unchanged for a whole
 * `leaseDurationSeconds` (its own clock, never a comparison of two hosts' clocks). Writes carry the Lease's
 * resourceVersion, so two candidates racing for it get one 409 and one leader.
 */

import type { KubeClient } from "./client.ts";
import { K8sError } from "./errors.ts";
import type { Lease } from "./types.ts";

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewMs?: number;
  onChange: (leader: boolean) => void;
  now?: () => number;
}

export class LeaderElector {
  #leader = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #observed: { record: string; at: number } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderOptions,
  ) {}

  get leader(): boolean {
    return this.#leader;
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases`;
  }

  start(): void {
    void this.#cycle();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#set(false);
  }

  async #cycle(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.#set(await this.tryAcquireOrRenew());
    } catch {
      // Unreachable API server: a leader that cannot renew stops writing once its lease would have run out.
      if (this.#observed && this.#now() - this.#observed.at > this.#durationMs) this.#set(false);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#cycle(), this.options.renewMs ?? 2000);
  }

  get #durationMs(): number {
    return (this.options.leaseDurationSeconds ?? 15) * 1000;
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.options.onChange(leader);
  }

  /** One round: true when this candidate holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, name } = this.options;
    // MicroTime: RFC 3339 with microseconds.
    const nowIso = new Date(this.#now()).toISOString().replace("Z", "000Z");
    let lease: Lease | undefined;
    try {
      lease = await this.client.get<Lease>(`${this.#path}/${name}`);
    } catch (error) {
      if (!(error instanceof K8sError && error.status === 404)) throw error;
    }
    const spec = { holderIdentity: identity, leaseDurationSeconds: this.options.leaseDurationSeconds ?? 15, acquireTime: nowIso, renewTime: nowIso, leaseTransitions: 0 };
    if (!lease) {
      return this.#write(() => this.client.create(this.#path, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: this.options.namespace }, spec }));
    }
    const record = JSON.stringify([lease.spec.holderIdentity, lease.spec.renewTime]);
    if (this.#observed?.record !== record) this.#observed = { record, at: this.#now() };
    const holder = lease.spec.holderIdentity;
    if (holder === identity) {
      return this.#write(() => this.client.replace(`${this.#path}/${name}`, { ...lease, spec: { ...lease.spec, renewTime: nowIso } }));
    }
    const expired = !holder || this.#now() - this.#observed.at > (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    if (!expired) return false;
    return this.#write(() =>
      this.client.replace(`${this.#path}/${name}`, { ...lease, spec: { ...spec, leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } }),
    );
  }

  async #write(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      this.#observed = { record: "mine", at: this.#now() };
      return true;
    } catch (error) {
      if (error instanceof K8sError && (error.status === 409 || error.code === "api-conflict")) return false;
      throw error;
    }
  }
}
