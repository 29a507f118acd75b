/**
 * The fields of the Kubernetes API objects lbctl reads and writes (core/v1 Service and Node,
 * discovery.k8s.io/v1 EndpointSlice, coordination.k8s.io/v1 Lease, core/v1 Event), as the API server sends them.
 * Written here rather than taken from a package: the official types come with @kubernetes/client-node, whose
 * runtime the issue rules out, and lbctl reads a few dozen fields.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  generation?: number;
}

export interface ServicePort {
  name?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: "VIP" | "Proxy";
  ports?: Array<{ port: number; protocol: string; error?: string }>;
}

export interface Service {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ports?: ServicePort[];
    externalTrafficPolicy?: "Cluster" | "Local";
    healthCheckNodePort?: number;
    sessionAffinity?: "None" | "ClientIP";
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    ipFamilies?: Array<"IPv4" | "IPv6">;
    ipFamilyPolicy?: string;
    clusterIP?: string;
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Node {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: { addresses?: Array<{ type: string; address: string }>; conditions?: Array<{ type: string; status: string }> };
}

export interface Endpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints?: Endpoint[];
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface KubeEvent {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  involvedObject: { kind: string; namespace?: string; name: string; uid?: string; apiVersion?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: "Normal" | "Warning";
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  reportingComponent?: string;
  reportingInstance?: string;
}

export interface List<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEvent<T> =
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: T }
  | { type: "BOOKMARK"; object: { kind?: string; apiVersion?: string; metadata: { resourceVersion: string; annotations?: Record<string, string> } } }
  | { type: "ERROR"; object: Status };

export interface Status {
  kind?: "Status";
  apiVersion?: string;
  status?: "Success" | "Failure";
  message?: string;
  reason?: string;
  code?: number;
  metadata?: Record<string, unknown>;
}
