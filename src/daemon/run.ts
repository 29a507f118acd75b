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
import { serveControl } from "./control-server.ts";
import { createDaemon } from "./daemon.ts";
import { fileSource } from "./sources/files.ts";

export interface DaemonOptions {
  configFile: string;
  version: string;
  stderr?: { write(text: string): unknown };
  /** More sinks for the daemon's events (metrics, audit), added by later layers. */
  sinks?: EventSink[];
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. Throws ConfigError when the config cannot be loaded. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const daemon = createDaemon({
    sources: [fileSource(options.configFile)],
    configFile: resolve(options.configFile),
    version: options.version,
    pid: process.pid,
    openIpvs: () => createIpvsClient(),
    openAddresses: () => new LocalAddressReader(),
    createMonitor: (monitorOptions) => new HealthMonitor({ ...monitorOptions, clock: monotonicClock }),
    clock: monotonicClock,
    // Logs, audit records, metrics (listener), InfluxDB push: src/observability/setup.ts.
    observability: new Observability({ stderr: options.stderr ?? process.stderr }),
    ...(options.sinks ? { sinks: options.sinks } : {}),
    serveControl,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => void process.off(signal, handler);
    },
    notify: (state) => void sdNotify(state),
    vipRecord: { read: readManagedVips, write: writeManagedVips },
  });
  return daemon.exited;
}
