/**
 * The daemon's composition: start-up in order, the reconcile ticker, reloads and their side effects, signals and
 * the lifecycle. Everything it touches comes in through `DaemonDeps` (run.ts passes the real ones), so tests run a
 * whole daemon on a fake kernel, fake signals and a stepped clock, without sockets or timers.
 *
 * Start order: load and validate every source first (a missing main file exits 2, an invalid config 1, and nothing
 * is opened), then logging and metrics, then IPVS, then the controller (adopt, check, converge), then the control
 * socket, then READY. SIGTERM leaves the IPVS rules in place so traffic keeps flowing while the daemon restarts.
 */

import { ConfigError } from "../config/errors.ts";
import type { Config } from "../config/model.ts";
import type { Clock, Timer } from "../health/clock.ts";
import type { HealthListener } from "../health/monitor.ts";
import type { IpvsClient } from "../ipvs/types.ts";
import { fanOut, type EventSink } from "../observability/events.ts";
import { controlHandler, type ControlTarget } from "./control-api.ts";
import type { ControlServer } from "./control-server.ts";
import { Controller, loadDesired, type ControllerDeps, type HealthChecks, type LocalAddresses, type ReloadOptions, type ReloadResult, type VipRecord } from "./controller.ts";
import type { DrainStore } from "./draining.ts";
import type { OverrideStore } from "./overrides-store.ts";
import type { ServiceSource } from "./sources/source.ts";
import { daemonBackends } from "./backend-list.ts";
import { daemonStatus } from "./status.ts";
import { Ticker } from "./ticker.ts";
import { ConnectionSync, syncDaemonKernel } from "./connection-sync.ts";
import { BgpAnnouncer } from "./bgp-announcer.ts";
import type { AnnouncementRoutes } from "../system/announce-routes.ts";

/** SIGTERM must end the process within 5 s; in-flight probes get most of that. */
const STOP_PROBES_TIMEOUT_MS = 3000;

export type DaemonSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

/** What the daemon needs of observability (src/observability/setup.ts). */
export interface DaemonObservability {
  readonly sink: EventSink;
  readonly logger: { error(message: string): void };
  /** Throws when it cannot start (a metrics port in use): the daemon does not start either. */
  start(config: Config): void;
  reconfigure(config: Config): void;
  stop(): Promise<void>;
}

export interface HealthMonitorLike extends HealthChecks {
  stop(): Promise<void>;
}

export interface DaemonDeps {
  /** Producers of desired services, the main file's first (sources/files.ts). */
  sources: readonly ServiceSource[];
  /** The main config file, as the control API names it. */
  configFile: string;
  version: string;
  pid: number;
  /** Opened only once the config is valid. */
  openIpvs(): IpvsClient;
  openAddresses(): LocalAddresses & { close(): void };
  createMonitor(options: { listener: HealthListener; onListenerError: (error: unknown) => void }): HealthMonitorLike;
  clock: Clock;
  observability: DaemonObservability;
  /** More sinks for the daemon's events besides observability's. */
  sinks?: readonly EventSink[];
  serveControl(path: string, handler: (request: Request) => Response | Promise<Response>): Promise<ControlServer>;
  /** Subscribes to a signal; returns the function that unsubscribes. */
  onSignal(signal: DaemonSignal, handler: () => void): () => void;
  /** systemd's sd_notify (READY=1, STOPPING=1); a no-op outside systemd. */
  notify(state: string): void;
  vipRecord: VipRecord;
  /** Where draining destinations are recorded (state_dir/draining.json), so a restart resumes their drains. */
  drainStore?: DrainStore;
  /** Saves a snapshot before a reload that deletes (controller.ts). */
  snapshot?: ControllerDeps["snapshot"];
  /** Where the operator's backend overrides persist (state_dir/overrides.json); default: memory only. */
  overrides?: OverrideStore;
  /** Wall-clock ms for override TTLs; default Date.now. */
  wallNow?: () => number;
  /** The clock's reading at exec, when known (performance.now() counts from it): the start-up record reports from it. */
  execAt?: number;
  /** More top-level fields of the status answer (`control_plane` once replication runs). */
  statusExtras?: () => Record<string, unknown>;
  /** Where BGP announcements go (bgp.enabled): kernel routes FRR redistributes (system/announce-routes.ts). */
  announcementRoutes?: AnnouncementRoutes;
  /** Told of every reload's options and result (the control plane republishes a forced one with `force`). */
  onReloaded?: (options: ReloadOptions, result: ReloadResult) => void;
}

