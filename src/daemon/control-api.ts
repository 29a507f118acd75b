/**
 * The daemon's local control API as a plain request handler: GET /v1/health, GET /v1/status, POST /v1/reload,
 * GET /v1/backends, POST /v1/backends/override and POST /v1/audit/lock-break. The daemon serves it on a unix socket
 * with mode 0600 (control-server.ts); tests/daemon/daemon.test.ts calls it through a fake server, without a socket.
 */

import { drainingJson, type DrainingJson } from "../plan/drain.ts";
import { changeToJson } from "../plan/render.ts";
import type { StatusView } from "../plan/status.ts";
import type { BackendOverride, OverrideActor, OverrideRequest } from "../plan/overrides.ts";
import type { OperatorEvent } from "../observability/events.ts";
import type { BackendListing } from "./backend-list.ts";
import type { OverrideResult, ReloadOptions, ReloadResult } from "./controller.ts";

/** An override request is a few hundred bytes; anything far larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

export interface ControlTarget {
  status(options: { stats: boolean }): StatusView;
  reload(options: ReloadOptions): ReloadResult;
  backends(): BackendListing;
  /** Applies the override to the kernel before it returns (the same event-loop turn as the request's body). */
  setOverride(request: OverrideRequest): OverrideResult;
  /** Writes the audit record of what an operator did outside the daemon (a shell commit, a broken lock). */
  record(event: OperatorEvent): void;
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

export interface OverrideReply {
  result: "applied";
  service: string;
  backend: string;
  override: BackendOverride | null;
  previous: BackendOverride | null;
  changes: ReturnType<typeof changeToJson>[];
}

const ENDPOINTS = ["/v1/health", "/v1/status", "/v1/reload", "/v1/backends", "/v1/backends/override", "/v1/audit/lock-break"];

/** The optional body of POST /v1/reload: the commit of `lbctl shell`/`lbctl edit` that asks for it, to audit. */
export interface ReloadAudit {
  by: OverrideActor;
  origin: "shell" | "edit";
  /** The files the commit wrote or removed. */
  files: string[];
}

/** The body of POST /v1/audit/lock-break. */
export interface LockBreakRequest {
  by: OverrideActor;
  holder: { user: string; host: string; pid: number; since?: string; tool?: string };
}

/** A commit writes a handful of files; far more is not a commit's list. */
const MAX_FILES = 1024;

export function controlHandler(target: () => ControlTarget | undefined): (request: Request) => Response | Promise<Response> {
  return (request) => {
    const url = new URL(request.url);
    const daemon = target();
    if (!daemon) return json(503, { error: "the daemon is starting" });
    if (url.pathname === "/v1/backends" && request.method === "GET") return json(200, daemon.backends());
    if (url.pathname === "/v1/backends/override" && request.method === "POST") return overrideEndpoint(request, target);
    if (url.pathname === "/v1/health" && request.method === "GET") return json(200, { ok: true, pid: daemon.pid, config: daemon.configFile });
    if (url.pathname === "/v1/status" && request.method === "GET") {
      return json(200, daemon.status({ stats: url.searchParams.get("stats") === "1" }));
    }
    if (url.pathname === "/v1/reload" && request.method === "POST") return reloadEndpoint(request, url, target);
    if (url.pathname === "/v1/audit/lock-break" && request.method === "POST") return lockBreakEndpoint(request, target);
    if (ENDPOINTS.includes(url.pathname)) return json(405, { error: `method ${request.method} not allowed` });
    return json(404, { error: `no such endpoint: ${url.pathname}` });
  };
}

/** The request's JSON body (undefined when empty and `optional`), or the error reply. */
async function readBody(request: Request, optional: boolean): Promise<{ body: unknown } | Response> {
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) return json(413, { error: `the request is larger than ${MAX_BODY_BYTES} bytes` });
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return json(413, { error: `the request is larger than ${MAX_BODY_BYTES} bytes` });
  if (optional && text.trim() === "") return { body: undefined };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return json(400, { error: "the request body is not JSON" });
  }
}

/** A reload; with a body (a commit of lbctl shell or edit), also the `config_committed` record of the real one. */
async function reloadEndpoint(request: Request, url: URL, target: () => ControlTarget | undefined): Promise<Response> {
  const read = await readBody(request, true);
  if (read instanceof Response) return read;
  const audit = read.body === undefined ? undefined : reloadAudit(read.body);
  if (typeof audit === "string") return json(400, { error: audit });
  const daemon = target();
  if (!daemon) return json(503, { error: "the daemon is stopping" });
  const dryRun = url.searchParams.get("dry_run") === "1";
  const result = daemon.reload({ dryRun, force: url.searchParams.get("force") === "1" });
  if (audit && !dryRun && result.result !== "planned") {
    daemon.record({ type: "config-committed", ...audit, result: result.result, ...(result.result === "success" ? {} : { message: result.message }) });
  }
  return json(200, reloadReply(result));
}

