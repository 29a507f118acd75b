/**
 * The daemon's log destinations from config: the console (stderr: text or JSON) and GELF, at the configured level;
 * audit records go to both whatever the level (a text console shows the per-change records of a bulk reconcile at
 * `debug` only: its summary record stands for them). GELF failures are reported on the console only (never back
 * into GELF), at most once a minute each.
 *
 * Nothing is written in the caller's turn: each destination has a bounded queue (log-queue.ts) written in batches
 * after it, so 25,000 audit records of a start-up reconcile cost the kernel work nothing. `flush()` writes them now.
 */

import type { MainFile } from "../config/model.ts";
import { gelfSink, type GelfSink } from "./gelf/sink.ts";
import { DEFAULT_LOG_BATCH_SIZE, DEFAULT_LOG_QUEUE_CAPACITY, LogQueue } from "./log-queue.ts";
import { createLogger, renderLines, type LogFormat, type LogLevel, type LogRecord, type Logger, type RecordSink } from "./logger.ts";
import { ReportThrottle } from "./rate-limit.ts";

type LoggingConfig = MainFile["observability"]["logging"];
type GelfConfig = LoggingConfig["gelf"];

export interface LogOutputsOptions {
  stderr: { write(text: string): unknown };
  /** Monotonic ms, for rate-limiting error reports. */
  now: () => number;
  /** Replaces the GELF sink, for tests. */
  gelf?: (config: GelfConfig, node: string, onError: (message: string) => void, queue: LogQueueSettings) => GelfSink;
  /** Runs a flush of the log queues later, outside the caller's turn; default setImmediate. */
  schedule?: (flush: () => void) => void;
  /** Records each destination's queue holds before it drops (and counts) new ones. */
  queueCapacity?: number;
  /** Told of records dropped because a destination's queue was full (`sink`: console or gelf). */
  onDropped?: (sink: LogSinkName, count: number) => void;
}

export type LogSinkName = "console" | "gelf";

/** How a destination queues its records. */
export interface LogQueueSettings {
  capacity: number;
  schedule: (flush: () => void) => void;
  onDropped: (count: number) => void;
}

/** The record that reports drops, written in the stream where the dropped records would have been. */
export function dropNotice(sink: LogSinkName, count: number): LogRecord {
  return { time: new Date(), level: "warn", message: `Log records dropped: the ${sink} queue was full`, fields: { sink, dropped: count } };
}

export const ERROR_REPORT_WINDOW_MS = 60_000;

export class LogOutputs {
  #logger: Logger;
  #console: Logger;
  #gelf: GelfSink | undefined;
  #gelfKey = "";
  readonly #throttle = new ReportThrottle(ERROR_REPORT_WINDOW_MS);

  /** The console's one queue, kept across reconfigurations so that records stay in order. */
  readonly #consoleQueue: LogQueue<LogRecord>;
  #consoleFormat: LogFormat = "text";

  constructor(private readonly options: LogOutputsOptions) {
    this.#consoleQueue = new LogQueue<LogRecord>({
      capacity: options.queueCapacity ?? DEFAULT_LOG_QUEUE_CAPACITY,
      batchSize: DEFAULT_LOG_BATCH_SIZE,
      schedule: this.#schedule,
      write: (batch) => void options.stderr.write(renderLines(batch, this.#consoleFormat)),
      dropNotice: (count) => dropNotice("console", count),
      onDropped: (count) => options.onDropped?.("console", count),
      // stderr itself failed: nowhere to say so but the metric.
      onWriteError: (_error, records) => options.onDropped?.("console", records),
    });
    this.#console = createLogger({ level: "info", sinks: [this.#consoleSink("info")] });
    this.#logger = this.#console;
  }

  readonly #schedule = (flush: () => void): void => void (this.options.schedule ?? setImmediate)(flush);

  /** Records to the console queue; the per-change records of a bulk reconcile only at debug on a text console. */
  #consoleSink(level: LogLevel): RecordSink {
    const hideDetail = this.#consoleFormat === "text" && level !== "debug";
    return { wantsDetail: !hideDetail, write: (record) => void ((hideDetail && record.detail) || this.#consoleQueue.push(record)) };
  }

  /** Writes every queued record now (on stop, on exit). */
  flush(): void {
    this.#consoleQueue.flush();
    this.#gelf?.flush();
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** Reports a repeating failure on the console only, at most once per window per key. */
  reportConsole(key: string, message: string): void {
    const suppressed = this.#throttle.allow(key, this.options.now());
    if (suppressed === undefined) return;
    this.#console.warn(message, suppressed > 0 ? { suppressed_repeats: suppressed } : {});
  }

  /** Reports a repeating failure on every destination, at most once per window per key. */
  report(key: string, message: string): void {
    const suppressed = this.#throttle.allow(key, this.options.now());
    if (suppressed === undefined) return;
    this.#logger.warn(message, suppressed > 0 ? { suppressed_repeats: suppressed } : {});
  }

  configure(logging: LoggingConfig, node: string): void {
    const console = logging.console;
    // Records queued so far are written in the format they were logged under.
    this.#consoleQueue.flush();
    this.#consoleFormat = console.format;
    const consoleSinks: RecordSink[] = console.enabled ? [this.#consoleSink(console.level)] : [];
    this.#console = createLogger({ level: console.level, sinks: consoleSinks });
    const gelf = logging.gelf;
    const key = gelf.enabled ? JSON.stringify([gelf.host, gelf.port, gelf.protocol, gelf.facility, node]) : "";
    if (key !== this.#gelfKey) {
      this.#gelf?.close();
      this.#gelf = gelf.enabled ? this.#openGelf(gelf, node) : undefined;
      this.#gelfKey = key;
    }
    this.#logger = createLogger({ level: console.level, sinks: this.#gelf ? [...consoleSinks, this.#gelf] : consoleSinks });
  }

  #openGelf(config: GelfConfig, node: string): GelfSink {
    const onError = (message: string) => this.reportConsole("gelf", message);
    const queue: LogQueueSettings = {
      capacity: this.options.queueCapacity ?? DEFAULT_LOG_QUEUE_CAPACITY,
      schedule: this.#schedule,
      onDropped: (count) => this.options.onDropped?.("gelf", count),
    };
    if (this.options.gelf) return this.options.gelf(config, node, onError, queue);
    return gelfSink({ server: { host: config.host, port: config.port }, protocol: config.protocol, facility: config.facility, node, onError, queue });
  }

  /** Flushes every queue, then closes GELF. */
  close(): void {
    this.#consoleQueue.flush();
    this.#gelf?.close();
    this.#gelf = undefined;
    this.#gelfKey = "";
  }
}