export interface Daemon {
  /** Resolves with the exit code once the daemon has stopped (0 after SIGTERM/SIGINT); 1 when it cannot start. */
  readonly exited: Promise<number>;
  /** Resolves once the daemon is ready (READY=1 sent), or with the exit code when it could not start. */
  readonly ready: Promise<"ready" | number>;
  /** The running controller, once started. */
  readonly controller: Controller | undefined;
  reload(options?: ReloadOptions): ReloadResult;
}

/**
 * Starts the daemon. Throws ConfigError before opening anything when the config cannot be loaded (exit 2 when a
 * file is missing or unreadable, 1 when invalid).
 */
export function createDaemon(deps: DaemonDeps): Daemon {
  const startup = new StartupTimes(deps.clock, deps.execAt);
  const loaded = loadDesired(deps.sources);
  if (!loaded.ok) throw new ConfigError(loaded.failure.code, loaded.failure.issues);
  startup.mark("config");
  return new RunningDaemon(deps, loaded, startup);
}

/**
 * Where the start-up went, for the `daemon_started` record: each step's ms (`exec` is the time from exec to
 * createDaemon, when the process's start is known), like the phases of `lbctl apply --debug`.
 */
class StartupTimes {
  readonly phases: Record<string, number> = {};
  #last: number;

  constructor(
    private readonly clock: Clock,
    execAt: number | undefined,
  ) {
    this.#last = clock.now();
    if (execAt !== undefined) this.phases.exec = this.#last - execAt;
  }

  mark(phase: string): void {
    const now = this.clock.now();
    this.phases[phase] = now - this.#last;
    this.#last = now;
  }
}

class RunningDaemon implements Daemon {
  readonly exited: Promise<number>;
  readonly ready: Promise<"ready" | number>;
  #controller: Controller | undefined;
  readonly #events: EventSink;
  readonly #ticker: Ticker;
  #ipvs: IpvsClient | undefined;
  #addresses: (LocalAddresses & { close(): void }) | undefined;
  #monitor: HealthMonitorLike | undefined;
  #connectionSync: ConnectionSync | undefined;
  #announcer: BgpAnnouncer | undefined;
  #announcementsQueued = false;
  /** Whether the last interval tick reconciled: announcements made between ticks keep its verdict. */
  #lastTickReconciled = true;
  #control: ControlServer | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  #reloadQueued = false;
  #convergeQueued = false;
  #stopping = false;
  #exit!: (code: number) => void;

  constructor(
    private readonly deps: DaemonDeps,
    loaded: Extract<ReturnType<typeof loadDesired>, { ok: true }>,
    startup: StartupTimes,
  ) {
    const { observability } = deps;
    this.#events = fanOut([observability.sink, ...(deps.sinks ?? [])], (error) => observability.logger.error(`An event sink failed: ${String(error)}`));
    this.#ticker = new Ticker(deps.clock, loaded.config.main.daemon.reconcile_interval_ms, () => this.#tick());
    this.exited = new Promise((resolve) => (this.#exit = resolve));
    this.ready = this.#start(loaded, startup).catch(async (error: unknown) => {
      deps.observability.logger.error(`Cannot start: ${(error as Error).message}`);
      await this.#release();
      return this.#finish(1);
    });
  }

  get controller(): Controller | undefined {
    return this.#controller;
  }

  reload(options: ReloadOptions = {}): ReloadResult {
    const controller = this.#controller;
    if (!controller) return { result: "failure", message: "the daemon is starting" };
    const running = controller.config;
    const result = controller.reload(options);
    if (controller.config !== running) this.#afterReload(controller.config);
    this.deps.onReloaded?.(options, result);
    return result;
  }

