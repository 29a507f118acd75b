/**
 * The daemon's local control API as a plain request handler: GET /v1/health, GET /v1/status, POST /v1/reload. The
 * daemon serves it on a unix socket with mode 0600 (control-server.ts); tests/daemon/daemon.test.ts calls it through
 * a fake server, without a socket.
 */

import { drainingJson, type DrainingJson } from "../plan/drain.ts";
import { changeToJson } from "../plan/render.ts";
import type { StatusView } from "../plan/status.ts";
import type { ReloadOptions, ReloadResult } from "./controller.ts";

export interface ControlTarget {
  status(options: { stats: boolean }): StatusView;
  reload(options: ReloadOptions): ReloadResult;
  pid: number;
  /** The main config file the daemon loads on every reload. */
  configFile: string;
}

export interface ReloadReply {
  result: ReloadResult["result"];
  changes: ReturnType<typeof changeToJson>[];
  message?: string;
  limit?: { name: string; limit: number; planned: number };
  error?: { op: string; service?: string; destination?: string; message: string };
  rolled_back?: boolean;
  hash?: string;
  /** After a successful reload: the destinations left draining at weight 0 (config `daemon.drain`). */
  draining?: DrainingJson[];
  /** The snapshot taken before a reload that deleted anything (`lbctl snapshot restore ID` undoes it). */
  snapshot?: string;
}

export function controlHandler(target: () => ControlTarget | undefined): (request: Request) => Response {
  return (request) => {
    const url = new URL(request.url);
    const daemon = target();
    if (!daemon) return json(503, { error: "the daemon is starting" });
    if (url.pathname === "/v1/health" && request.method === "GET") return json(200, { ok: true, pid: daemon.pid, config: daemon.configFile });
    if (url.pathname === "/v1/status" && request.method === "GET") {
      return json(200, daemon.status({ stats: url.searchParams.get("stats") === "1" }));
    }
    if (url.pathname === "/v1/reload" && request.method === "POST") {
      const result = daemon.reload({ dryRun: url.searchParams.get("dry_run") === "1", force: url.searchParams.get("force") === "1" });
      return json(200, reloadReply(result));
    }
    if (["/v1/health", "/v1/status", "/v1/reload"].includes(url.pathname)) return json(405, { error: `method ${request.method} not allowed` });
    return json(404, { error: `no such endpoint: ${url.pathname}` });
  };
}

export function reloadReply(result: ReloadResult): ReloadReply {
  switch (result.result) {
    case "success":
      return { result: "success", changes: result.changes.map(changeToJson), hash: result.hash, draining: result.draining.map(drainingJson), ...(result.snapshot ? { snapshot: result.snapshot } : {}) };
    case "planned":
      return { result: "planned", changes: result.changes.map(changeToJson) };
    case "refused":
      return { result: "refused", changes: result.changes.map(changeToJson), message: result.message, limit: result.limit };
    case "failure":
      return {
        result: "failure",
        changes: (result.changes ?? []).map(changeToJson),
        message: result.message,
        ...(result.failed
          ? { error: { op: result.failed.op, service: result.failed.service, ...(result.failed.destination ? { destination: result.failed.destination } : {}), message: result.message } }
          : { error: { op: "load-config", message: result.message } }),
        ...(result.rolledBack !== undefined ? { rolled_back: result.rolledBack } : {}),
      };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
