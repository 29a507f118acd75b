/**
 * The daemon's logger, on consola: `text` (timestamp, level, message, key=value fields) for a console, `json` (one
 * object per line) for journald and log shippers. Further destinations (GELF) are extra reporters.
 */

import { createConsola, type ConsolaReporter, type LogObject } from "consola";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogRecord {
  time: Date;
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** Where records go once formatted; consola's reporter interface, narrowed to what lbctl needs. */
export interface RecordSink {
  write(record: LogRecord): void;
}

const CONSOLA_LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };

export interface LoggerOptions {
  level: LogLevel;
  sinks: RecordSink[];
}

export function createLogger(options: LoggerOptions): Logger {
  const reporter: ConsolaReporter = {
    log(logObj: LogObject) {
      const record = toRecord(logObj);
      for (const sink of options.sinks) sink.write(record);
    },
  };
  const consola = createConsola({ level: CONSOLA_LEVELS[options.level], reporters: [reporter] });
  return {
    debug: (message, fields) => consola.debug(message, fields ?? {}),
    info: (message, fields) => consola.info(message, fields ?? {}),
    warn: (message, fields) => consola.warn(message, fields ?? {}),
    error: (message, fields) => consola.error(message, fields ?? {}),
  };
}

function toRecord(logObj: LogObject): LogRecord {
  const [message, fields] = logObj.args as [unknown, LogFields | undefined];
  const level: LogLevel = logObj.level <= 0 ? "error" : logObj.level === 1 ? "warn" : logObj.level >= 4 ? "debug" : "info";
  return { time: logObj.date, level, message: String(message), fields: fields ?? {} };
}

/** One line per record: `2026-11-26T02:31:21.123Z INFO message key=value key="with space"`. */
export function formatText(record: LogRecord): string {
  const fields = Object.entries(record.fields)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${quoteIfNeeded(String(value))}`)
    .join(" ");
  return `${record.time.toISOString()} ${record.level.toUpperCase().padEnd(5)} ${record.message}${fields ? ` ${fields}` : ""}`;
}

export function formatJson(record: LogRecord): string {
  const fields = Object.fromEntries(Object.entries(record.fields).filter(([, value]) => value !== undefined && value !== null));
  return JSON.stringify({ time: record.time.toISOString(), level: record.level, msg: record.message, ...fields });
}

function quoteIfNeeded(value: string): string {
  return value === "" || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}

/** Writes formatted lines to a stream (stderr for the daemon: systemd puts it in the journal). */
export function streamSink(stream: { write(text: string): unknown }, format: LogFormat): RecordSink {
  const render = format === "json" ? formatJson : formatText;
  return { write: (record) => void stream.write(`${render(record)}\n`) };
}
