/**
 * The HTTP/1.1 messages of the http check: a GET request, the status line of the response (RFC 9112 §4) and, for
 * `http_weight_header` only, one header field of it. Pure. The status line must fit in MAX_STATUS_LINE bytes and the
 * whole head in MAX_HEAD bytes; the body is never read, so a backend that sends megabytes costs the prober one small
 * buffer.
 */

import { printable } from "../_bytes.ts";

export const MAX_STATUS_LINE = 1024;
/** The most of a response head (status line and header fields) read for `http_weight_header`. */
export const MAX_HEAD = 8192;
/** Kernel weights lbctl configures are 0-65535; a larger reported weight is capped there. */
export const MAX_REPORTED_WEIGHT = 65535;

export class HttpMessageError extends Error {
  readonly code = "E_HTTP_MALFORMED";

  constructor(message: string) {
    super(message);
    this.name = "HttpMessageError";
  }
}

/**
 * `path` and `host` come from the config, whose rules allow visible ASCII only (no CR, LF or spaces), so neither can
 * inject a header. `Connection: close`: one request per connection, nothing kept open between probes.
 */
export function encodeRequest(path: string, host: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: lbctl health check\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

export interface StatusLine {
  version: string;
  status: number;
  reasonPhrase: string;
}

/**
 * The status line at the start of `received`, or undefined while its end (LF) has not arrived. Throws
 * HttpMessageError when the bytes cannot start an HTTP/1.x response or the line is longer than MAX_STATUS_LINE.
 */
export function decodeStatusLine(received: Uint8Array): StatusLine | undefined {
  const end = received.indexOf(0x0a);
  if (end === -1) {
    if (received.length >= MAX_STATUS_LINE) throw new HttpMessageError(`malformed HTTP response: no status line in the first ${MAX_STATUS_LINE} bytes`);
    // Fail early on bytes that cannot become "HTTP/": a TLS alert, an SSH banner, a binary protocol.
    const prefix = String.fromCharCode(...received.subarray(0, 5));
    if (!"HTTP/".startsWith(prefix)) throw new HttpMessageError(`not an HTTP response: ${printable(String.fromCharCode(...received.subarray(0, 40)))}`);
    return undefined;
  }
  if (end >= MAX_STATUS_LINE) throw new HttpMessageError(`malformed HTTP response: the status line is longer than ${MAX_STATUS_LINE} bytes`);
  const line = String.fromCharCode(...received.subarray(0, end)).replace(/\r$/, "");
  const match = /^HTTP\/(1\.[01]) ([1-5]\d\d)(?: (.*))?$/.exec(line);
  if (match === null) throw new HttpMessageError(`${line.startsWith("HTTP/") ? "not an HTTP/1.x status line" : "not an HTTP response"}: ${printable(line)}`);
  return { version: match[1] as string, status: Number(match[2]), reasonPhrase: printable(match[3] ?? "").slice(0, 64) };
}


/**
 * The value of header field `name` (case-insensitive; the first one when repeated) in the response head at the
 * start of `received`: undefined while the head's end (an empty line) has not arrived, null when the head has no
 * such field. Throws HttpMessageError when the head is longer than MAX_HEAD bytes.
 */
export function decodeHeaderField(received: Uint8Array, name: string): string | null | undefined {
  const text = String.fromCharCode(...received.subarray(0, MAX_HEAD));
  const end = /\r?\n\r?\n/.exec(text);
  if (end === null) {
    if (received.length >= MAX_HEAD) throw new HttpMessageError(`malformed HTTP response: no end of the header fields in the first ${MAX_HEAD} bytes`);
    return undefined;
  }
  const wanted = name.toLowerCase();
  for (const line of text.slice(0, end.index).split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return null;
}

/** A reported weight (`X-Load-Balancing-Endpoint-Weight: 3`): a decimal integer, capped at MAX_REPORTED_WEIGHT. */
export function parseReportedWeight(value: string): number | undefined {
  if (!/^\d{1,10}$/.test(value)) return undefined;
  return Math.min(Number(value), MAX_REPORTED_WEIGHT);
}
