/** `lbctl reload`: asks the running daemon to reload (as SIGHUP does) and prints the outcome. */

import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { ReloadReply } from "../daemon/control-api.ts";
import { daemonAnswers } from "../daemon/control-client.ts";
import { askDaemonToReload, exitCodeOf, reportReload, requireSameConfig } from "./_daemon-client.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError, jsonFailure } from "./errors.ts";
import { createOutput } from "./output.ts";
import { ExitCode } from "./exit-codes.ts";

export default lbctlCommand({
  meta: { name: "reload", description: "Ask the running daemon to reload its config and print the outcome" },
  args: {
    json: { type: "boolean", description: "Print the daemon's reply as JSON" },
  },
  async run({ args }) {
    const out = createOutput({ debug: args.debug });
    let reply: ReloadReply;
    try {
      reply = await reload(configPath(args));
    } catch (error) {
      if (!args.json) throw error;
      const failure = jsonFailure(error, "connect");
      out.json({ result: "failure", changes: [], message: failure.error.message, error: failure.error });
      return failure.exitCode;
    }
    if (args.json) out.json(reply);
    else reportReload(reply, out, "Reloaded");
    // cli.md: reload exits 1 whenever the new config is refused; exit 3 is apply's alone.
    return exitCodeOf(reply) === ExitCode.ok ? ExitCode.ok : ExitCode.failed;
  },
});

async function reload(file: string): Promise<ReloadReply> {
  const loaded = loadConfig(file);
  // The socket path comes from the config on disk; an invalid config is still sent to the daemon to report.
  if (!loaded.ok && loaded.code === "unreadable") throw new ConfigError(loaded.code, loaded.issues);
  const socket = loaded.ok ? loaded.config.main.daemon.socket : "/run/lbctl/lbctl.sock";
  if (!(await daemonAnswers(socket))) throw new CliError(`No daemon answers on ${socket}: start it with systemctl start lbctl (or lbctl apply for a one-shot apply)`);
  await requireSameConfig(socket, file);
  return askDaemonToReload(socket);
}
