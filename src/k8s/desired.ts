/**
 * A LoadBalancer Service and its addresses → the lbctl services that serve it: one per port and family, named
 * `k8s/<namespace>/<name>/<port name or number>` (the IPv6 one of a dual-stack Service gets `/IPv6` appended),
 * with one backend NODE_ADDRESS:NODE_PORT per eligible node. Pure.
 */

import * as v from "valibot";
import type { HealthFile, LoadedService } from "../config/model.ts";
import { HealthSchema } from "../config/schema/health.ts";
import { parseIp } from "../config/ip.ts";
import type { Family } from "../ipvs/types.ts";
import { LABEL_SERVICE_NAME, objectKey } from "./names.ts";
import { backendNodes, type NodeAddressType } from "./nodes.ts";
import { portProtocol, splitPorts } from "./service-model.ts";
import type { EndpointSlice, Node, Service } from "./types.ts";

export interface DesiredSettings {
  nodeAddressType: NodeAddressType;
  /** `kubernetes.health`: the check of every node backend (Services with externalTrafficPolicy Local use their own). */
  health?: HealthFile;
}

/** kube-proxy's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

const DISABLED_HEALTH: HealthFile = v.parse(HealthSchema, {});

/** `source.file` of a Kubernetes service: names the Service in merge conflicts and audit records. */
export function sourceFile(service: Service): string {
  return `kubernetes:${objectKey(service.metadata)}`;
}

export function serviceBaseName(service: Service): string {
  return `k8s/${service.metadata.namespace ?? "default"}/${service.metadata.name}`;
}

/** Ready local endpoints per node name: kube-proxy reports the same count in X-Load-Balancing-Endpoint-Weight. */
export function localEndpointCounts(service: Service, slices: readonly EndpointSlice[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const slice of slices) {
    if (slice.metadata.namespace !== service.metadata.namespace) continue;
    if (slice.metadata.labels?.[LABEL_SERVICE_NAME] !== service.metadata.name) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // The API's rule: an unset `ready` means ready.
      if (!endpoint.nodeName || endpoint.conditions?.ready === false) continue;
      counts.set(endpoint.nodeName, (counts.get(endpoint.nodeName) ?? 0) + endpoint.addresses.length);
    }
  }
  return counts;
}

/** kube-proxy's answer on the healthCheckNodePort carries the node's count of ready local endpoints in this header. */
export const ENDPOINT_WEIGHT_HEADER = "X-Load-Balancing-Endpoint-Weight";

/**
 * The http check on kube-proxy's healthCheckNodePort: 200 while the node has local endpoints, 503 otherwise, and the
 * count of them in X-Load-Balancing-Endpoint-Weight, which becomes the node's weight. It replaces
 * `kubernetes.health` for the Service; only that block's timers (interval, timeout, thresholds) carry over.
 */
export function localTrafficHealth(healthCheckNodePort: number, timers?: HealthFile): HealthFile {
  const { interval_ms, timeout_ms, fail_after, recover_after } = timers?.enabled ? timers : DISABLED_HEALTH;
  return {
    ...DISABLED_HEALTH,
    enabled: true,
    type: "http",
    port: healthCheckNodePort,
    interval_ms,
    timeout_ms,
    fail_after,
    recover_after,
    http_path: "/",
    http_status: [[200, 299]],
    http_weight_header: ENDPOINT_WEIGHT_HEADER,
  };
}

export function desiredServices(
  service: Service,
  ips: readonly string[],
  nodes: readonly Node[],
  slices: readonly EndpointSlice[],
  settings: DesiredSettings,
): LoadedService[] {
  const base = serviceBaseName(service);
  const local = service.spec.externalTrafficPolicy === "Local";
  const counts = local ? localEndpointCounts(service, slices) : undefined;
  const health =
    local && service.spec.healthCheckNodePort ? localTrafficHealth(service.spec.healthCheckNodePort, settings.health) : (settings.health ?? DISABLED_HEALTH);
  const affinity = service.spec.sessionAffinity === "ClientIP";
  const timeout = service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
  const out: LoadedService[] = [];
  const families = ips.map((ip) => parseIp(ip)?.family ?? 4);
  ips.forEach((vip, familyIndex) => {
    const family = families[familyIndex] as Family;
    const nodesOfFamily = backendNodes(nodes, settings.nodeAddressType, family).filter((node) => !counts || (counts.get(node.name) ?? 0) > 0);
    for (const port of splitPorts(service).served) {
      if (!port.nodePort) continue;
      const protocol = portProtocol(port) === "UDP" ? "udp" : "tcp";
      // A check type that cannot probe this protocol (e.g. a tcp check on a UDP port) is left off for that port.
      const checkFits = health.type === "http" && local ? true : health.type.startsWith("udp_") === (protocol === "udp");
      out.push({
        name: `${base}/${port.name || port.port}${families.length > 1 && family === 6 ? "/IPv6" : ""}`,
        protocol,
        vip,
        ports: [{ start: port.port, end: port.port }],
        port_ranges: [],
        scheduler: "wlc",
        ...(affinity ? { persistence: { timeout_seconds: Math.min(Math.max(timeout, 1), 31536000) } } : {}),
        backends: nodesOfFamily.map((node) => ({
          address: node.address,
          port: port.nodePort as number,
          weight: counts ? Math.min(counts.get(node.name) ?? 0, 65535) : 1,
        })),
        health: checkFits ? health : DISABLED_HEALTH,
        source: { file: sourceFile(service), index: out.length },
      });
    }
  });
  return out;
}
