/**
 * What `apply` and `snapshot restore` share without a daemon: plan (with change limits), then, when the plan
 * deletes anything, save a snapshot of the managed table before executing it, so that `lbctl snapshot restore`
 * can undo it. A snapshot that cannot be written stops nothing: it is reported, and the change goes ahead.
 */

import type { KernelServiceEntry } from "../ipvs/types.ts";
import { executePlan } from "../plan/execute.ts";
import { reconcile, type ReconcileOutcome, type ReconcileRequest } from "../plan/reconcile.ts";
import type { SnapshotReason } from "../plan/snapshot.ts";
import { deletesAnything, type SaveSnapshot } from "../daemon/snapshot-store.ts";
import type { Output } from "./output.ts";

export interface GuardedApply {
  outcome: ReconcileOutcome;
  /** The id of the snapshot taken before the plan ran. */
  snapshot?: string;
}

/** `out` says where the snapshot went (not with --json: stdout holds the one JSON object, which names the snapshot). */
export function guardedApply(request: ReconcileRequest, snapshot: { save: SaveSnapshot; reason: SnapshotReason }, out: Output, json: boolean): GuardedApply {
  let kernel: readonly KernelServiceEntry[] = request.kernel ?? [];
  const adjust = request.adjust;
  const planned = reconcile({
    ...request,
    dryRun: true,
    adjust: (plan, dump) => {
      kernel = dump;
      return adjust ? adjust(plan, dump) : plan;
    },
  });
  if (request.dryRun || planned.kind !== "planned") return { outcome: planned };
  let id: string | undefined;
  if (deletesAnything(planned.plan)) {
    try {
      id = snapshot.save(kernel, request.managedVips, snapshot.reason).id;
      if (!json) out.log.info(`Snapshot ${id} saved first (lbctl snapshot restore ${id} undoes this ${snapshot.reason})`);
    } catch (error) {
      out.log.warn(`No snapshot taken before the ${snapshot.reason}: ${(error as Error).message}`);
    }
  }
  const started = performance.now();
  const execution = executePlan(request.client, planned.plan);
  request.onPhase?.("execute", performance.now() - started);
  const outcome: ReconcileOutcome = execution.ok
    ? { kind: "applied", plan: planned.plan, ...(planned.desired ? { desired: planned.desired } : {}) }
    : { kind: "failed", plan: planned.plan, execution, ...(planned.desired ? { desired: planned.desired } : {}) };
  return { outcome, ...(id ? { snapshot: id } : {}) };
}
