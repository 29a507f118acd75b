/**
 * InfluxDB line protocol (pure): `measurement,tag=value field=value timestamp`.
 *
 * Escaping (InfluxDB v2): in measurements a backslash, comma and space; in tag keys, tag values and field keys a
 * backslash, comma, equals sign and space; in string field values a backslash and double quote. Line protocol
 * has no newlines inside a line: CR and LF become spaces. Empty tag values are left out (the protocol has none);
 * non-finite numbers are left out (the protocol has no NaN or Inf).
 */

export type FieldValue = number | string | boolean;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Unix time in seconds (the writer uses precision=s). */
  time: number;
}

const noNewlines = (text: string) => text.replace(/[\r\n]/g, " ");

export function escapeMeasurement(name: string): string {
  return noNewlines(name).replace(/[\\, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys. */
export function escapeKey(text: string): string {
  return noNewlines(text).replace(/[\\,= ]/g, (c) => `\\${c}`);
}

export function quoteString(text: string): string {
  return `"${noNewlines(text).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function fieldValue(value: FieldValue): string | undefined {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return quoteString(value);
  return Number.isFinite(value) ? String(value) : undefined;
}

/** One line, or undefined when no field is left to write. */
export function formatPoint(point: Point): string | undefined {
  let line = escapeMeasurement(point.measurement);
  for (const key of Object.keys(point.tags).sort()) {
    const value = point.tags[key]!;
    if (value !== "") line += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  const fields: string[] = [];
  for (const [key, value] of Object.entries(point.fields)) {
    const text = fieldValue(value);
    if (text !== undefined) fields.push(`${escapeKey(key)}=${text}`);
  }
  if (fields.length === 0) return undefined;
  return `${line} ${fields.join(",")} ${Math.floor(point.time)}`;
}
