/** `lbctl snapshot save [--json]`: saves the managed part of the kernel table now. */

import { snapshotSaver } from "../daemon/snapshot-store.ts";
import { snapshotCounts } from "../plan/snapshot.ts";
import { asCliError, dumpKernel, managedVips, openIpvs } from "./_kernel.ts";
import { loadMainConfig, withJsonFailure } from "./_snapshots.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "save", description: "Save the managed IPVS table as a snapshot (read-only for the kernel; fine while a daemon runs)" },
  args: { json: { type: "boolean", description: "Print one JSON object" } },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    return withJsonFailure(Boolean(args.json), out, "read-kernel", { id: null }, () => {
      const config = loadMainConfig(configPath(args));
      const client = openIpvs();
      try {
        const kernel = dumpKernel(client);
        let snapshot;
        try {
          snapshot = snapshotSaver(config)(kernel, managedVips(config), "manual");
        } catch (error) {
          throw asCliError(error);
        }
        const counts = snapshotCounts(snapshot);
        if (args.json) out.json({ id: snapshot.id, created_at: snapshot.created_at, ...counts });
        else out.log.success(`Saved snapshot ${snapshot.id}: ${counts.services} virtual services, ${counts.destinations} destinations`);
        return ExitCode.ok;
      } finally {
        client.close();
      }
    });
  },
});
