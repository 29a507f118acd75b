/**
 * Observability of the daemon in one place: the metrics model fed by the daemon's events, the metrics listener,
 * log destinations with audit records, and the InfluxDB push. run.ts creates it, adds `sink` to the event fan-out,
 * calls `start` with the first config (a metrics port that cannot be bound is fatal), `reconfigure` after every
 * successful reload, and `stop` on SIGTERM.
 */

import type { Config } from "../config/model.ts";
import type { EventSink } from "./events.ts";
import { auditSink } from "./audit.ts";
import { eventLogSink } from "./event-log.ts";
import { serveMetrics, type MetricsServer } from "./http/metrics-server.ts";
import { influxBody } from "./influx/model-lines.ts";
import { InfluxPusher, type InfluxPusherDeps, type InfluxSettings } from "./influx/pusher.ts";
import { isAlive } from "./liveness.ts";
import { LogOutputs, type LogOutputsOptions } from "./logging.ts";
import type { Logger } from "./logger.ts";
import { MetricsModel } from "./metrics/model.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";

export interface ObservabilityOptions {
  stderr: { write(text: string): unknown };
  /** Monotonic ms. */
  now?: () => number;
  /** Replaces fetch for the InfluxDB push, for tests. */
  fetch?: InfluxPusherDeps["fetch"];
  gelf?: LogOutputsOptions["gelf"];
  /** Runs a flush of the log queues later; default setImmediate (tests flush by hand). */
  schedule?: LogOutputsOptions["schedule"];
  queueCapacity?: number;
}

export class Observability {
  readonly model: MetricsModel;
  /** Feeds metrics, audit records and log lines; add it to the daemon's event fan-out. */
  readonly sink: EventSink;
  readonly #logs: LogOutputs;
  readonly #now: () => number;
  readonly #options: ObservabilityOptions;
  readonly #startedAt: number;
  #server: MetricsServer | undefined;
  #influx: InfluxPusher | undefined;
  #intervalMs = 1000;
  #metrics: MetricsRegistry | undefined;

  constructor(options: ObservabilityOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    this.model = new MetricsModel(this.#now);
    this.#logs = new LogOutputs({
      stderr: options.stderr,
      now: this.#now,
      onDropped: (sink, count) => this.model.logDropped(sink, count),
      ...(options.gelf ? { gelf: options.gelf } : {}),
      ...(options.schedule ? { schedule: options.schedule } : {}),
      ...(options.queueCapacity ? { queueCapacity: options.queueCapacity } : {}),
    });
    const audit = auditSink(
      (record) => this.#logs.logger.audit(record),
      () => this.#logs.logger.wantsDetail,
    );
    const log = eventLogSink(() => this.#logs.logger);
    this.sink = {
      emit: (event) => {
        this.model.emit(event);
        audit.emit(event);
        log.emit(event);
      },
    };
  }

  /**
   * The registry that renders the model for scrapes and pushes, made on first use (the first scrape or push): it
   * loads prom-client, whose loading was a large part of the daemon's start in the emulated guest, and the model
   * it reads keeps every event from the start anyway.
   */
  get metrics(): MetricsRegistry {
    if (!this.#metrics) {
      // require, not import: loaded here, on first use, instead of with this module.
      const { createMetricsRegistry } = require("./metrics/registry.ts") as typeof import("./metrics/registry.ts");
      this.#metrics = createMetricsRegistry(this.model);
    }
    return this.#metrics;
  }

  get logger(): Logger {
    return this.#logs.logger;
  }

  /** Writes every queued log record now (run.ts calls it on exit; stop does it too). */
  flush(): void {
    this.#logs.flush();
  }

  /** The port the metrics listener is bound to, if it runs. */
  get metricsPort(): number | undefined {
    return this.#server?.port;
  }

  alive(): boolean {
    return isAlive({ lastReconcileAt: this.model.lastReconcileAt, startedAt: this.#startedAt, intervalMs: this.#intervalMs, now: this.#now() });
  }

  /** Logging first, then the metrics listener: a failure to bind throws (MetricsListenError), nothing is left open. */
  start(config: Config): void {
    this.#logs.configure(config.main.observability.logging, config.main.node.name);
    this.#intervalMs = config.main.daemon.reconcile_interval_ms;
    const prometheus = config.main.observability.metrics.prometheus;
    if (prometheus.enabled) {
      try {
        this.#server = this.#serve(prometheus);
      } catch (error) {
        this.#logs.close();
        throw error;
      }
    }
    this.#configureInflux(config);
  }

  /** After a successful reload: every setting again; a metrics endpoint that cannot be bound keeps the old one. */
  reconfigure(config: Config): void {
    this.#logs.configure(config.main.observability.logging, config.main.node.name);
    this.#intervalMs = config.main.daemon.reconcile_interval_ms;
    const prometheus = config.main.observability.metrics.prometheus;
    const current = this.#server;
    if (!prometheus.enabled) {
      current?.stop();
      this.#server = undefined;
    } else if (!current || current.endpoint.bind !== prometheus.bind || current.endpoint.port !== prometheus.port) {
      try {
        this.#server = this.#serve(prometheus);
        current?.stop();
      } catch (error) {
        this.logger.error(`${(error as Error).message}; ${current ? "keeping the previous metrics listener" : "metrics are not served"}`);
      }
    } else {
      current.setPath(prometheus.path);
    }
    this.#configureInflux(config);
  }

  async stop(): Promise<void> {
    this.#server?.stop();
    this.#server = undefined;
    this.#influx?.stop();
    this.#influx = undefined;
    this.#logs.close();
  }

  #serve(endpoint: { bind: string; port: number; path: string }): MetricsServer {
    const metrics = () => this.metrics;
    return serveMetrics(endpoint, {
      scrape: () => metrics().scrape(),
      // Read per response: the registry is made on the first scrape.
      get contentType() {
        return metrics().contentType;
      },
      alive: () => this.alive(),
    });
  }

  #configureInflux(config: Config): void {
    const influx = config.main.observability.metrics.influxdb;
    if (!influx.enabled) {
      this.#influx?.stop();
      this.#influx = undefined;
      return;
    }
    if (!influx.url) {
      this.#influx?.stop();
      this.#influx = undefined;
      this.logger.error("observability.metrics.influxdb is enabled without a url: nothing is pushed");
      return;
    }
    const settings: InfluxSettings = { url: influx.url, token: influx.token, org: influx.org, bucket: influx.bucket, pushIntervalSeconds: influx.push_interval_seconds };
    if (this.#influx) return this.#influx.reconfigure(settings);
    this.#influx = new InfluxPusher(settings, {
      body: (time) => influxBody(this.model, () => this.metrics.otherSnapshot(), time, () => new Promise((resolve) => setTimeout(resolve, 0))),
      onError: (message) => this.#logs.report("influxdb", message),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    this.#influx.start();
  }
}
