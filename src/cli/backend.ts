/**
 * `lbctl backend drain|enable|weight SERVICE BACKEND` and `lbctl backend list`: an operator's override of one
 * backend's weight, on top of the config and health, held by the running daemon (persisted in its state_dir) and
 * applied to the kernel before the command returns. The precedence is plan/overrides.ts's.
 */

import { ConfigError } from "../config/errors.ts";
import { formatDuration, parseDuration } from "../config/duration.ts";
import { loadConfig } from "../config/load.ts";
import type { OverrideReply } from "../daemon/control-api.ts";
import type { BackendListing } from "../daemon/backend-list.ts";
import { daemonAnswers, daemonRequest } from "../daemon/control-client.ts";
import type { OverrideRequest } from "../plan/overrides.ts";
import { loginActor } from "../system/login-user.ts";
import { overrideNote } from "./_status-output.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError, jsonFailure, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput, type Output } from "./output.ts";

const target = {
  service: { type: "positional", required: true, description: "The service's name in the config", valueHint: "SERVICE" },
  backend: { type: "positional", required: true, description: "The backend key ADDR:PORT (or its address, when unique in the service)", valueHint: "BACKEND" },
} as const;

const ttl = { type: "string", description: "Lapse after this long (90s, 15m, 2h, 1d; a bare number is seconds); default: until enable", valueHint: "DURATION" } as const;
const json = { type: "boolean", description: "Print the daemon's reply as JSON" } as const;

const drain = lbctlCommand({
  meta: { name: "drain", description: "Set the backend's weight to 0: no new connections, established ones go on" },
  args: { ...target, ttl, json },
  run: ({ args }) => change(args, { action: "drain", ...ttlOf(args.ttl) }),
});

const enable = lbctlCommand({
  meta: { name: "enable", description: "Remove the backend's override: config and health decide its weight again" },
  args: { ...target, json },
  run: ({ args }) => change(args, { action: "enable" }),
});

const weight = lbctlCommand({
  meta: { name: "weight", description: "Give the backend this weight until enable (or the TTL); never while health says it is down, unless --force" },
  args: {
    ...target,
    weight: { type: "string", required: true, description: "The weight, 0-65535", valueHint: "N" },
    ttl,
    force: { type: "boolean", description: "Apply even while the backend's health checks say it is down" },
    json,
  },
  run: ({ args }) => {
    if (!/^\d{1,5}$/.test(args.weight) || Number(args.weight) > 65_535) throw new UsageError(`--weight must be a number 0-65535, got "${args.weight}"`);
    return change(args, { action: "weight", weight: Number(args.weight), ...ttlOf(args.ttl), ...(args.force ? { force: true } : {}) });
  },
});

const list = lbctlCommand({
  meta: { name: "list", description: "Show every backend with its weights, health and override" },
  args: { json },
  async run({ args }) {
    const out = createOutput({ debug: args.debug });
    let listing: BackendListing;
    try {
      const socket = await daemonSocket(configPath(args));
      const reply = await daemonRequest<BackendListing & { error?: string }>(socket, "GET", "/v1/backends").catch((error: Error) => {
        throw new CliError(`The daemon on ${socket} did not answer: ${error.message}`);
      });
      if (reply.status !== 200) throw new CliError(`The daemon on ${socket} refused: ${reply.body.error ?? `HTTP ${reply.status}`}`);
      listing = reply.body;
    } catch (error) {
      if (!args.json) throw error;
      const failure = jsonFailure(error, "connect");
      out.json({ backends: [], error: failure.error });
      return failure.exitCode;
    }
    if (args.json) out.json(listing);
    else out.print(renderList(listing));
    return ExitCode.ok;
  },
});

export default lbctlCommand({
  meta: { name: "backend", description: "Drain, enable or reweight one backend through the running daemon, or list them" },
  subCommands: { drain, enable, weight, list },
});

