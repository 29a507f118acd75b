/**
 * `lbctl apply --daemon`: the composition root. It wires the controller to the real kernel, local addresses,
 * health checks, timers, signals, the control socket and systemd, and owns the process lifecycle. SIGTERM leaves
 * the IPVS rules in place so traffic keeps flowing while the daemon restarts.
 */

import { resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import { HealthMonitor } from "../health/monitor.ts";
import { createIpvsClient } from "../ipvs/client.ts";
import { Observability } from "../observability/setup.ts";
import { desiredServices } from "../plan/desired.ts";
import { statusView } from "../plan/status.ts";
import { LocalAddressReader } from "../system/local-addresses.ts";
import { readManagedVips, writeManagedVips } from "../system/managed-vips.ts";
import { sdNotify } from "../system/sd-notify.ts";
import { controlHandler, type ControlTarget } from "./control-api.ts";
import { serveControl, type ControlServer } from "./control-server.ts";
import { Controller } from "./controller.ts";
import { fanOut, type DaemonEvent, type EventSink } from "./events.ts";

/** SIGTERM must end the process within 5 s; in-flight probes get most of that. */
const STOP_PROBES_TIMEOUT_MS = 3000;

export interface DaemonOptions {
  configFile: string;
  version: string;
  stderr?: { write(text: string): unknown };
  /** More sinks for the daemon's events (metrics, audit), added by later layers. */
  sinks?: EventSink[];
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  // Logs, audit records, metrics (listener), InfluxDB push: src/observability/setup.ts.
  const observability = new Observability({ stderr: options.stderr ?? process.stderr });
  const logger = { error: (message: string) => observability.logger.error(message) };
  const events = fanOut([observability.sink, ...(options.sinks ?? [])], (error) => logger.error(`An event sink failed: ${String(error)}`));

  const first = loadConfig(options.configFile);
  if (first.ok) {
    try {
      observability.start(first.config);
    } catch (error) {
      logger.error(`Cannot start: ${(error as Error).message}`);
      return 1;
    }
  }

  const ipvs = createIpvsClient();
  const addresses = new LocalAddressReader();
  let controller: Controller | undefined;
  const monitor = new HealthMonitor({
    listener: {
      transition: (transition) => controller?.onHealthTransition(transition),
      probe: (probe) => {
        controller?.onProbe(probe.target.id);
        events.emit({ type: "probe", service: probe.target.service, backend: probe.target.backend, ok: probe.result.ok, latencyMs: probe.result.latencyMs, reason: probe.result.reason });
      },
    },
    onListenerError: (error) => events.emit({ type: "error", message: `Handling a health result failed: ${(error as Error).message}` }),
  });

  /** A start that cannot complete releases what it opened and exits 1; the kernel table is left as it is. */
  const abortStart = async (error: unknown): Promise<number> => {
    logger.error(`Cannot start: ${(error as Error).message}`);
    await monitor.stop();
    await observability.stop();
    ipvs.close();
    addresses.close();
    return 1;
  };

  try {
    ipvs.info();
    controller = Controller.start({
      load: () => loadConfig(options.configFile),
      ipvs,
      addresses,
      health: monitor,
      events,
      vipRecord: { read: readManagedVips, write: writeManagedVips },
      now: () => performance.now(),
    });
  } catch (error) {
    return abortStart(error);
  }
  const running = controller;
  const node = running.config.main.node.name;

  const target: ControlTarget = {
    pid: process.pid,
    configFile: resolve(options.configFile),
    status: ({ stats }) => {
      const config = running.config;
      const byName = new Map(config.services.map((s) => [s.name, s]));
      const view = statusView(desiredServices(config, { weightOf: running.weightOf }), running.kernel(), {
        daemon: true,
        stats,
        isManagedVip: (address) => running.managedVips.has(address),
        health: (name, backend) => {
          if (!byName.get(name)?.health.enabled) return "disabled";
          return monitor.state(`${name}/${backend}`)?.state ?? "unknown";
        },
      });
      const vips = [...running.managedVips].sort().map((vip) => ({ vip, held: running.heldVips.has(vip) }));
      return { daemon: view.daemon, vips, services: view.services };
    },
    reload: (reloadOptions) => afterReload(running.reload(reloadOptions), reloadOptions.dryRun === true),
  };
  const handler = controlHandler(() => target);
  let control: ControlServer;
  try {
    control = await serveControl(running.config.main.daemon.socket, handler);
  } catch (error) {
    return abortStart(error);
  }

  // Ticks at start + k·interval, so a slow reconcile does not push every later one back.
  let interval = running.config.main.daemon.reconcile_interval_ms;
  let epoch = performance.now();
  let cycle = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const scheduleTick = () => {
    cycle++;
    const due = epoch + cycle * interval;
    timer = setTimeout(onTick, Math.max(0, due - performance.now()));
  };
  const onTick = () => {
    try {
      running.tick("interval");
    } catch (error) {
      events.emit({ type: "error", message: `Reconcile tick failed: ${(error as Error).message}` });
    }
    const behind = Math.floor((performance.now() - epoch) / interval);
    if (behind > cycle) cycle = behind; // skip ticks we could not run, instead of running them back to back
    scheduleTick();
  };
  scheduleTick();

  function afterReload<T extends ReturnType<Controller["reload"]>>(result: T, dryRun: boolean): T {
    if (dryRun || result.result !== "success") return result;
    const config = running.config;
    observability.reconfigure(config);
    if (config.main.daemon.reconcile_interval_ms !== interval) {
      interval = config.main.daemon.reconcile_interval_ms;
      epoch = performance.now();
      cycle = 0;
      if (timer) clearTimeout(timer);
      scheduleTick();
    }
    if (config.main.daemon.socket !== control.path) {
      const previous = control;
      serveControl(config.main.daemon.socket, handler).then(
        (next) => {
          control = next;
          previous.stop();
        },
        (error) => events.emit({ type: "error", message: `Keeping the control socket ${previous.path}: ${(error as Error).message}` }),
      );
    }
    return result;
  }

  // SIGHUP arriving while a reload runs is coalesced into one more reload.
  let reloadQueued = false;
  const onHangup = () => {
    if (reloadQueued) return;
    reloadQueued = true;
    setTimeout(() => {
      reloadQueued = false;
      target.reload({});
    }, 0);
  };

  const stopped = new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      events.emit({ type: "daemon-stopping", node, signal });
      sdNotify("STOPPING=1");
      if (timer) clearTimeout(timer);
      process.off("SIGHUP", onHangup);
      await Promise.race([monitor.stop(), Bun.sleep(STOP_PROBES_TIMEOUT_MS)]);
      control.stop();
      await observability.stop();
      ipvs.close();
      addresses.close();
      resolve(0);
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  });
  process.on("SIGHUP", onHangup);

  events.emit({ type: "daemon-started", node, pid: process.pid, version: options.version } satisfies DaemonEvent);
  sdNotify(`READY=1\nMAINPID=${process.pid}\nSTATUS=Managing ${running.managedVips.size} VIP(s)`);
  return stopped;
}
