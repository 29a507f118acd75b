/**
 * Which nodes are backends, and at which address: the rules of Kubernetes' service controller (not being
 * deleted, no exclude label, no ToBeDeleted taint). Readiness is not a rule there, nor here: lbctl's health checks
 * decide whether a node gets traffic. Pure.
 */

import { parseIp } from "../config/ip.ts";
import type { Family } from "../ipvs/types.ts";
import { LABEL_EXCLUDE_NODE, TAINT_TO_BE_DELETED } from "./names.ts";
import type { Node } from "./types.ts";

export type NodeAddressType = "InternalIP" | "ExternalIP";

/** Why a node is not a backend, or undefined when it is eligible. */
export function nodeExclusion(node: Node): string | undefined {
  if (node.metadata.deletionTimestamp) return "being deleted";
  if (node.metadata.labels && LABEL_EXCLUDE_NODE in node.metadata.labels) return `labelled ${LABEL_EXCLUDE_NODE}`;
  if (node.spec?.taints?.some((taint) => taint.key === TAINT_TO_BE_DELETED)) return `tainted ${TAINT_TO_BE_DELETED}`;
  return undefined;
}

/** The node's first address of `type` in `family`, canonical, or undefined. */
export function nodeAddress(node: Node, type: NodeAddressType, family: Family): string | undefined {
  for (const entry of node.status?.addresses ?? []) {
    if (entry.type !== type) continue;
    const parsed = parseIp(entry.address);
    if (parsed?.family === family) return parsed.text;
  }
  return undefined;
}

export interface BackendNode {
  name: string;
  address: string;
}

/** Eligible nodes with an address of the family, sorted by name (a stable order for plans and tests). */
export function backendNodes(nodes: readonly Node[], type: NodeAddressType, family: Family): BackendNode[] {
  const out: BackendNode[] = [];
  for (const node of nodes) {
    if (nodeExclusion(node) !== undefined) continue;
    const address = nodeAddress(node, type, family);
    if (address) out.push({ name: node.metadata.name, address });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
