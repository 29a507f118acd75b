/** `lbctl daemon` (same as `lbctl apply --daemon`): the long-running controller, in the foreground for systemd. */

import { configPath, lbctlCommand } from "./common.ts";
import { VERSION } from "./version.ts";

export default lbctlCommand({
  meta: { name: "daemon", description: "Run the controller: health checks, drift repair, VIP gating, reload on SIGHUP" },
  args: {},
  async run({ args }) {
    const { runDaemon } = await import("../daemon/run.ts");
    return runDaemon({ configFile: configPath(args), version: VERSION });
  },
});
