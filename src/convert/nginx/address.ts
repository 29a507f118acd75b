/** nginx's address forms (`listen`, upstream `server`, `proxy_pass`) and time values, parsed without I/O. */

import { parseIp } from "../../config/ip.ts";

export type Endpoint =
  | { kind: "ip"; address: string; family: 4 | 6; port?: number }
  | { kind: "host"; host: string; port?: number }
  | { kind: "unix"; path: string }
  | { kind: "invalid"; reason: string };

/** `ADDR[:PORT]`, `[V6][:PORT]`, `HOST[:PORT]`, `unix:PATH`. A bare number is not an endpoint here. */
export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith("unix:")) return { kind: "unix", path: text.slice(5) };
  let host = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return { kind: "invalid", reason: `"${text}": "[" without "]"` };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return { kind: "invalid", reason: `"${text}": expected ":PORT" after "]"` };
      portText = rest.slice(1);
    }
    const ip = parseIp(host);
    if (!ip || ip.family !== 6) return { kind: "invalid", reason: `"${host}" is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon !== -1) {
      if (text.indexOf(":") !== colon) return { kind: "invalid", reason: `"${text}": an IPv6 address needs brackets ([ADDR]:PORT)` };
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = parsePort(portText);
    if (port === undefined) return { kind: "invalid", reason: `invalid port "${portText}" in "${text}"` };
  }
  const ip = parseIp(host);
  if (ip) return { kind: "ip", address: ip.text, family: ip.family, ...(port !== undefined ? { port } : {}) };
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(host)) {
    return { kind: "invalid", reason: `"${host}" is neither an address nor a host name` };
  }
  return { kind: "host", host, ...(port !== undefined ? { port } : {}) };
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** nginx time: `10s`, `1m30s`, `500ms`, `2h`, a bare number of seconds. Milliseconds, or undefined. */
export function parseTimeMs(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };
  let total = 0;
  let rest = text;
  while (rest !== "") {
    const match = /^(\d+)(ms|s|m|h|d|w|M|y)/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return text === "" ? undefined : total;
}

/** The parameters after the address: `weight=2` → ["weight","2"], `backup` → ["backup", undefined]. */
export function splitParam(arg: string): [string, string | undefined] {
  const eq = arg.indexOf("=");
  return eq === -1 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
}
