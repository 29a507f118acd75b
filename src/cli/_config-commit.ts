/**
 * Writing changed service files the way `commit` (lbctl shell) and `lbctl edit` do: validate the whole configuration
 * with the new texts in place (the loader `lbctl validate` uses), show the plan, write each file atomically, reload
 * the daemon through its control socket (telling it who commits, for its `config_committed` audit record), and put
 * every file back when the daemon refuses the new config.
 */

import { existsSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { formatIssue } from "../config/errors.ts";
import { loadConfig, type LoadResult } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import type { ReloadAudit, ReloadReply } from "../daemon/control-api.ts";
import { daemonAnswers } from "../daemon/control-client.ts";
import { changeToLine } from "../plan/render.ts";
import { configPlan } from "../shell/config-plan.ts";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { loginActor } from "../system/login-user.ts";
import type { HeldLock } from "./_config-lock.ts";
import { askDaemonToReload, requireSameConfig } from "./_daemon-client.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** Where the commit reports: progress on stdout, problems on stderr. */
export interface Printer {
  info(text: string): void;
  error(text: string): void;
  /** An audit record's line, written as it is (no `line N:` prefix, no colour); error() when absent. */
  audit?(line: string): void;
}

/** Secondaries get their service files from the primary, which would overwrite any local change. */
export function refuseOnSecondary(config: Pick<Config, "main" | "mainFile">, what: string): void {
  const plane = config.main.control_plane;
  if (plane.enabled && plane.mode === "secondary") {
    throw new CliError(
      `${what} refused: this node is a control-plane secondary (control_plane.mode: secondary in ${config.mainFile}); its service files come from the primary and would be overwritten: change them on the primary`,
    );
  }
}

/** The whole configuration with `edits` in place, checked exactly as `lbctl validate` checks it; issues printed. */
export function validateEdits(mainFile: string, edits: ReadonlyMap<string, string | null>, print: Printer): LoadResult {
  const result = loadConfig(mainFile, { overlay: new Map([...edits].map(([file, text]) => [resolve(file), text])) });
  if (!result.ok) for (const issue of result.issues) print.error(formatIssue(issue));
  else for (const notice of result.notices) print.info(`warning: ${formatIssue(notice)}`);
  return result;
}

export interface CommitInput {
  mainFile: string;
  /** Absolute file → new text, or null to remove the file. */
  edits: ReadonlyMap<string, string | null>;
  /** The configuration on disk before the commit (for the plan when no daemon runs). */
  before: Config | undefined;
  lock: HeldLock;
  print: Printer;
  /** The tool that commits, named in the daemon's audit record. */
  origin: "shell" | "edit";
  /** Services that must (not) be in the result: a file the include pattern does not match would be silently ignored. */
  expect?: { present: string[]; absent: string[] };
}

/** Returns the exit code: 0 committed (and reloaded when a daemon runs), 1 refused or failed with the files unchanged. */
export async function commitEdits(input: CommitInput): Promise<number> {
  const { print, edits } = input;
  if (edits.size === 0) {
    print.info("No changes to commit.");
    return ExitCode.ok;
  }
  if (!input.lock.stillMine()) throw new CliError(`The configuration lock ${input.lock.path} is no longer this session's (broken with lock break --force?): nothing written`);
  const result = validateEdits(input.mainFile, edits, print);
  if (!result.ok) {
    print.error(`Commit refused: the configuration would be invalid (${result.issues.length} error${result.issues.length === 1 ? "" : "s"}, lines as the files would be written); nothing written`);
    return result.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
  }
  const after = result.config;
  refuseOnSecondary(after, "Commit");
  const names = new Set(after.services.map((s) => s.name));
  const missing = input.expect?.present.filter((name) => !names.has(name)) ?? [];
  if (missing.length > 0) throw new CliError(`Commit refused: service ${missing.join(", ")} would not be loaded (its file is not matched by include "${after.main.include}")`);

  const socket = after.main.daemon.socket;
  const daemon = await daemonAnswers(socket);
  let reloadable = daemon;
  if (daemon) {
    try {
      await requireSameConfig(socket, input.mainFile);
    } catch (error) {
      print.error(`warning: ${(error as Error).message}; the files are written but the daemon is not reloaded`);
      reloadable = false;
    }
  }
  if (!reloadable && input.before) {
    const plan = configPlan(input.before, after);
    print.info("Plan (the kernel changes, if it runs the config on disk now):");
    if (plan.length === 0) print.info("  no kernel changes");
    for (const change of plan) print.info(`  ${changeToLine(change)}`);
  }

  const originals = snapshot([...edits.keys()]);
  try {
    for (const [file, text] of edits) {
      print.info(text === null ? `Removing ${file}` : `Writing ${file}`);
      if (text === null) unlinkSync(file);
      else writeFileAtomic(file, text, { mode: originals.get(file)?.mode ?? 0o644 });
    }
  } catch (error) {
    restore(originals);
    throw new CliError(`Commit failed while writing the files (${(error as Error).message}); every file is restored`);
  }

  if (!reloadable) {
    print.info(daemon ? "Committed; reload the daemon that runs this file with lbctl reload." : `Committed. No daemon answers on ${socket}: run lbctl apply to program the kernel.`);
    return ExitCode.ok;
  }
  const dry = await reloadOrRestore(socket, { dryRun: true }, originals);
  print.info("Plan (from the daemon's dry run):");
  if (dry.changes.length === 0) print.info("  no kernel changes");
  for (const change of dry.changes) print.info(`  ${describeChange(change)}`);
  if (dry.result !== "planned") return refused(dry, originals, print);
  const reply = await reloadOrRestore(socket, { dryRun: false, audit: { by: loginActor(), origin: input.origin, files: [...edits.keys()] } }, originals);
  if (reply.result !== "success") return refused(reply, originals, print);
  print.info(`Committed: the daemon runs the new config (${reply.changes.length} kernel change${reply.changes.length === 1 ? "" : "s"}).`);
  return ExitCode.ok;
}

function describeChange(change: ReloadReply["changes"][number]): string {
  return `${String(change.op)} ${String(change.service)}${change.destination ? ` ${String(change.destination)}` : ""}${change.name ? ` (${String(change.name)})` : ""}`;
}

async function reloadOrRestore(socket: string, ask: { dryRun: boolean; audit?: ReloadAudit }, originals: Originals): Promise<ReloadReply> {
  try {
    return await askDaemonToReload(socket, { dryRun: ask.dryRun }, ask.audit);
  } catch (error) {
    restore(originals);
    throw new CliError(`${(error as Error).message}; every file is restored`);
  }
}

function refused(reply: ReloadReply, originals: Originals, print: Printer): number {
  restore(originals);
  const why = reply.result === "refused" ? `${reply.message} (a change limit: commit smaller steps, or write the files and run lbctl apply --force)` : reply.message;
  print.error(`Commit refused by the daemon, which keeps running the old config: ${why ?? reply.result}`);
  print.error("Every file is restored as it was.");
  return ExitCode.failed;
}

type Originals = Map<string, { text: Buffer; mode: number } | null>;

function snapshot(files: string[]): Originals {
  return new Map(files.map((file) => [file, existsSync(file) ? { text: readFileSync(file), mode: statSync(file).mode & 0o7777 } : null]));
}

function restore(originals: Originals): void {
  for (const [file, original] of originals) {
    if (original) writeFileAtomic(file, original.text, { mode: original.mode });
    else if (existsSync(file)) unlinkSync(file);
  }
}
