/**
 * The control plane inside `lbctl apply --daemon`: the primary's listener or the secondary's client, chosen by
 * `control_plane.mode`, beside the controller in the same process. The daemon passes how to reload itself and
 * where reports go; nothing here stops or flushes the daemon.
 */

import type { Config } from "../config/model.ts";
import type { ControlPlaneObserver, ControlPlaneStatus } from "./observer.ts";
import { splitHostPort } from "../config/model.ts";
import { Primary } from "./primary.ts";
import { Replica, type ReloadOutcome } from "./replica.ts";
import { Secondary } from "./secondary.ts";
import { readTlsMaterial } from "./tls-material.ts";

export interface ControlPlaneDeps {
  config: Config;
  /** The running config, for the secondary's include pattern after reloads. */
  current: () => Config;
  reload(options: { force: boolean }): ReloadOutcome;
  observer: ControlPlaneObserver;
}

export interface RunningControlPlane {
  status(): ControlPlaneStatus;
  /** The primary's own reload was forced past a change limit (no-op on a secondary). */
  markForced(): void;
  /** The primary's service files may have changed (a reload): re-check them now. */
  refresh(): void;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startControlPlane(deps: ControlPlaneDeps): Promise<RunningControlPlane> {
  const { config, observer } = deps;
  const cp = config.main.control_plane;
  const tls = readTlsMaterial(config.mainFile, config.main);
  const common = { tls, pins: cp.tls.pin_sha256, limits: cp.limits, syncIntervalSeconds: cp.sync_interval_seconds, observer, node: config.main.node.name };
  if (cp.mode === "secondary") {
    const primary = splitHostPort(cp.primary_address);
    const replica = new Replica({
      mainFile: config.mainFile,
      include: () => deps.current().main.include,
      maxFiles: () => cp.limits.max_files,
      reload: deps.reload,
    });
    const secondary = new Secondary({ ...common, primary, serverName: cp.tls.server_name || primary.host, replica });
    secondary.start();
    return { status: () => secondary.status(), markForced: () => {}, refresh: () => {}, port: primary.port, stop: () => secondary.stop() };
  }
  const server = new Primary({ ...common, mainFile: config.mainFile, listen: splitHostPort(cp.listen_address), allowedClients: cp.tls.allowed_clients });
  await server.start();
  return { status: () => server.status(), markForced: () => server.markForced(), refresh: () => server.refresh(), port: server.port, stop: () => server.stop() };
}
