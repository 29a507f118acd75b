/** One-shot commands that defer to a running daemon (apply, reload) share how they ask it and report back. */

import type { ReloadAudit, ReloadReply } from "../daemon/control-api.ts";
import type { DrainingJson } from "../plan/drain.ts";
import { resolve } from "node:path";
import { daemonRequest } from "../daemon/control-client.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Output } from "./output.ts";

/** `audit`: the commit of lbctl shell/edit that asks, for the daemon's `config_committed` record. */
export async function askDaemonToReload(socket: string, query: { dryRun?: boolean; force?: boolean } = {}, audit?: ReloadAudit): Promise<ReloadReply> {
  const params = new URLSearchParams();
  if (query.dryRun) params.set("dry_run", "1");
  if (query.force) params.set("force", "1");
  try {
    const reply = await daemonRequest<ReloadReply>(socket, "POST", `/v1/reload${params.size ? `?${params}` : ""}`, undefined, audit);
    if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
    return reply.body;
  } catch (error) {
    throw new CliError(`The daemon on ${socket} did not answer the reload: ${(error as Error).message}`);
  }
}

/**
 * A reload makes the daemon read its own config file: refuse when the user named another one, or `lbctl apply
 * --config staging.yaml` would quietly apply the production file instead.
 */
export async function requireSameConfig(socket: string, configFile: string): Promise<void> {
  let health: { config?: string };
  try {
    health = (await daemonRequest<{ config?: string }>(socket, "GET", "/v1/health")).body;
  } catch (error) {
    throw new CliError(`The daemon on ${socket} did not answer: ${(error as Error).message}`);
  }
  const mine = resolve(configFile);
  if (health.config && health.config !== mine) {
    throw new CliError(
      `The daemon on ${socket} runs ${health.config}, not ${mine}: edit that file and run lbctl reload, or stop the daemon to apply ${mine} one-shot`,
    );
  }
}

export function exitCodeOf(reply: ReloadReply): number {
  if (reply.result === "refused") return ExitCode.changeLimit;
  if (reply.result === "failure") return ExitCode.failed;
  return ExitCode.ok;
}

export function reportReload(reply: ReloadReply, out: Output, verb: string): void {
  for (const change of reply.changes) out.print(`${String(change.op)} ${String(change.service)}${change.destination ? ` ${String(change.destination)}` : ""}`);
  if (reply.result === "success") out.log.success(`${verb}: the daemon runs the new config (${reply.changes.length} kernel changes)`);
  else if (reply.result === "planned") out.log.success(`Plan from the daemon: ${reply.changes.length} changes`);
  else if (reply.result === "refused") out.log.error(`${reply.message}; use --force to apply anyway`);
  else out.log.error(`The daemon refused the config and keeps running the old one:\n${reply.message}`);
  if (reply.snapshot) out.log.info(`The daemon saved snapshot ${reply.snapshot} of the table first (lbctl snapshot show ${reply.snapshot})`);
  reportDraining(reply.draining ?? [], out, "left");
}

/** The destinations left draining at weight 0 after an apply or reload, for people. */
export function reportDraining(draining: readonly DrainingJson[], out: Output, verb: string): void {
  if (draining.length === 0) return;
  out.log.info(
    `${draining.length} removed destination(s) ${verb} draining at weight 0 (lbctl status shows their connections). ` +
      "A daemon deletes each once its connections end; without one, the next apply deletes them (apply --drain: those whose connections ended):",
  );
  for (const d of draining) out.print(`  ${d.service} -> ${d.destination}: ${d.connections} connection(s), deadline ${d.deadline}`);
}
