/**
 * One reconciliation: read the kernel, plan against the desired state, check change limits, execute with
 * rollback. The client is injected, so this runs against a fake kernel in unit tests and the real one in the lab.
 */

import type { Config } from "../config/model.ts";
import type { IpvsClient, KernelServiceEntry } from "../ipvs/types.ts";
import type { Change, ChangeReason, Plan } from "./changes.ts";
import { desiredServices, type DesiredOptions, type DesiredService } from "./desired.ts";
import { planChanges, type DiffOptions, type RemovalPolicy } from "./diff.ts";
import { executePlan, type ExecutionResult } from "./execute.ts";
import { exceededLimit, type ChangeLimits, type LimitHit } from "./limits.ts";

export interface ReconcileRequest extends DesiredOptions {
  config: Pick<Config, "main" | "services">;
  client: IpvsClient;
  managedVips: ReadonlySet<string>;
  /** Limits to enforce; undefined when exempt (drift repair, disable) or overridden (--force). */
  limits?: ChangeLimits;
  /** Deletions the limits do not count (limits.ts). */
  exemptFromLimits?: (change: Change) => boolean;
  dryRun?: boolean;
  removal?: RemovalPolicy;
  reason?: ChangeReason;
  weightReason?: DiffOptions["weightReason"];
  /** A kernel dump to use instead of reading one (the daemon's state cache). */
  kernel?: readonly KernelServiceEntry[];
  /** Plan against no desired services at all (`lbctl disable`). */
  removeEverything?: boolean;
  /** Plan against these desired services instead of the config's (`lbctl snapshot restore`). */
  desired?: readonly DesiredService[];
  /**
   * A pass over the plan before the change limits are checked (plan/drain.ts turns deletions into drains); it sees
   * the kernel dump the plan was made from.
   */
  adjust?: (plan: Plan, kernel: readonly KernelServiceEntry[]) => Plan;
  /** Told how long each phase took (read, desired, plan, execute), for --debug output and benchmarks. */
  onPhase?: (phase: "read" | "desired" | "plan" | "execute", ms: number) => void;
}

export type ReconcileOutcome = (
  | { kind: "planned"; plan: Plan }
  | { kind: "limit"; plan: Plan; limit: LimitHit }
  | { kind: "applied"; plan: Plan }
  | { kind: "failed"; plan: Plan; execution: Extract<ExecutionResult, { ok: false }> }
) & {
  /** The desired services the plan was made from (the daemon names each change's backend from them). */
  desired?: readonly DesiredService[];
};

export function reconcile(request: ReconcileRequest): ReconcileOutcome {
  const timed = <T>(phase: "read" | "desired" | "plan" | "execute", work: () => T): T => {
    if (!request.onPhase) return work();
    const started = performance.now();
    const result = work();
    request.onPhase(phase, performance.now() - started);
    return result;
  };
  const kernel = request.kernel ?? timed("read", () => request.client.dump({ stats: false }));
  const desired = request.removeEverything ? [] : (request.desired ?? timed("desired", () => desiredServices(request.config, request)));
  const planned = timed("plan", () =>
    planChanges(desired, kernel, {
      isManagedVip: (address) => request.managedVips.has(address),
      ...(request.removal ? { removal: request.removal } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
      ...(request.weightReason ? { weightReason: request.weightReason } : {}),
    }),
  );
  const plan = request.adjust ? request.adjust(planned, kernel) : planned;
  const limit = request.limits ? exceededLimit(plan, request.limits, request.exemptFromLimits, planned) : undefined;
  if (limit) return { kind: "limit", plan, limit, desired };
  if (request.dryRun) return { kind: "planned", plan, desired };
  const execution = timed("execute", () => executePlan(request.client, plan));
  return execution.ok ? { kind: "applied", plan, desired } : { kind: "failed", plan, execution, desired };
}
