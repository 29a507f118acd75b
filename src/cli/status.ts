/** `lbctl status [--json] [--stats]`: the managed virtual services as the kernel has them, with health. */

import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { daemonAnswers, daemonRequest } from "../daemon/control-client.ts";
import { desiredServices } from "../plan/desired.ts";
import { statusView, type StatusView } from "../plan/status.ts";
import { readDrainState } from "../system/drain-state.ts";
import { dumpKernel, managedVips, openIpvs } from "./_kernel.ts";
import { renderStatus } from "./_status-output.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { jsonFailure } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "status", description: "Show the managed virtual services as the kernel has them, with health and configured weights" },
  args: {
    json: { type: "boolean", description: "Print one JSON object" },
    stats: { type: "boolean", description: "Add traffic counters (64-bit kernel statistics)" },
  },
  async run({ args }) {
    const out = createOutput({ debug: args.debug });
    const stats = Boolean(args.stats);
    let view: StatusView;
    try {
      view = await statusOf(configPath(args), stats, (message) => out.log.warn(message));
    } catch (error) {
      if (!args.json) throw error;
      const failure = jsonFailure(error, "read-kernel");
      out.json({ daemon: false, services: [], error: failure.error });
      return failure.exitCode;
    }
    if (args.json) out.json(view);
    else out.print(renderStatus(view, stats));
    return ExitCode.ok;
  },
});

/** The daemon's view when one answers (it knows health), else the kernel's table joined with the config. */
async function statusOf(file: string, stats: boolean, warn: (message: string) => void): Promise<StatusView> {
  const loaded = loadConfig(file);
  if (!loaded.ok) throw new ConfigError(loaded.code, loaded.issues);
  const { config } = loaded;
  if (await daemonAnswers(config.main.daemon.socket)) {
    const reply = await daemonRequest<StatusView>(config.main.daemon.socket, "GET", `/v1/status${stats ? "?stats=1" : ""}`).catch(() => undefined);
    if (reply?.status === 200) return reply.body;
  }
  const client = openIpvs();
  try {
    const managed = managedVips(config);
    const byName = new Map(config.services.map((s) => [s.name, s]));
    // Left by `apply --drain` (or a daemon that stopped): shown, so the operator knows the next apply finishes them.
    let drains = new Map<string, { startedAt: number; deadline: number }>();
    try {
      drains = new Map(readDrainState(config.main.system.state_dir).map((d) => [`${d.service}>${d.destination}`, d]));
    } catch (error) {
      warn(`Draining destinations not shown: ${(error as Error).message}`);
    }
    return statusView(desiredServices(config), dumpKernel(client), {
      daemon: false,
      stats,
      isManagedVip: (address) => managed.has(address),
      draining: (service, destination) => drains.get(`${service}>${destination}`),
      health: (name) => (byName.get(name)?.health.enabled ? "unknown" : "disabled"),
    });
  } finally {
    client.close();
  }
}
