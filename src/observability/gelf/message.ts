/**
 * GELF 1.1 messages from log records (pure). Mapping: host = the machine's name, short_message = the first line
 * (at most 1,000 characters; the whole text goes to full_message when longer), timestamp = seconds with
 * milliseconds, level = syslog severity (debug 7, info 6, warn 4, error 3), `_facility` from config (the top-level
 * `facility` is deprecated in 1.1), `_node`, and every field as `_<name>`. Audit records add `_event_type=audit`
 * and `_audit_event`. lbctl's own fields win over a caller's field of the same name.
 */

import type { LogLevel, LogRecord } from "../logger.ts";

export const SYSLOG_LEVELS: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };
const SHORT_MAX = 1000;
/** No single value may grow a message without bound. */
export const VALUE_MAX = 32 * 1024;

export interface GelfContext {
  host: string;
  facility: string;
  node?: string;
}

export type GelfMessage = Record<string, string | number>;

/** A field name as GELF allows it (`^[\w.-]+$`, and never `_id`), with the `_` prefix. */
export function additionalFieldName(key: string): string {
  const clean = key.replace(/[^\w.-]/g, "_") || "_";
  return clean === "id" ? "_id_" : `_${clean}`;
}

function bounded(text: string): string {
  return text.length > VALUE_MAX ? `${text.slice(0, VALUE_MAX)}…` : text;
}

export function gelfMessage(record: LogRecord, context: GelfContext): GelfMessage {
  const firstLine = record.message.split("\n", 1)[0] ?? "";
  const short = firstLine.length > SHORT_MAX ? `${firstLine.slice(0, SHORT_MAX)}…` : firstLine;
  const message: GelfMessage = {
    version: "1.1",
    host: context.host,
    short_message: short || "-",
    timestamp: Math.round(record.time.getTime()) / 1000,
    level: SYSLOG_LEVELS[record.level],
  };
  if (short !== record.message) message.full_message = bounded(record.message);
  for (const [key, value] of Object.entries(record.fields)) {
    if (value === undefined || value === null) continue;
    message[additionalFieldName(key)] = typeof value === "number" && Number.isFinite(value) ? value : bounded(String(value));
  }
  message._facility = context.facility;
  if (context.node) message._node = context.node;
  if (record.audit) {
    message._event_type = "audit";
    message._audit_event = record.audit;
  }
  return message;
}

export function encodeGelf(message: GelfMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}