  async #start(loaded: Extract<ReturnType<typeof loadDesired>, { ok: true }>, startup: StartupTimes): Promise<"ready" | number> {
    const { deps } = this;
    // From the first moment, so that a SIGTERM during a long start (a large table) stops cleanly, logs written.
    this.#unsubscribe.push(deps.onSignal("SIGTERM", () => void this.#stop("SIGTERM")));
    this.#unsubscribe.push(deps.onSignal("SIGINT", () => void this.#stop("SIGINT")));
    try {
      deps.observability.start(loaded.config);
    } catch (error) {
      deps.observability.logger.error(`Cannot start: ${(error as Error).message}`);
      // Writes the queued records (the error above among them).
      await deps.observability.stop();
      return this.#finish(1);
    }
    startup.mark("observability");
    let controller: Controller;
    try {
      const ipvs = (this.#ipvs = deps.openIpvs());
      ipvs.info();
      this.#addresses = deps.openAddresses();
      this.#monitor = deps.createMonitor({
        listener: {
          transition: (transition) => {
            this.#controller?.onHealthTransition(transition);
            this.#followAnnouncementsSoon();
          },
          probe: (probe) => {
            this.#controller?.onProbe(probe.target, probe.weightChanged);
            const { target, result } = probe;
            this.#events.emit({ type: "probe", service: target.service, backend: target.backend, ok: result.ok, latencyMs: result.latencyMs, reason: result.reason });
          },
        },
        onListenerError: (error) => this.#events.emit({ type: "error", message: `Handling a health result failed: ${(error as Error).message}` }),
      });
      startup.mark("open");
      controller = Controller.start(
        {
          sources: deps.sources,
          ipvs,
          addresses: this.#addresses,
          health: this.#monitor,
          events: this.#events,
          vipRecord: deps.vipRecord,
          ...(deps.overrides ? { overrides: deps.overrides } : {}),
          ...(deps.wallNow ? { wallNow: deps.wallNow } : {}),
          now: () => deps.clock.now(),
          requestConverge: () => this.#convergeSoon(),
          ...(deps.drainStore ? { drainStore: deps.drainStore } : {}),
          ...(deps.snapshot ? { snapshot: deps.snapshot } : {}),
        },
        loaded,
      );
      this.#controller = controller;
      this.#connectionSync = new ConnectionSync(syncDaemonKernel(ipvs), this.#events);
      this.#followConnectionSync();
      if (deps.announcementRoutes) this.#announcer = new BgpAnnouncer(deps.announcementRoutes, this.#events);
      this.#followAnnouncements(true);
      startup.mark("converge");
      const control = await deps.serveControl(controller.config.main.daemon.socket, controlHandler(() => this.#controlTarget()));
      if (this.#stopping) {
        // A signal came while the socket was being served: the stop has released everything else.
        control.stop();
        return this.exited;
      }
      this.#control = control;
    } catch (error) {
      deps.observability.logger.error(`Cannot start: ${(error as Error).message}`);
      await this.#release();
      return this.#finish(1);
    }
    this.#ticker.start();
    for (const source of deps.sources) if (source.watch) this.#unsubscribe.push(source.watch(() => this.#queueReload()));
    this.#unsubscribe.push(deps.onSignal("SIGHUP", () => this.#queueReload()));
    const node = controller.config.main.node.name;
    startup.mark("control");
    this.#events.emit({ type: "daemon-started", node, pid: deps.pid, version: deps.version, startup: startup.phases });
    deps.notify(`READY=1\nMAINPID=${deps.pid}\nSTATUS=Managing ${controller.managedVips.size} VIP(s)`);
    return "ready";
  }

