/** Builders of Kubernetes objects for tests, shaped as the API server returns them. */

import type { EndpointSlice, Node, Service, ServicePort } from "../../../src/k8s/types.ts";
import { FINALIZER } from "../../../src/k8s/names.ts";

export const CLASS = "libraflux.io/lbctl";

export interface ServiceOptions {
  namespace?: string;
  created?: string;
  ports?: ServicePort[];
  annotations?: Record<string, string>;
  ingress?: string[];
  finalizer?: boolean;
  spec?: Partial<Service["spec"]>;
  deleting?: boolean;
}

export function lbService(name: string, options: ServiceOptions = {}): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      uid: `uid-${name}`,
      creationTimestamp: options.created ?? "2026-01-01T00:00:00Z",
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(options.finalizer === false ? {} : { finalizers: [FINALIZER] }),
      ...(options.deleting ? { deletionTimestamp: "2026-02-01T00:00:00Z" } : {}),
    },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: CLASS,
      ports: options.ports ?? [{ name: "http", protocol: "TCP", port: 80, nodePort: 30080 }],
      externalTrafficPolicy: "Cluster",
      ...options.spec,
    },
    status: { loadBalancer: options.ingress ? { ingress: options.ingress.map((ip) => ({ ip, ipMode: "VIP" as const })) } : {} },
  };
}

export function node(name: string, internalIp: string, extra: Partial<Node["metadata"]> & { taints?: string[]; ipv6?: string } = {}): Node {
  const { taints, ipv6, ...meta } = extra;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, ...meta },
    spec: taints ? { taints: taints.map((key) => ({ key, effect: "NoSchedule" })) } : {},
    status: {
      addresses: [
        { type: "InternalIP", address: internalIp },
        ...(ipv6 ? [{ type: "InternalIP", address: ipv6 }] : []),
        { type: "Hostname", address: name },
      ],
    },
  };
}

export function slice(service: string, endpoints: Array<{ node: string; ready?: boolean }>, namespace = "default"): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${service}-abc`, namespace, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: endpoints.map((e, i) => ({
      addresses: [`10.244.0.${i + 1}`],
      nodeName: e.node,
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
    })),
  };
}
