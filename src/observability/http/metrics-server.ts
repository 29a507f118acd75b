/**
 * The metrics listener (Bun.serve): the exposition on the configured path (gzip-compressed when the scraper accepts
 * it, as Prometheus does), `/health` (200 while the daemon loop is alive, 503 when stuck), `/` listing both, 404 for
 * anything else. Only GET and HEAD.
 */

import type { Server } from "bun";
import type { Exposition } from "../metrics/exposition-cache.ts";
import { acceptsGzip } from "./accept-encoding.ts";

export interface MetricsEndpoint {
  bind: string;
  port: number;
  path: string;
}

export interface MetricsHandlers {
  scrape(): Promise<Exposition>;
  /** With the exposition format's version (`text/plain; version=0.0.4; charset=utf-8`). */
  contentType: string;
  alive(): boolean;
}

export class MetricsListenError extends Error {
  override readonly name = "MetricsListenError";
}

/** `host:port` as a URL authority (IPv6 in brackets). */
export function authority(bind: string, port: number): string {
  return bind.includes(":") ? `[${bind}]:${port}` : `${bind}:${port}`;
}

export function metricsRequestHandler(handlers: MetricsHandlers, path: () => string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    const url = new URL(request.url);
    if (url.pathname === path()) {
      const exposition = await handlers.scrape();
      // The body depends on Accept-Encoding: caches between scraper and daemon must key on it.
      const headers = { "content-type": handlers.contentType, vary: "Accept-Encoding" };
      if (!acceptsGzip(request.headers.get("accept-encoding"))) return new Response(new Blob(exposition.parts as Uint8Array<ArrayBuffer>[]), { headers });
      return new Response(await exposition.gzip(), { headers: { ...headers, "content-encoding": "gzip" } });
    }
    if (url.pathname === "/health") {
      return handlers.alive() ? new Response("ok\n") : new Response("stuck: no reconcile within 3 intervals\n", { status: 503 });
    }
    if (url.pathname === "/") return new Response(indexPage(path()), { headers: { "content-type": "text/html; charset=utf-8" } });
    return new Response("Not found\n", { status: 404 });
  };
}

function indexPage(path: string): string {
  const href = path.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<!doctype html>
<html><head><title>lbctl</title></head>
<body><h1>lbctl</h1><ul>
<li><a href="${href}">${href}</a>: metrics (Prometheus text format)</li>
<li><a href="/health">/health</a>: 200 while the daemon loop is alive, 503 when it is stuck</li>
</ul></body></html>
`;
}

export interface MetricsServer {
  readonly endpoint: MetricsEndpoint;
  /** The port bound (differs from endpoint.port when that is 0). */
  readonly port: number;
  /** Serves another path from now on, without rebinding. */
  setPath(path: string): void;
  stop(): void;
}

export function serveMetrics(endpoint: MetricsEndpoint, handlers: MetricsHandlers): MetricsServer {
  let path = endpoint.path;
  let server: Server<undefined>;
  try {
    server = Bun.serve({ hostname: endpoint.bind || "0.0.0.0", port: endpoint.port, fetch: metricsRequestHandler(handlers, () => path), idleTimeout: 60 });
  } catch (error) {
    throw new MetricsListenError(`Cannot listen for metrics on ${authority(endpoint.bind, endpoint.port)}: ${(error as Error).message}`, { cause: error });
  }
  return {
    endpoint,
    port: server.port ?? endpoint.port,
    setPath(next) {
      path = next;
    },
    stop() {
      void server.stop(true);
    },
  };
}
