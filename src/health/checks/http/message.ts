/**
 * The HTTP/1.1 messages of the http check: a GET request, and the status line of the response (RFC 9112 §4). Pure.
 * Only the status line is read: headers and body are never parsed, and the status line must fit in
 * MAX_STATUS_LINE bytes, so a backend that sends megabytes costs the prober one small buffer.
 */

import { printable } from "../_bytes.ts";

export const MAX_STATUS_LINE = 1024;

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