function ttlOf(text: string | undefined): { ttl_ms?: number } {
  if (text === undefined) return {};
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--ttl must be a duration such as 90s, 15m, 2h or 1d, got "${text}"`);
  return { ttl_ms: ms };
}

type ChangeArgs = { service: string; backend: string; json?: boolean; debug?: boolean; config?: string };

async function change(args: ChangeArgs, what: Omit<OverrideRequest, "service" | "backend" | "by">): Promise<number> {
  const out = createOutput({ debug: args.debug });
  const request: OverrideRequest = { service: args.service, backend: args.backend, ...what, by: loginActor() };
  let reply: OverrideReply;
  try {
    reply = await send(configPath(args), request);
  } catch (error) {
    if (!args.json) throw error;
    const failure = jsonFailure(error, "override");
    out.json({ result: "failure", error: failure.error });
    return failure.exitCode;
  }
  if (args.json) out.json(reply);
  else report(out, reply);
  return ExitCode.ok;
}

async function send(file: string, request: OverrideRequest): Promise<OverrideReply> {
  const socket = await daemonSocket(file);
  let reply: { status: number; body: OverrideReply & { error?: string } };
  try {
    reply = await daemonRequest<OverrideReply & { error?: string }>(socket, "POST", "/v1/backends/override", 30_000, request);
  } catch (error) {
    throw new CliError(`The daemon on ${socket} did not answer: ${(error as Error).message}`);
  }
  if (reply.status === 400) throw new UsageError(reply.body.error ?? "the daemon refused the request");
  if (reply.status !== 200) throw new CliError(`${reply.body.error ?? `HTTP ${reply.status}`}: nothing changed`);
  return reply.body;
}

/** The daemon's socket, from the config on disk; overrides live in the daemon, so one must run. */
async function daemonSocket(file: string): Promise<string> {
  const loaded = loadConfig(file);
  if (!loaded.ok && loaded.code === "unreadable") throw new ConfigError(loaded.code, loaded.issues);
  const socket = loaded.ok ? loaded.config.main.daemon.socket : "/run/lbctl/lbctl.sock";
  if (!(await daemonAnswers(socket))) {
    throw new CliError(`No daemon answers on ${socket}: overrides are held by the daemon (systemctl start lbctl); to change a weight without one, edit the config and run lbctl apply`);
  }
  return socket;
}

function report(out: Output, reply: OverrideReply): void {
  const name = `${reply.service} ${reply.backend}`;
  const weights = new Set(reply.changes.map((c) => (c.op === "update-destination" ? c.weight : undefined)));
  const moved =
    reply.changes.length === 0
      ? "the kernel already had that weight"
      : weights.size === 1 && !weights.has(undefined)
        ? `${reply.changes.length} destination(s) set to weight ${String([...weights][0])}`
        : `${reply.changes.length} kernel changes (the service crossed its quorum)`;
  if (!reply.override) {
    out.log.success(reply.previous ? `Override of ${name} removed: config and health decide its weight (${moved})` : `${name} had no override (${moved})`);
    return;
  }
  const until = reply.override.expires_at === undefined ? "until lbctl backend enable" : `for ${formatDuration(reply.override.expires_at - reply.override.created_at)}`;
  const what = reply.override.kind === "drain" ? "Drained" : `Weight ${reply.override.weight}${reply.override.force ? " (forced)" : ""} set on`;
  out.log.success(`${what} ${name} ${until}: ${moved}`);
}

function renderList(listing: BackendListing): string {
  if (listing.backends.length === 0) return "No backends in the running config.";
  const rows = [["Service", "Backend", "Weight", "Config", "Health", "Override"]];
  for (const b of listing.backends) {
    rows.push([
      b.service,
      b.backend,
      b.weight === null ? "-" : String(b.weight),
      b.configured_weight === null ? "-" : String(b.configured_weight),
      b.health,
      `${b.override ? overrideNote(b.override) : "-"}${b.in_config ? "" : " (not in the config)"}`,
    ]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ").trimEnd()).join("\n");
}
