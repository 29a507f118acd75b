/**
 * The Kubernetes source's saved state in `system.state_dir` (k8s/saved-state.ts): written atomically after the
 * served services change, read once at start. A missing file is a first start; an unreadable or invalid one is
 * reported and not used (the cluster, once reachable, is the truth anyway).
 */

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseState, SAVED_STATE_MAX_BYTES } from "../../k8s/saved-state.ts";
import type { Snapshot } from "../../k8s/reconcile.ts";
import { writeFileAtomic } from "../../system/atomic-file.ts";

const FILE = "kubernetes-state.json";

export function kubernetesStateFile(stateDir: string): string {
  return join(stateDir, FILE);
}

export type StateRead = { kind: "absent" } | { kind: "ok"; snapshot: Snapshot; loadBalancerClass: string } | { kind: "invalid"; message: string };

export function readKubernetesState(stateDir: string): StateRead {
  const path = kubernetesStateFile(stateDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    return { kind: "invalid", message: `cannot read ${path}: ${(error as Error).message}` };
  }
  const parsed = parseState(text);
  if (!parsed.ok) return { kind: "invalid", message: `${path} not used: ${parsed.message}` };
  return { kind: "ok", snapshot: parsed.snapshot, loadBalancerClass: parsed.loadBalancerClass };
}

/** `text` from serializeState; throws with a message naming the file when it cannot be written or exceeds the bound. */
export function saveKubernetesState(stateDir: string, text: string): void {
  const path = kubernetesStateFile(stateDir);
  if (text.length > SAVED_STATE_MAX_BYTES) throw new Error(`${path} not written: the state is larger than ${SAVED_STATE_MAX_BYTES} bytes`);
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  writeFileAtomic(path, text, { mode: 0o600 });
}
