/** `lbctl snapshot show ID|latest [--json]`: what a snapshot holds, as ipvsadm-style rules or its JSON. */

import { loadMainConfig, readSnapshot, withJsonFailure } from "./_snapshots.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

/** ipvsadm's forwarding flags, so that a snapshot reads as `ipvsadm -Sn` prints a table. */
const FORWARD_FLAGS: Record<string, string> = { nat: "-m", dr: "-g", tun: "-i" };

export default lbctlCommand({
  meta: { name: "show", description: "Print a snapshot (its id, or latest) as ipvsadm -Sn style rules, or as JSON" },
  args: {
    id: { type: "positional", description: "Snapshot id (lbctl snapshot list), or latest", required: true },
    json: { type: "boolean", description: "Print the snapshot file's JSON" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    return withJsonFailure(Boolean(args.json), out, "read-snapshot", {}, () => {
      const snapshot = readSnapshot(loadMainConfig(configPath(args)).main.system.state_dir, String(args.id));
      if (args.json) {
        out.json(snapshot);
        return ExitCode.ok;
      }
      const lines = [`# ${snapshot.id}: ${snapshot.reason} on ${snapshot.node} at ${snapshot.created_at}; managed VIPs ${snapshot.managed_vips.join(", ") || "none"}`];
      for (const s of snapshot.services) {
        const flag = s.protocol === "tcp" ? "-t" : s.protocol === "udp" ? "-u" : "--sctp-service";
        const endpoint = s.family === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
        lines.push(`-A ${flag} ${endpoint} -s ${s.scheduler}${s.flags & 1 ? ` -p ${s.persistence_timeout}` : ""}`);
        for (const d of s.destinations) lines.push(`-a ${flag} ${endpoint} -r ${d.destination} ${FORWARD_FLAGS[d.forward]} -w ${d.weight}`);
      }
      out.print(lines.join("\n"));
      return ExitCode.ok;
    });
  },
});
