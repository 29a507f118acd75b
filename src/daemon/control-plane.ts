/**
 * Plugs the control plane into a running daemon: reloads go through the daemon's own `reload` (the same path as
 * SIGHUP and `lbctl reload`, so change limits and audit apply); what it reports becomes daemon events (metrics and
 * audit records, observability/events.ts) and log lines.
 */

import type { Daemon } from "./daemon.ts";
import type { EventSink } from "../observability/events.ts";
import type { Logger } from "../observability/logger.ts";
import { startControlPlane, type RunningControlPlane } from "../controlplane/service.ts";
import type { ReloadOutcome } from "../controlplane/replica.ts";

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

export async function attachControlPlane(daemon: Daemon, logger: Logger, events: EventSink): Promise<RunningControlPlane | undefined> {
  const controller = daemon.controller;
  if (!controller || !controller.config.main.control_plane.enabled) return undefined;
  const config = controller.config;
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
      audit: (event, level, message, fields) => events.emit({ type: "controlplane-audit", event, level, message, fields }),
      log: (level, message) => logger[level](message),
      started: (mode, expiry) => events.emit({ type: "controlplane-started", mode, certificateExpiry: { local: seconds(expiry.local), ca: seconds(expiry.ca) } }),
      connected: (peer, connected) => events.emit({ type: "controlplane-peer", peer, connected }),
      peerGone: (peer) => events.emit({ type: "controlplane-peer-gone", peer }),
      update: (result) => events.emit({ type: "controlplane-update", result }),
      synced: (atSeconds) => events.emit({ type: "controlplane-synced", atSeconds }),
    },
  });
  // Tests and operators wait for this line: the listener accepts connections from here on.
  logger.info(cp.mode === "secondary" ? `Control plane: secondary of ${cp.primary_address}` : `Control plane listening on ${cp.listen_address}`);
  return running;
}
