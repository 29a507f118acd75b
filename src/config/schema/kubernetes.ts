/** The `kubernetes:` section of the main file: keys, defaults and ranges of spec/kubernetes.md. */

import * as v from "valibot";
import { boolean, integer, objectName, text } from "./primitives.ts";
import { HealthSchema } from "./health.ts";
import { list, section } from "./structure.ts";

export const NODE_ADDRESS_TYPES = ["InternalIP", "ExternalIP"] as const;

const pool = section({
  name: objectName("Pool name, used by the libraflux.io/address-pool annotation and in metrics"),
  addresses: list(
    text({ allowEmpty: false, numbers: false, expected: "a CIDR, a first-last range or an address", description: "CIDR, first-last range or address" }),
    "Addresses of one family: CIDRs or first-last ranges; at most 4096 per pool",
  ),
});

const nodeAddressType = text({
  pattern: /^(?:InternalIP|ExternalIP)$/,
  expected: "InternalIP or ExternalIP",
  emptyMeans: "InternalIP",
  description: "Which node address is a backend: InternalIP | ExternalIP",
});

export const KubernetesSchema = section(
  {
    enabled: v.optional(boolean("Serve type: LoadBalancer Services of the cluster"), false),
    kubeconfig: v.optional(
      text({ allowEmpty: false, numbers: false, description: 'A kubeconfig file (token, token file, client certificate, CA), or "in-cluster"' }),
      "/etc/lbctl/kubeconfig",
    ),
    context: v.optional(text({ description: "Kubeconfig context; empty = its current-context" }), ""),
    load_balancer_class: v.optional(
      text({ pattern: /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\/[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, expected: "a class such as libraflux.io/lbctl (domain/name)", emptyMeans: "libraflux.io/lbctl" }),
      "libraflux.io/lbctl",
    ),
    pools: v.optional(list(pool, "Address pools; at least one when enabled"), []),
    resync_seconds: v.optional(integer(10, 86400, { zeroMeans: 300, description: "Full re-list period, besides the watches" }), 300),
    lease_namespace: v.optional(
      text({ pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, expected: "a namespace name (DNS label)", emptyMeans: "kube-system" }),
      "kube-system",
    ),
    node_address_type: v.optional(nodeAddressType, "InternalIP"),
    health: v.optional(HealthSchema),
  },
  "Kubernetes LoadBalancer Services (docs/kubernetes.md)",
);

export type KubernetesFile = v.InferOutput<typeof KubernetesSchema>;
export type NodeAddressType = (typeof NODE_ADDRESS_TYPES)[number];