  #controlTarget(): ControlTarget | undefined {
    const controller = this.#controller;
    const monitor = this.#monitor;
    if (!controller || !monitor) return undefined;
    return {
      pid: this.deps.pid,
      configFile: this.deps.configFile,
      status: ({ stats }) => {
        const connectionSync = this.#connectionSync?.status();
        const bgp = this.#announcer?.status();
        return {
          ...daemonStatus(controller, monitor, { stats }),
          ...(connectionSync ? { connection_sync: connectionSync } : {}),
          ...(bgp ? { bgp } : {}),
          ...this.deps.statusExtras?.(),
        };
      },
      reload: (options) => this.reload(options),
      backends: () => daemonBackends(controller, monitor),
      setOverride: (request) => controller.setOverride(request),
      record: (event) => this.#events.emit(event),
    };
  }

  #tick(): void {
    let reconciled = false;
    try {
      reconciled = this.#controller?.tick("interval")?.kind === "applied";
    } catch (error) {
      this.#events.emit({ type: "error", message: `Reconcile tick failed: ${(error as Error).message}` });
    }
    this.#lastTickReconciled = reconciled;
    this.#followConnectionSync();
    this.#followAnnouncements(reconciled);
  }

  /** BGP announcements follow what this tick found the kernel able to serve. */
  #followAnnouncements(reconciled: boolean): void {
    const controller = this.#controller;
    if (controller && this.#announcer && !this.#stopping) this.#announcer.follow(controller.config, () => controller.kernel(), reconciled);
  }

  /**
   * A health transition may change whether this director can serve a VIP (its last healthy backend went, or the
   * first came back): the announcements follow right after the weight change, not at the next tick, so a withdrawal
   * reaches the routers one verdict later rather than up to a reconcile interval later. Coalesced: one follow per turn.
   */
  #followAnnouncementsSoon(): void {
    if (!this.#announcer || this.#announcementsQueued || this.#stopping) return;
    this.#announcementsQueued = true;
    this.deps.clock.setTimer(() => {
      this.#announcementsQueued = false;
      this.#followAnnouncements(this.#lastTickReconciled);
    }, 0);
  }

  /** The sync roles follow the VIPs this tick found held (and the config this tick ran). */
  #followConnectionSync(): void {
    const controller = this.#controller;
    if (controller) this.#connectionSync?.follow(controller.config.main, controller.heldVips.size > 0);
  }

  /** The health path found the kernel not as it knew it: converge once, soon, outside the probe's call. */
  #convergeSoon(): void {
    if (this.#convergeQueued || this.#stopping) return;
    this.#convergeQueued = true;
    this.deps.clock.setTimer(() => {
      this.#convergeQueued = false;
      if (this.#stopping) return;
      try {
        this.#controller?.tick("health");
      } catch (error) {
        this.#events.emit({ type: "error", message: `Reconcile after a health change failed: ${(error as Error).message}` });
      }
    }, 0);
  }

  /** SIGHUPs (and source changes) that arrive while a reload waits are coalesced into that one reload. */
  #queueReload(): void {
    if (this.#reloadQueued || this.#stopping) return;
    this.#reloadQueued = true;
    this.deps.clock.setTimer(() => {
      this.#reloadQueued = false;
      if (!this.#stopping) this.reload({});
    }, 0);
  }

  /** Every setting of a swapped-in config takes effect: observability, the reconcile interval, the control socket. */
  #afterReload(config: Config): void {
    this.deps.observability.reconfigure(config);
    this.#ticker.setInterval(config.main.daemon.reconcile_interval_ms);
    const previous = this.#control;
    if (previous && config.main.daemon.socket !== previous.path) {
      this.deps.serveControl(config.main.daemon.socket, controlHandler(() => this.#controlTarget())).then(
        (next) => {
          this.#control = next;
          previous.stop();
        },
        (error) => this.#events.emit({ type: "error", message: `Keeping the control socket ${previous.path}: ${(error as Error).message}` }),
      );
    }
  }

  async #stop(signal: DaemonSignal): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const node = this.#controller?.config.main.node.name ?? "";
    this.#events.emit({ type: "daemon-stopping", node, signal });
    this.deps.notify("STOPPING=1");
    // BGP: withdraw first, then give the routers bgp.drain_seconds to move the flows before anything stops.
    const drainSeconds = this.#controller?.config.main.bgp.drain_seconds ?? 0;
    if ((this.#announcer?.withdrawAll(`stopping (${signal})`) ?? 0) > 0 && drainSeconds > 0) {
      await new Promise<void>((resolve) => this.deps.clock.setTimer(resolve, drainSeconds * 1000));
    }
    await this.#release();
    this.#finish(0);
  }

  /** Stops checks, timers and listeners and closes what was opened; the kernel table is left as it is. */
  async #release(): Promise<void> {
    this.#stopping = true;
    this.#ticker.stop();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#monitor) {
      let timer: Timer | undefined;
      await Promise.race([this.#monitor.stop(), new Promise<void>((resolve) => (timer = this.deps.clock.setTimer(resolve, STOP_PROBES_TIMEOUT_MS)))]);
      timer?.cancel();
    }
    this.#control?.stop();
    await this.deps.observability.stop();
    this.#ipvs?.close();
    this.#addresses?.close();
  }

  #finish(code: number): number {
    this.#exit(code);
    return code;
  }
}
