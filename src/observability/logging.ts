/**
 * The daemon's log destinations from config: the console (stderr: text or JSON) and GELF, at the configured level;
 * audit records go to both whatever the level. GELF failures are reported on the console only (never back into
 * GELF), at most once a minute each.
 */

import type { MainFile } from "../config/model.ts";
import { gelfSink, type GelfSink } from "./gelf/sink.ts";
import { createLogger, streamSink, type Logger, type RecordSink } from "./logger.ts";
import { ReportThrottle } from "./rate-limit.ts";

type LoggingConfig = MainFile["observability"]["logging"];
type GelfConfig = LoggingConfig["gelf"];

export interface LogOutputsOptions {
  stderr: { write(text: string): unknown };
  /** Monotonic ms, for rate-limiting error reports. */
  now: () => number;
  /** Replaces the GELF sink, for tests. */
  gelf?: (config: GelfConfig, node: string, onError: (message: string) => void) => GelfSink;
}

export const ERROR_REPORT_WINDOW_MS = 60_000;

export class LogOutputs {
  #logger: Logger;
  #console: Logger;
  #gelf: GelfSink | undefined;
  #gelfKey = "";
  readonly #throttle = new ReportThrottle(ERROR_REPORT_WINDOW_MS);

  constructor(private readonly options: LogOutputsOptions) {
    this.#console = createLogger({ level: "info", sinks: [streamSink(options.stderr, "text")] });
    this.#logger = this.#console;
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
    const consoleSinks: RecordSink[] = console.enabled ? [streamSink(this.options.stderr, console.format)] : [];
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
    if (this.options.gelf) return this.options.gelf(config, node, onError);
    return gelfSink({ server: { host: config.host, port: config.port }, protocol: config.protocol, facility: config.facility, node, onError });
  }

  close(): void {
    this.#gelf?.close();
    this.#gelf = undefined;
    this.#gelfKey = "";
  }
}
