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
  /** An audit record: written to every sink whatever the level (see audit.ts). */
  audit(record: AuditLogEntry): void;
  /** Whether any sink writes `detail` records (the per-change records of a bulk reconcile). */
  readonly wantsDetail: boolean;
}

export interface AuditLogEntry {
  /** The audit event's name, e.g. `config_changed`. */
  event: string;
  /** Its severity, for display and GELF; audit records are never filtered by level. */
  level: LogLevel;
  message: string;
  fields: LogFields;
  /** One change among many of a bulk reconcile: the text console shows it at `debug` only (see `detail` below). */
  detail?: boolean;
}

export interface LogRecord {
  time: Date;
  level: LogLevel;
  message: string;
  fields: LogFields;
  /** Set on audit records: the audit event's name. */
  audit?: string;
  /**
   * A per-change audit record of a bulk reconcile, which also writes one summary record: a text console shows it
   * only at level `debug` (thousands of lines would bury everything else); JSON consoles and GELF get it always.
   */
  detail?: boolean;
}

/** Where records go once formatted; consola's reporter interface, narrowed to what lbctl needs. */
export interface RecordSink {
  write(record: LogRecord): void;
  /** False for a sink that skips `detail` records (a text console below debug); default true. */
  readonly wantsDetail?: boolean;
}

const CONSOLA_LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };

export interface LoggerOptions {
  level: LogLevel;
  sinks: RecordSink[];
  /** Epoch ms of a record; default Date.now. */
  now?: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const reporter: ConsolaReporter = {
    log(logObj: LogObject) {
      const record = toRecord(logObj);
      for (const sink of options.sinks) sink.write(record);
    },
  };
  const consola = createConsola({ level: CONSOLA_LEVELS[options.level], reporters: [reporter] });
  const now = options.now ?? Date.now;
  // Records of the same millisecond share one (never mutated) Date: a bulk reconcile makes thousands a millisecond.
  let lastMs = Number.NaN;
  let lastDate = new Date(0);
  const timeOf = (): Date => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastDate = new Date(ms);
    }
    return lastDate;
  };
  return {
    wantsDetail: options.sinks.some((sink) => sink.wantsDetail !== false),
    debug: (message, fields) => consola.debug(message, fields ?? {}),
    info: (message, fields) => consola.info(message, fields ?? {}),
    warn: (message, fields) => consola.warn(message, fields ?? {}),
    error: (message, fields) => consola.error(message, fields ?? {}),
    audit: (entry) => {
      const record: LogRecord = { time: timeOf(), level: entry.level, message: entry.message, fields: entry.fields, audit: entry.event };
      if (entry.detail) record.detail = true;
      for (const sink of options.sinks) sink.write(record);
    },
  };
}

function toRecord(logObj: LogObject): LogRecord {
  const [message, fields] = logObj.args as [unknown, LogFields | undefined];
  const level: LogLevel = logObj.level <= 0 ? "error" : logObj.level === 1 ? "warn" : logObj.level >= 4 ? "debug" : "info";
  return { time: logObj.date, level, message: String(message), fields: fields ?? {} };
}

/**
 * One line per record: `2026-11-26T02:31:21.123Z INFO  message key=value key="with space"`; an audit record
 * carries `audit=<event>` as its first field.
 */
export function formatText(record: LogRecord): string {
  const entries = Object.entries(record.fields).filter(([, value]) => value !== undefined && value !== null);
  if (record.audit) entries.unshift(["audit", record.audit]);
  const fields = entries.map(([key, value]) => `${key}=${quoteIfNeeded(String(value))}`).join(" ");
  return `${record.time.toISOString()} ${record.level.toUpperCase().padEnd(5)} ${record.message}${fields ? ` ${fields}` : ""}`;
}

/** Keys of a JSON line that fields cannot take (a field named like one is written as `field_<name>`). */
const JSON_RESERVED = new Set(["time", "level", "msg", "audit", "audit_event"]);

/** One object per line: `{"time":…,"level":…,"msg":…,…fields}`; audit records add `"audit":true,"audit_event":…`. */
export function formatJson(record: LogRecord): string {
  const out: Record<string, unknown> = { time: record.time.toISOString(), level: record.level, msg: record.message };
  if (record.audit) {
    out.audit = true;
    out.audit_event = record.audit;
  }
  for (const [key, value] of Object.entries(record.fields)) {
    if (value === undefined || value === null) continue;
    out[JSON_RESERVED.has(key) ? `field_${key}` : key] = value;
  }
  return JSON.stringify(out);
}

function quoteIfNeeded(value: string): string {
  return value === "" || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}

/** The lines of `records` in `format`, as one text for one write. */
export function renderLines(records: readonly LogRecord[], format: LogFormat): string {
  const render = format === "json" ? formatJson : formatText;
  let text = "";
  for (const record of records) text += `${render(record)}\n`;
  return text;
}
