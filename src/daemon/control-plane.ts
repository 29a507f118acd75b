/**
 * Plugs the control plane into a running daemon: reloads go through the daemon's own `reload` (the same path as
 * SIGHUP and `lbctl reload`, so change limits and audit apply), reports go to its logger and audit records.
 */

import type { Daemon } from "./daemon.ts";
import type { Logger } from "../observability/logger.ts";
import { ControlPlaneState } from "../controlplane/state.ts";
import { startControlPlane, type RunningControlPlane } from "../controlplane/service.ts";
import type { ReloadOutcome } from "../controlplane/replica.ts";

export async function attachControlPlane(daemon: Daemon, logger: Logger, state: ControlPlaneState): Promise<RunningControlPlane | undefined> {
  const controller = daemon.controller;
  if (!controller || !controller.config.main.control_plane.enabled) return undefined;
  const config = controller.config;
  state.node = config.main.node.name;
  const cp = config.main.control_plane;
  const running = await startControlPlane({
    config,
    current: () => daemon.controller?.config ?? config,
    reload: ({ force }): ReloadOutcome => {
      const result = daemon.reload({ force });
      if (result.result === "success" || result.result === "planned") return { result: "success" };
      if (result.result === "refused") return { result: "refused", message: result.message, limit: result.limit };
      return { result: "failure", message: result.message };
    },
    observer: {
      audit: (event, level, message, fields) => logger.audit({ event, level, message, fields: { node: config.main.node.name, ...fields } as never }),
      log: (level, message) => logger[level](message),
      connected: (peer, up) => state.setConnected(peer, up),
      update: (result) => state.count(result),
      synced: (at) => (state.lastSync = at),
    },
  });
  // Tests and operators wait for this line: the listener accepts connections from here on.
  logger.info(cp.mode === "secondary" ? `Control plane: secondary of ${cp.primary_address}` : `Control plane listening on ${cp.listen_address}`);
  return running;
}
