/**
 * Kubernetes LoadBalancer Services as a source of the daemon (spec/kubernetes.md): the controller watches the
 * cluster, and every change of the services it computes makes the daemon load them again. Services are named
 * `k8s/<namespace>/<name>/<port>`; while the API server is unreachable the last known ones stay, across a restart
 * too (the state saved in `system.state_dir`, kubernetes-state.ts).
 */

import { hostname } from "node:os";
import type { MainFile } from "../../config/model.ts";
import { KubeClient } from "../../k8s/client.ts";
import { loadCredentials } from "../../k8s/connection.ts";
import { KubernetesController, type ControllerNotice } from "../../k8s/controller.ts";
import { leaseName } from "../../k8s/names.ts";
import { buildPools } from "../../k8s/pools.ts";
import { serializeState, stateToSave } from "../../k8s/saved-state.ts";
import { isOurs } from "../../k8s/service-model.ts";
import type { DaemonEvent } from "../../observability/events.ts";
import { readKubernetesState, saveKubernetesState } from "./kubernetes-state.ts";
import type { ServiceSource } from "./source.ts";

export interface KubernetesSource extends ServiceSource {
  readonly controller: KubernetesController;
  /** Resolves once every informer has listed (or after `timeoutMs`): the first load then holds the cluster's services. */
  synced(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export interface KubernetesSourceOptions {
  /** The source's events for metrics, audit and logs (observability/events.ts). */
  emit?: (event: DaemonEvent) => void;
  /** How long after a pass the state is saved when it changed (changes in between are saved together). */
  saveDelayMs?: number;
  /** Replaces the client credentials from the kubeconfig (tests). */
  client?: KubeClient;
  /** The Lease holder identity (default `<node.name>@<hostname>`). */
  identity?: string;
}

export function kubernetesSource(main: MainFile, options: KubernetesSourceOptions = {}): KubernetesSource {
  const k8s = main.kubernetes;
  const stateDir = main.system.state_dir;
  const emit = options.emit ?? (() => {});
  const client = options.client ?? new KubeClient(loadCredentials(k8s.kubeconfig, k8s.context), `lbctl/${main.node.name}`);
  const identity = options.identity ?? `${main.node.name}@${hostname()}`;
  const lease = leaseName(k8s.load_balancer_class);
  const listeners = new Set<() => void>();
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  let saveFailing = false;
  let savedText = "";
  const save = () => {
    saveTimer = undefined;
    try {
      const text = serializeState(stateToSave(controller.snapshot(), k8s.load_balancer_class));
      if (text === savedText) return;
      saveKubernetesState(stateDir, text);
      savedText = text;
      saveFailing = false;
    } catch (error) {
      // Reported once per failing streak: the daemon keeps serving; only a restart without the API server loses.
      if (!saveFailing) emit({ type: "error", message: `Saving the Kubernetes state failed: ${(error as Error).message}` });
      saveFailing = true;
    }
  };
  const controller = new KubernetesController({
    client,
    settings: {
      loadBalancerClass: k8s.load_balancer_class,
      pools: buildPools(k8s.pools),
      nodeAddressType: k8s.node_address_type === "ExternalIP" ? "ExternalIP" : "InternalIP",
      ...(k8s.health ? { health: k8s.health } : {}),
      resyncMs: k8s.resync_seconds * 1000,
      leaseNamespace: k8s.lease_namespace,
      identity,
    },
    onServices: () => {
      for (const listener of listeners) listener();
    },
    // Status and finalizers matter too (the addresses are rebuilt from status): saved after any pass that changed them.
    onPass: () => {
      saveTimer ??= setTimeout(save, options.saveDelayMs ?? 1000);
    },
    notice: (notice) => emit(noticeEvent(notice, lease, identity)),
  });
  const saved = readKubernetesState(stateDir);
  if (saved.kind === "invalid") emit({ type: "error", message: `Kubernetes saved state: ${saved.message}` });
  if (saved.kind === "ok") controller.seed(saved.snapshot);
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
    removalReason: (service, removed) => removalReason(controller, k8s.load_balancer_class, service, removed),
    async synced(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (controller.last !== undefined) return true;
        await Bun.sleep(50);
      }
      return false;
    },
    async stop() {
      await controller.stop();
      if (saveTimer) {
        clearTimeout(saveTimer);
        save();
      }
    },
  };
}

export function noticeEvent(notice: ControllerNotice, lease: string, identity: string): DaemonEvent {
  switch (notice.type) {
    case "connected":
      return { type: "kubernetes-connection", connected: notice.connected, ...(notice.error ? { error: notice.error } : {}) };
    case "leader":
      return { type: "kubernetes-leader", leader: notice.leader, lease, identity };
    case "pools":
      return { type: "kubernetes-pools", pools: notice.usage };
    case "write-failed":
      return { type: "error", message: `Kubernetes write failed service=${notice.what} error="${notice.error}"` };
  }
}

/**
 * Every removal of a `k8s/` service is the cluster's decision (nothing in the files defines them): the reason, from
 * the Service as last seen. `k8s/<namespace>/<name>/<port>[/IPv6]`.
 */
function removalReason(controller: KubernetesController, loadBalancerClass: string, service: string, removed: "virtual-service" | "destination"): string | undefined {
  const [prefix, namespace, name] = service.split("/");
  if (prefix !== "k8s" || !namespace || !name) return undefined;
  const object = controller.services.store.get(`${namespace}/${name}`);
  if (!object) return "Service deleted";
  if (object.metadata.deletionTimestamp) return "Service being deleted";
  if (!isOurs(object, loadBalancerClass)) return `Service no longer of type LoadBalancer with class ${loadBalancerClass}`;
  const allocation = controller.last?.allocations.get(`${namespace}/${name}`);
  if (allocation && !allocation.ok) return `Service without an address: ${allocation.message}`;
  const still = controller.computed.some((s) => s.name === service);
  if (!still) return "port no longer in the Service";
  return removed === "virtual-service" ? "address or port of the Service changed" : "backend nodes no longer eligible, or without ready endpoints";
}
