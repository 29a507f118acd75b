/**
 * What metrics know of the Kubernetes source (spec/kubernetes.md): reachability of the API server, leadership, and
 * the pools' addresses. Nothing until the source reports (kubernetes.enabled false: no series at all).
 */

import type { DaemonEvent, KubernetesPoolUsage } from "../events.ts";
import type { FamilyKey } from "./families.ts";

export type KubernetesEvent = Extract<DaemonEvent, { type: "kubernetes-connection" | "kubernetes-leader" | "kubernetes-pools" }>;

export const KUBERNETES_FAMILIES: readonly FamilyKey[] = ["kubernetesConnected", "kubernetesLeader", "kubernetesPoolAddresses"];

export class KubernetesMetrics {
  /** undefined: the source never reported (disabled). */
  connected: 0 | 1 | undefined;
  leader: 0 | 1 | undefined;
  pools: readonly KubernetesPoolUsage[] = [];

  /** Any report of the source makes all its gauges appear, at 0 until known. */
  apply(event: KubernetesEvent): void {
    this.connected ??= 0;
    this.leader ??= 0;
    switch (event.type) {
      case "kubernetes-connection":
        this.connected = event.connected ? 1 : 0;
        return;
      case "kubernetes-leader":
        this.leader = event.leader ? 1 : 0;
        return;
      case "kubernetes-pools":
        this.pools = event.pools;
        return;
    }
  }

  /** Label values after `node` and the value of each series of `key`. */
  series(key: "kubernetesConnected" | "kubernetesLeader" | "kubernetesPoolAddresses"): [string[], number][] {
    switch (key) {
      case "kubernetesConnected":
        return this.connected === undefined ? [] : [[[], this.connected]];
      case "kubernetesLeader":
        return this.leader === undefined ? [] : [[[], this.leader]];
      case "kubernetesPoolAddresses":
        return this.pools.flatMap((p): [string[], number][] => [
          [[p.pool, "free"], p.free],
          [[p.pool, "allocated"], p.allocated],
        ]);
    }
  }
}
