/** `lbctl disable`: removes every virtual service on the managed VIPs, and nothing else. */

import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { daemonAnswers } from "../daemon/control-client.ts";
import { reconcile } from "../plan/reconcile.ts";
import { asCliError, managedVips, openIpvs } from "./_kernel.ts";
import { changeToLine } from "../plan/render.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "disable", description: "Remove every virtual service on the managed VIPs (refused while a daemon runs)" },
  args: {},
  async run({ args }) {
    const out = createOutput({ debug: args.debug });
    const loaded = loadConfig(configPath(args));
    if (!loaded.ok) throw new ConfigError(loaded.code, loaded.issues);
    const { config } = loaded;
    if (await daemonAnswers(config.main.daemon.socket)) {
      throw new CliError(`A daemon is running (${config.main.daemon.socket} answers): stop it first (systemctl stop lbctl), or it would restore the rules`);
    }
    const client = openIpvs();
    try {
      const managed = managedVips(config);
      let outcome;
      try {
        outcome = reconcile({ config, client, managedVips: managed, removeEverything: true });
      } catch (error) {
        throw asCliError(error);
      }
      for (const change of outcome.plan.changes) out.print(changeToLine(change));
      if (outcome.kind === "failed") {
        throw new CliError(`${outcome.execution.error.message}; ${outcome.execution.rolledBack ? "nothing was removed" : "the rollback failed too: check lbctl status"}`);
      }
      const vips = [...managed].sort().join(", ") || "none";
      out.log.success(`Removed ${outcome.plan.changes.filter((c) => c.op === "delete-service").length} virtual services on the managed VIPs (${vips})`);
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
});
