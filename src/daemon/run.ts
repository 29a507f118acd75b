/**
 * `lbctl apply --daemon` / `lbctl daemon`: the daemon with the real world plugged in (the service files, the kernel
 * through libnl, local addresses over netlink, health checks on monotonic time, process signals, the control socket
 * and systemd). The composition itself is daemon.ts.
 */

import { resolve } from "node:path";
import { monotonicClock } from "../health/clock.ts";
import { HealthMonitor } from "../health/monitor.ts";
import { createIpvsClient } from "../ipvs/client.ts";
import type { EventSink } from "../observability/events.ts";
import { Observability } from "../observability/setup.ts";
import { LocalAddressReader } from "../system/local-addresses.ts";
import { readManagedVips, writeManagedVips } from "../system/managed-vips.ts";
import { sdNotify } from "../system/sd-notify.ts";
import { ipAnnouncementRoutes } from "../system/announce-routes.ts";
import { attachControlPlane } from "./control-plane.ts";
import { journalFolderAtStart } from "../controlplane/replica-files.ts";
import type { RunningControlPlane } from "../controlplane/service.ts";
import { recoverReplica } from "../controlplane/replica-store.ts";
import { ControlPlaneState } from "../controlplane/state.ts";
import { MEMORY_KERNEL_ENV, memoryKernel } from "../controlplane/test-kernel.ts";
import { serveControl } from "./control-server.ts";
import { createDaemon } from "./daemon.ts";
import { fileSource } from "./sources/files.ts";
import { startKubernetes } from "./sources/kubernetes-start.ts";

export interface DaemonOptions {
  configFile: string;
  version: string;
  stderr?: { write(text: string): unknown };
  /** More sinks for the daemon's events (metrics, audit), added by later layers. */
  sinks?: EventSink[];
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. Throws ConfigError when the config cannot be loaded. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  // A replicated set whose journal was committed before a crash is completed before the first load.
  recoverReplica(journalFolderAtStart(options.configFile));
  const stderr = options.stderr ?? process.stderr;
  const observability = new Observability({ stderr });
  // Log records wait in queues (observability/log-queue.ts): whatever ends the process, they are written first.
  process.once("exit", () => observability.flush());
  // kubernetes.enabled: the cluster's LoadBalancer Services, a second source beside the files (sources/kubernetes.ts).
  const kubernetes = await startKubernetes(options.configFile, stderr);
  let controlPlane: RunningControlPlane | undefined;
  const daemon = createDaemon({
    sources: [fileSource(options.configFile), ...(kubernetes ? [kubernetes] : [])],
    configFile: resolve(options.configFile),
    version: options.version,
    pid: process.pid,
    openIpvs: () => (process.env[MEMORY_KERNEL_ENV] === "1" ? memoryKernel() : createIpvsClient()),
    openAddresses: () => new LocalAddressReader(),
    createMonitor: (monitorOptions) => new HealthMonitor({ ...monitorOptions, clock: monotonicClock }),
    clock: monotonicClock,
    // Logs, audit records, metrics (listener), InfluxDB push: src/observability/setup.ts.
    observability,
    ...(options.sinks ? { sinks: options.sinks } : {}),
    serveControl,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => void process.off(signal, handler);
    },
    notify: (state) => void sdNotify(state),
    vipRecord: { read: readManagedVips, write: writeManagedVips },
    announcementRoutes: ipAnnouncementRoutes,
    // performance.now() counts from the process's start.
    execAt: 0,
    statusExtras: () => (controlPlane ? { control_plane: controlPlane.status() } : {}),
    // The primary's operator forced a reload past a change limit: secondaries get the set with `force: true`.
    onReloaded: (reloadOptions, result) => {
      if (reloadOptions.force && !reloadOptions.dryRun && result.result === "success") controlPlane?.markForced();
    },
  });
  // Config replication (src/controlplane/) runs beside the controller once the daemon is up.
  if ((await daemon.ready) === "ready") {
    try {
      controlPlane = await attachControlPlane(daemon, observability.logger, new ControlPlaneState());
      const running = controlPlane;
      if (running) void daemon.exited.then(() => running.stop());
    } catch (error) {
      observability.logger.error(`Control plane not started; the daemon runs without replication: ${(error as Error).message}`);
    }
  }
  const code = await daemon.exited;
  await kubernetes?.stop();
  return code;
}
