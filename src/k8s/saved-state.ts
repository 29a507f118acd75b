/**
 * The last cluster state lbctl served, as saved in `system.state_dir`: the Services it serves, the Nodes and the
 * EndpointSlices of its `externalTrafficPolicy: Local` Services, trimmed to the fields the reconcile reads. A
 * daemon started while the API server is unreachable computes its Kubernetes services from it (reconcile.ts), so the
 * same config gives the same rules as before the restart. Validated field by field on read: a file that is not
 * exactly this shape is refused whole. Without resourceVersions: a change that matters changes the file, nothing else
 * does. Pure.
 */

import * as v from "valibot";
import { FINALIZER, LABEL_SERVICE_NAME, objectKey } from "./names.ts";
import type { Snapshot } from "./reconcile.ts";
import { isOurs } from "./service-model.ts";
import type { EndpointSlice, Node, Service } from "./types.ts";

export const SAVED_STATE_VERSION = 1;
/** Far above any real cluster's trimmed state (pools hold at most 4096 addresses each), far below a memory risk. */
export const SAVED_STATE_MAX_BYTES = 32 * 1024 * 1024;

const text = v.pipe(v.string(), v.maxLength(4096));
const strings = v.record(v.pipe(v.string(), v.maxLength(253)), text);
const port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535));

const Meta = v.object({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(253)),
  namespace: v.optional(v.pipe(v.string(), v.maxLength(63))),
  uid: v.optional(text),
  creationTimestamp: v.optional(text),
  labels: v.optional(strings),
  annotations: v.optional(strings),
  finalizers: v.optional(v.array(text)),
});

const ServiceSchema = v.object({
  metadata: Meta,
  spec: v.object({
    type: v.optional(text),
    loadBalancerClass: v.optional(text),
    loadBalancerIP: v.optional(text),
    ports: v.optional(
      v.array(
        v.object({
          name: v.optional(text),
          protocol: v.optional(v.picklist(["TCP", "UDP", "SCTP"])),
          port,
          nodePort: v.optional(port),
        }),
      ),
    ),
    externalTrafficPolicy: v.optional(v.picklist(["Cluster", "Local"])),
    healthCheckNodePort: v.optional(port),
    sessionAffinity: v.optional(v.picklist(["None", "ClientIP"])),
    sessionAffinityConfig: v.optional(v.object({ clientIP: v.optional(v.object({ timeoutSeconds: v.optional(v.pipe(v.number(), v.integer())) })) })),
    ipFamilies: v.optional(v.array(v.picklist(["IPv4", "IPv6"]))),
  }),
  status: v.optional(v.object({ loadBalancer: v.optional(v.object({ ingress: v.optional(v.array(v.object({ ip: v.optional(text), ipMode: v.optional(v.picklist(["VIP", "Proxy"])) }))) })) })),
});

const NodeSchema = v.object({
  metadata: Meta,
  spec: v.optional(v.object({ taints: v.optional(v.array(v.object({ key: text, value: v.optional(text), effect: text }))) })),
  status: v.optional(v.object({ addresses: v.optional(v.array(v.object({ type: text, address: text }))) })),
});

const SliceSchema = v.object({
  metadata: Meta,
  addressType: v.picklist(["IPv4", "IPv6", "FQDN"]),
  endpoints: v.optional(
    v.array(
      v.object({
        addresses: v.array(text),
        conditions: v.optional(v.object({ ready: v.optional(v.boolean()), serving: v.optional(v.boolean()), terminating: v.optional(v.boolean()) })),
        nodeName: v.optional(text),
      }),
    ),
  ),
});

const SavedStateSchema = v.object({
  version: v.literal(SAVED_STATE_VERSION),
  loadBalancerClass: text,
  services: v.array(ServiceSchema),
  nodes: v.array(NodeSchema),
  slices: v.array(SliceSchema),
});

export type SavedState = v.InferOutput<typeof SavedStateSchema>;

/**
 * What to save of the cluster as last listed: the Services programmed (ours, with our finalizer, not being deleted),
 * every Node, and the EndpointSlices of those Services; trimmed by the schema to the fields read back.
 */
export function stateToSave(snapshot: Snapshot, loadBalancerClass: string): SavedState {
  const services = snapshot.services.filter(
    (s) => isOurs(s, loadBalancerClass) && !s.metadata.deletionTimestamp && (s.metadata.finalizers?.includes(FINALIZER) ?? false),
  );
  const local = new Set(services.filter((s) => s.spec.externalTrafficPolicy === "Local").map((s) => objectKey(s.metadata)));
  const slices = snapshot.slices.filter((slice) => {
    const name = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    return name !== undefined && local.has(objectKey({ namespace: slice.metadata.namespace ?? "", name }));
  });
  const nodes = snapshot.nodes.filter((node) => !node.metadata.deletionTimestamp);
  return v.parse(SavedStateSchema, { version: SAVED_STATE_VERSION, loadBalancerClass, services, nodes, slices });
}

export function serializeState(state: SavedState): string {
  return `${JSON.stringify(state)}\n`;
}

/** The saved state, or why it cannot be used (the message names the first field at fault). */
export function parseState(text: string): { ok: true; snapshot: Snapshot; loadBalancerClass: string } | { ok: false; message: string } {
  if (text.length > SAVED_STATE_MAX_BYTES) return { ok: false, message: `larger than ${SAVED_STATE_MAX_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: "not valid JSON" };
  }
  const parsed = v.safeParse(SavedStateSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    return { ok: false, message: `${path ? `${path}: ` : ""}${issue.message}` };
  }
  const state = parsed.output;
  return {
    ok: true,
    loadBalancerClass: state.loadBalancerClass,
    snapshot: { services: state.services as Service[], nodes: state.nodes as Node[], slices: state.slices as EndpointSlice[] },
  };
}
