/**
 * Carries out a plan through an IPVS client, all or nothing: if the kernel refuses an operation, the operations of
 * this run that it accepted are undone in reverse order, so a failed apply leaves the table as it was. The undo
 * operations are derived from the accepted changes only then (undo.ts): a run the kernel accepts never builds them.
 */

import { describeOperation } from "../ipvs/operations.ts";
import type { IpvsClient, IpvsOperation } from "../ipvs/types.ts";
import { planOperations, type Change, type Plan } from "./changes.ts";
import { undoOperations } from "./undo.ts";

export type ExecutionResult =
  | { ok: true }
  | {
      ok: false;
      failed: Change;
      error: Error;
      /** True when every accepted operation was undone; false when undoing also failed (table changed). */
      rolledBack: boolean;
      rollbackError?: Error;
    };

export function executePlan(client: IpvsClient, plan: Plan): ExecutionResult {
  // A fresh table's plan has its operations ready and builds its change records only if they are read (fresh-table.ts).
  const operations = planOperations(plan);
  if (operations.length === 0) return { ok: true };
  const result = client.execute(operations);
  if (result.ok) return { ok: true };

  const failed = plan.changes[result.failedIndex]!;
  const undo: IpvsOperation[] = [];
  try {
    for (const index of [...result.succeeded].sort((a, b) => b - a)) for (const operation of undoOperations(plan.changes[index]!)) undo.push(operation);
  } catch (error) {
    // Nothing was undone: the accepted operations stay in the table, which the result must say.
    return { ok: false, failed, error: result.error, rolledBack: false, rollbackError: error as Error };
  }
  if (undo.length === 0) return { ok: false, failed, error: result.error, rolledBack: true };
  const rollback = client.execute(undo);
  if (rollback.ok) return { ok: false, failed, error: result.error, rolledBack: true };
  const rollbackError = new Error(`rollback stopped at ${describeOperation(undo[rollback.failedIndex]!)}: ${rollback.error.message}`);
  return { ok: false, failed, error: result.error, rolledBack: false, rollbackError };
}
