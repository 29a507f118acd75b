/**
 * `lbctl snapshot restore ID|latest [--dry-run] [--force] [--json]`: makes the managed table match a snapshot,
 * through the same planner, change limits, rollback and output as `apply` (a snapshot of the table is saved first
 * when the restore deletes anything, so a restore can be undone too). Refused while a daemon runs: it would put
 * its config back at its next reconcile.
 */

import { daemonAnswers } from "../daemon/control-client.ts";
import { snapshotSaver } from "../daemon/snapshot-store.ts";
import { desiredServices } from "../plan/desired.ts";
import type { ReconcileOutcome } from "../plan/reconcile.ts";
import { snapshotDesired } from "../plan/snapshot.ts";
import { asCliError, managedVips, openIpvs } from "./_kernel.ts";
import { guardedApply } from "./_guarded-apply.ts";
import { loadMainConfig, readSnapshot, withJsonFailure } from "./_snapshots.ts";
import { oneShotDrains, recordVips, report } from "./apply.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError } from "./errors.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "restore", description: "Make the managed IPVS table match a snapshot, as apply would (refused while a daemon runs)" },
  args: {
    id: { type: "positional", description: "Snapshot id (lbctl snapshot list), or latest", required: true },
    "dry-run": { type: "boolean", description: "Print the plan; change nothing" },
    force: { type: "boolean", description: "Restore even over a change limit" },
    json: { type: "boolean", description: "Print one JSON object (as apply --json)" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    const dryRun = Boolean(args["dry-run"]);
    const json = Boolean(args.json);
    return withJsonFailure(json, out, "restore", { changes: [], applied: false }, async () => {
      const config = loadMainConfig(configPath(args));
      if (!dryRun && (await daemonAnswers(config.main.daemon.socket))) {
        throw new CliError(
          `A daemon is running (${config.main.daemon.socket} answers) and would put its config back: stop it first (systemctl stop lbctl), or restore the config files and run lbctl reload`,
        );
      }
      const snapshot = readSnapshot(config.main.system.state_dir, String(args.id));
      const stateDir = config.main.system.state_dir;
      const names = new Map(desiredServices(config).map((s) => [s.id, s.name]));
      const client = openIpvs();
      try {
        // What the snapshot covered is managed too: a restore removes what was added on those VIPs since.
        const managed = new Set([...managedVips(config), ...snapshot.managed_vips]);
        if (!dryRun) recordVips(stateDir, managed);
        // A restore deletes at once (no drain): the drain records of what it deletes end.
        const drains = oneShotDrains(stateDir, 0);
        let outcome: ReconcileOutcome;
        let saved: string | undefined;
        try {
          ({ outcome, snapshot: saved } = guardedApply(
            {
              config,
              client,
              managedVips: managed,
              desired: snapshotDesired(snapshot, (id) => names.get(id)),
              dryRun,
              adjust: drains.adjust,
              ...(args.force ? {} : { limits: config.main.daemon.change_limits }),
            },
            { save: snapshotSaver(config), reason: "restore" },
            out,
            json,
          ));
        } catch (error) {
          throw asCliError(error);
        }
        if (outcome.kind === "applied") drains.commit(true);
        if (!json && outcome.kind === "applied") out.log.info(`Restored snapshot ${snapshot.id} (${snapshot.created_at})`);
        return report(outcome, { json, dryRun, out, draining: [], snapshot: saved });
      } finally {
        client.close();
      }
    });
  },
});
