/** `lbctl snapshot list [--json]`: the snapshots kept in state_dir/snapshots, oldest first. */

import { snapshotCounts } from "../plan/snapshot.ts";
import { listSnapshotIds } from "../system/snapshots.ts";
import { asCliError } from "./_kernel.ts";
import { loadMainConfig, readSnapshot, withJsonFailure } from "./_snapshots.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "list", description: "List the snapshots kept, oldest first" },
  args: { json: { type: "boolean", description: "Print one JSON object" } },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    return withJsonFailure(Boolean(args.json), out, "read-snapshots", { snapshots: [] }, () => {
      const stateDir = loadMainConfig(configPath(args)).main.system.state_dir;
      let ids: string[];
      try {
        ids = listSnapshotIds(stateDir);
      } catch (error) {
        throw asCliError(error);
      }
      const rows = ids.map((id) => {
        const snapshot = readSnapshot(stateDir, id);
        return { id, created_at: snapshot.created_at, reason: snapshot.reason, node: snapshot.node, ...snapshotCounts(snapshot) };
      });
      if (args.json) {
        out.json({ snapshots: rows });
        return ExitCode.ok;
      }
      if (rows.length === 0) out.log.info(`No snapshots in ${stateDir}/snapshots yet`);
      for (const row of rows) out.print(`${row.id}  ${row.reason.padEnd(7)}  ${row.services} services, ${row.destinations} destinations`);
      return ExitCode.ok;
    });
  },
});
