/**
 * `lbctl apply --daemon` / `lbctl daemon`: the daemon with the real world plugged in (the service files, the kernel
 * through libnl, local addresses over netlink, health checks on monotonic time, process signals, the control socket
 * and systemd). The composition itself is daemon.ts.
 */

import { resolve } from "node:path";
import { monotonicClock } from "../health/clock.ts";
import { HealthMonitor } from "../health/monitor.ts";
import { createIpvsClient } from "../ipvs/client.ts";
import { fanOut, type EventSink } from "../observability/events.ts";
import { Observability } from "../observability/setup.ts";
import { LocalAddressReader } from "../system/local-addresses.ts";
import { readManagedVips, writeManagedVips } from "../system/managed-vips.ts";
import { readDrainState, writeDrainState } from "../system/drain-state.ts";
import { sdNotify } from "../system/sd-notify.ts";
import { NetlinkAnnouncementRoutes } from "../system/announce-routes.ts";
import { journalFolderAtStart } from "../controlplane/replica-files.ts";
import type { RunningControlPlane } from "../controlplane/service.ts";
import { recoverReplica } from "../controlplane/replica-store.ts";
import { MEMORY_KERNEL_WARNING, memoryKernel, memoryKernelRequested } from "../controlplane/test-kernel.ts";
import { serveControl } from "./control-server.ts";
import { fileOverrideStore } from "./overrides-store.ts";
import { createDaemon } from "./daemon.ts";
import { snapshotSaver } from "./snapshot-store.ts";
import { fileSource } from "./sources/files.ts";
import { loadMainSettings } from "../config/load.ts";
import type { KubernetesSource } from "./sources/kubernetes.ts";

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
  // Its events (connection, leader, pools) reach metrics, audit and logs like the daemon's own.
  const kubernetes = await startKubernetesIfEnabled(options.configFile, stderr, (event) => observability.sink.emit(event));
  let controlPlane: RunningControlPlane | undefined;
  const daemon = createDaemon({
    sources: [fileSource(options.configFile), ...(kubernetes ? [kubernetes] : [])],
    configFile: resolve(options.configFile),
    version: options.version,
    pid: process.pid,
    openIpvs: () => {
      if (!memoryKernelRequested(process.env)) return createIpvsClient();
      observability.logger.warn(MEMORY_KERNEL_WARNING);
      return memoryKernel();
    },
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
    drainStore: { read: readDrainState, write: writeDrainState },
    snapshot: (config, kernel, managed) => snapshotSaver(config)(kernel, managed, "reload").id,
    overrides: fileOverrideStore,
    announcementRoutes: new NetlinkAnnouncementRoutes(),
    // performance.now() counts from the process's start.
    execAt: 0,
    statusExtras: () => (controlPlane ? { control_plane: controlPlane.status() } : {}),
    // The primary's operator forced a reload past a change limit: secondaries get the set with `force: true`.
    onReloaded: (reloadOptions, result) => {
      if (reloadOptions.force && !reloadOptions.dryRun && result.result === "success") controlPlane?.markForced();
    },
  });
  // Config replication (src/controlplane/) runs beside the controller once the daemon is up; its code (TLS,
  // certificates) is loaded only then, and only when the config enables it.
  if ((await daemon.ready) === "ready" && daemon.controller?.config.main.control_plane.enabled) {
    try {
      const events = fanOut([observability.sink, ...(options.sinks ?? [])], (error) => observability.logger.error(`An event sink failed: ${String(error)}`));
      const { attachControlPlane } = await import("./control-plane.ts");
      controlPlane = await attachControlPlane(daemon, observability.logger, events);
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

/**
 * The Kubernetes source when the main file enables it. Its code, and the full config load it starts with, are paid
 * only then: a main file that says `kubernetes.enabled: false` (the default) is read alone, without the service
 * files, which the daemon loads next anyway.
 */
async function startKubernetesIfEnabled(
  configFile: string,
  stderr: { write(text: string): unknown },
  emit: Parameters<typeof import("./sources/kubernetes-start.ts").startKubernetes>[2],
): Promise<KubernetesSource | undefined> {
  const main = loadMainSettings(configFile);
  if (main && !main.kubernetes.enabled) return undefined;
  const { startKubernetes } = await import("./sources/kubernetes-start.ts");
  return startKubernetes(configFile, stderr, emit);
}
