/**
 * `--http-as-tcp`: an http server whose only routing is `location / { proxy_pass http://UPSTREAM; }` is proxied
 * as TCP. Everything L7 it did is listed, because the TCP service will not do it.
 */

import { parseListen, type Listen } from "./listen.ts";
import type { Claim } from "./claim.ts";
import type { Directive } from "./parse.ts";

type Warn = (d: Directive, message: string, detail?: string[]) => void;

const HARMLESS = new Set(["listen", "location", "access_log", "error_log"]);

export function httpServerAsTcp(server: Directive, upstreams: Map<string, Directive>, warn: Warn): Claim[] | undefined {
  const body = server.block ?? [];
  const locations = body.filter((d) => d.name === "location");
  const refuse = (why: string) => {
    warn(server, `HTTP server not converted with --http-as-tcp: ${why}`, ["Only a server whose only routing is `location / { proxy_pass http://UPSTREAM; }` converts to TCP."]);
    return undefined;
  };
  const root = locations[0];
  if (locations.length !== 1 || !root || root.args.length !== 1 || root.args[0] !== "/") return refuse(`it has ${locations.length === 1 ? `location ${root?.args.join(" ")}` : `${locations.length} locations`}`);
  const passes = (root.block ?? []).filter((d) => d.name === "proxy_pass");
  const pass = passes[0];
  if (passes.length !== 1 || !pass) return refuse("its location / has no proxy_pass");
  const url = /^http:\/\/([^/]+)\/?$/.exec(pass.args[0] ?? "");
  if (!url) return refuse(`proxy_pass ${pass.args[0] ?? ""} is not http://UPSTREAM (https, a URI part or variables)`);
  const target = url[1]!;
  const listens: Listen[] = [];
  for (const d of body.filter((b) => b.name === "listen")) {
    const parsed = parseListen(d, "http");
    if (!parsed.ok) {
      warn(d, `${parsed.reason}; this listen is not converted`);
      continue;
    }
    if (parsed.listen.ssl) return refuse(`listen ${d.args.join(" ")} terminates TLS`);
    listens.push(parsed.listen);
  }
  if (body.every((b) => b.name !== "listen")) {
    // nginx's default: listen *:80.
    listens.push({ directive: server, start: 80, end: 80, protocol: "tcp", ssl: false, proxyProtocol: false });
  }
  const lost = [...body.filter((d) => !HARMLESS.has(d.name)), ...(root.block ?? []).filter((d) => d !== pass)].map((d) => `${d.name} (line ${d.line})`);
  const detail = ["The TCP service forwards bytes: no Host or path routing, no header rewriting, no HTTP keep-alive pooling or retries, no X-Forwarded-For (with NAT/DR the backends see the client's address)."];
  if (lost.length > 0) detail.push(`Not carried over: ${lost.join(", ")}.`);
  warn(server, "HTTP server converted as TCP (--http-as-tcp): its L7 behaviour is lost", detail);
  const upstream = upstreams.get(target);
  return listens.map((listen) => ({
    server,
    listen,
    target,
    upstream,
    proxyPass: pass,
    context: "http" as const,
    notes: ["Converted from an http server with --http-as-tcp: HTTP routing, header rewriting and TLS termination are not done by IPVS."],
  }));
}