async function lockBreakEndpoint(request: Request, target: () => ControlTarget | undefined): Promise<Response> {
  const read = await readBody(request, false);
  if (read instanceof Response) return read;
  const parsed = lockBreakRequest(read.body);
  if (typeof parsed === "string") return json(400, { error: parsed });
  const daemon = target();
  if (!daemon) return json(503, { error: "the daemon is stopping" });
  daemon.record({ type: "config-lock-broken", ...parsed });
  return json(200, { result: "recorded" });
}

/** Reads and checks the body, then applies it at once: no await between the body and the kernel's answer. */
async function overrideEndpoint(request: Request, target: () => ControlTarget | undefined): Promise<Response> {
  const read = await readBody(request, false);
  if (read instanceof Response) return read;
  const body = read.body;
  const parsed = overrideRequest(body);
  if (typeof parsed === "string") return json(400, { error: parsed });
  const daemon = target();
  if (!daemon) return json(503, { error: "the daemon is stopping" });
  const result = daemon.setOverride(parsed);
  if (result.result === "refused") return json(result.status, { error: result.message });
  const reply: OverrideReply = { ...result, changes: result.changes.map(changeToJson) };
  return json(200, reply);
}

/** The request, or what is wrong with it. Only the shape is checked here; plan/overrides.ts judges the values. */
export function overrideRequest(body: unknown): OverrideRequest | string {
  if (typeof body !== "object" || body === null) return "the request must be a JSON object";
  const b = body as Record<string, unknown>;
  if (!text(b.service, 512)) return "service must name a service";
  if (!text(b.backend, 64)) return "backend must be ADDR:PORT or an address";
  if (b.action !== "drain" && b.action !== "enable" && b.action !== "weight") return 'action must be "drain", "enable" or "weight"';
  if (b.weight !== undefined && typeof b.weight !== "number") return "weight must be a number";
  if (b.ttl_ms !== undefined && typeof b.ttl_ms !== "number") return "ttl_ms must be a number";
  if (b.force !== undefined && typeof b.force !== "boolean") return "force must be true or false";
  const by = actor(b.by);
  if (typeof by === "string") return by;
  const request: OverrideRequest = { service: b.service as string, backend: b.backend as string, action: b.action, by };
  if (b.weight !== undefined) request.weight = b.weight as number;
  if (b.ttl_ms !== undefined) request.ttl_ms = b.ttl_ms as number;
  if (b.force !== undefined) request.force = b.force as boolean;
  return request;
}

/** The reload's audit body, or what is wrong with it. */
export function reloadAudit(body: unknown): ReloadAudit | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the request must be a JSON object";
  const b = body as Record<string, unknown>;
  const by = actor(b.by);
  if (typeof by === "string") return by;
  if (b.origin !== "shell" && b.origin !== "edit") return 'origin must be "shell" or "edit"';
  const files = b.files ?? [];
  if (!Array.isArray(files) || files.length > MAX_FILES || !files.every((file) => text(file, 4096))) return `files must be a list of at most ${MAX_FILES} paths`;
  return { by, origin: b.origin, files: files as string[] };
}

/** The lock-break body, or what is wrong with it. */
export function lockBreakRequest(body: unknown): LockBreakRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the request must be a JSON object";
  const b = body as Record<string, unknown>;
  const by = actor(b.by);
  if (typeof by === "string") return by;
  const h = b.holder as Record<string, unknown> | undefined;
  if (typeof h !== "object" || h === null) return "holder must name the lock's holder";
  if (!text(h.user, 256) || !text(h.host, 256)) return "holder.user and holder.host must be names";
  if (typeof h.pid !== "number" || !Number.isSafeInteger(h.pid) || h.pid < 0) return "holder.pid must be a pid";
  if (h.since !== undefined && !text(h.since, 64)) return "holder.since must be a time";
  if (h.tool !== undefined && !text(h.tool, 64)) return "holder.tool must be a name";
  const holder: LockBreakRequest["holder"] = { user: h.user as string, host: h.host as string, pid: h.pid };
  if (h.since !== undefined) holder.since = h.since as string;
  if (h.tool !== undefined) holder.tool = h.tool as string;
  return { by, holder };
}

/** Who asks (`by`), or what is wrong with it. */
function actor(value: unknown): OverrideActor | string {
  const by = value as Record<string, unknown> | undefined;
  if (typeof by !== "object" || by === null || !text(by.user, 256)) return "by.user must name who asks";
  if (by.login_uid !== undefined && (typeof by.login_uid !== "number" || !Number.isSafeInteger(by.login_uid) || by.login_uid < 0)) return "by.login_uid must be a uid";
  if (by.sudo_user !== undefined && !text(by.sudo_user, 256)) return "by.sudo_user must be a name";
  return { user: by.user as string, ...(by.login_uid !== undefined ? { login_uid: by.login_uid as number } : {}), ...(by.sudo_user !== undefined ? { sudo_user: by.sudo_user as string } : {}) };
}

function text(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max;
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
