/** The names lbctl writes into the cluster and reads from it, verbatim from spec/kubernetes.md. */

export const FINALIZER = "libraflux.io/lb-cleanup";
export const ANNOTATION_IPS = "libraflux.io/load-balancer-ips";
export const ANNOTATION_POOL = "libraflux.io/address-pool";
export const ANNOTATION_SHARING = "libraflux.io/allow-shared-ip";
export const LABEL_EXCLUDE_NODE = "node.kubernetes.io/exclude-from-external-load-balancers";
export const TAINT_TO_BE_DELETED = "ToBeDeletedByClusterAutoscaler";
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
/** kube-proxy's answer on healthCheckNodePort carries the number of local endpoints in this header. */
export const HEADER_ENDPOINT_WEIGHT = "X-Load-Balancing-Endpoint-Weight";

export const REASONS = {
  allocated: "IPAllocated",
  ensured: "EnsuredLoadBalancer",
  failed: "SyncLoadBalancerFailed",
  notAvailable: "IPNotAvailable",
  deleted: "DeletedLoadBalancer",
} as const;

/** `lbctl-<class with / and . replaced by ->`. */
export function leaseName(loadBalancerClass: string): string {
  return `lbctl-${loadBalancerClass.replace(/[/.]/g, "-")}`;
}

/** `namespace/name`: the key of a namespaced object. */
export function objectKey(meta: { namespace?: string; name: string }): string {
  return `${meta.namespace ?? ""}/${meta.name}`;
}
