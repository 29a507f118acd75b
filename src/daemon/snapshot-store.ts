/**
 * Taking a snapshot of the managed part of the kernel table into state_dir/snapshots (plan/snapshot.ts makes it,
 * system/snapshots.ts stores it): shared by `lbctl snapshot save`, one-shot `apply` and `restore`, and the daemon's
 * reloads, which each take one before they delete anything.
 */

import type { Config } from "../config/model.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { Plan } from "../plan/changes.ts";
import { countDeletions } from "../plan/changes.ts";
import { takeSnapshot, type Snapshot, type SnapshotReason } from "../plan/snapshot.ts";
import { newSnapshotId, writeSnapshot } from "../system/snapshots.ts";

export type SaveSnapshot = (kernel: readonly KernelServiceEntry[], managedVips: ReadonlySet<string>, reason: SnapshotReason) => Snapshot;

/** Saves a snapshot under the config's state_dir, keeping the last `system.snapshots_kept`. */
export function snapshotSaver(config: Pick<Config, "main">, now: () => Date = () => new Date()): SaveSnapshot {
  return (kernel, managedVips, reason) => {
    const stateDir = config.main.system.state_dir;
    const createdAt = now();
    const id = newSnapshotId(stateDir, createdAt, reason);
    const snapshot = takeSnapshot(kernel, managedVips, { id, createdAt, reason, node: config.main.node.name });
    writeSnapshot(stateDir, id, `${JSON.stringify(snapshot, null, 1)}\n`, config.main.system.snapshots_kept);
    return snapshot;
  };
}

/** Whether a plan deletes anything (a removal that starts a drain counts): then a snapshot is taken first. */
export function deletesAnything(plan: Plan): boolean {
  // Said without building a fresh table's change records, which come after the kernel work (plan/fresh-table.ts).
  if (plan.onlyCreations) return false;
  const removed = countDeletions(plan);
  return removed.services + removed.destinations > 0 || plan.changes.some((c) => c.op === "delete-service" || c.op === "delete-destination");
}
