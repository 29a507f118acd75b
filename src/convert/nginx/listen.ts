/** nginx `listen` in a stream or http server: the address, the ports, the protocol and what IPVS cannot carry. */

import { parseEndpoint, parsePort } from "./address.ts";
import type { Directive } from "./parse.ts";

export interface Listen {
  directive: Directive;
  /** undefined: every address (`80`, `*:80`, `[::]:80`): the service uses the main file's VIP. */
  vip?: string;
  start: number;
  end: number;
  protocol: "tcp" | "udp";
  ssl: boolean;
  proxyProtocol: boolean;
}

export type ListenResult = { ok: true; listen: Listen } | { ok: false; reason: string };

const WILDCARDS = new Set(["*", "0.0.0.0", "::", "[::]"]);

export function parseListen(d: Directive, context: "stream" | "http"): ListenResult {
  const [target, ...params] = d.args;
  if (target === undefined) return { ok: false, reason: "listen without an address" };
  if (target.startsWith("unix:")) return { ok: false, reason: `listen on unix socket ${target.slice(5)}: IPVS serves IP addresses only` };
  let host: string | undefined;
  let portText = target;
  if (target.startsWith("[")) {
    const close = target.indexOf("]");
    host = target.slice(0, close + 1);
    portText = target.slice(close + 2);
    if (target[close + 1] !== ":") portText = context === "http" ? "80" : "";
  } else if (target.includes(":")) {
    const colon = target.lastIndexOf(":");
    host = target.slice(0, colon);
    portText = target.slice(colon + 1);
  } else if (!/^\d+(-\d+)?$/.test(target)) {
    host = target;
    portText = context === "http" ? "80" : "";
  }
  const range = /^(\d+)(?:-(\d+))?$/.exec(portText);
  const start = range ? parsePort(range[1]!) : undefined;
  const end = range ? (range[2] !== undefined ? parsePort(range[2]) : start) : undefined;
  if (start === undefined || end === undefined || end < start) return { ok: false, reason: `"${target}" has no valid port or port range` };
  let vip: string | undefined;
  if (host !== undefined && !WILDCARDS.has(host)) {
    const endpoint = parseEndpoint(host.startsWith("[") ? host : host);
    if (endpoint.kind !== "ip") return { ok: false, reason: `listen address ${host} is not an IP address: lbctl needs the VIP itself` };
    vip = endpoint.address;
  }
  return {
    ok: true,
    listen: {
      directive: d,
      ...(vip !== undefined ? { vip } : {}),
      start,
      end,
      protocol: params.includes("udp") || params.includes("quic") ? "udp" : "tcp",
      ssl: params.includes("ssl"),
      proxyProtocol: params.includes("proxy_protocol"),
    },
  };
}
