/**
 * Kubernetes LoadBalancer Services as a source of the daemon (spec/kubernetes.md): the controller watches the
 * cluster, and every change of the services it computes makes the daemon load them again. Services are named
 * `k8s/<namespace>/<name>/<port>`; while the API server is unreachable the last known ones stay.
 */

import { hostname } from "node:os";
import type { MainFile } from "../../config/model.ts";
import { KubeClient } from "../../k8s/client.ts";
import { loadCredentials } from "../../k8s/connection.ts";
import { KubernetesController, type ControllerNotice } from "../../k8s/controller.ts";
import { buildPools } from "../../k8s/pools.ts";
import type { ServiceSource } from "./source.ts";

export interface KubernetesSource extends ServiceSource {
  readonly controller: KubernetesController;
  /** Resolves once every informer has listed (or after `timeoutMs`): the first load then holds the cluster's services. */
  synced(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export function kubernetesSource(main: MainFile, options: { notice?: (notice: ControllerNotice) => void } = {}): KubernetesSource {
  const k8s = main.kubernetes;
  const client = new KubeClient(loadCredentials(k8s.kubeconfig, k8s.context), `lbctl/${main.node.name}`);
  const listeners = new Set<() => void>();
  const controller = new KubernetesController({
    client,
    settings: {
      loadBalancerClass: k8s.load_balancer_class,
      pools: buildPools(k8s.pools),
      nodeAddressType: k8s.node_address_type === "ExternalIP" ? "ExternalIP" : "InternalIP",
      ...(k8s.health ? { health: k8s.health } : {}),
      resyncMs: k8s.resync_seconds * 1000,
      leaseNamespace: k8s.lease_namespace,
      identity: `${main.node.name}@${hostname()}`,
    },
    onServices: () => {
      for (const listener of listeners) listener();
    },
    ...(options.notice ? { notice: options.notice } : {}),
  });
  controller.start();
  return {
    name: "kubernetes",
    controller,
    load() {
      return { ok: true, services: controller.desiredServices(), files: [] };
    },
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async synced(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (controller.last !== undefined) return true;
        await Bun.sleep(50);
      }
      return false;
    },
    stop: () => controller.stop(),
  };
}
