/**
 * `lbctl apply [--dry-run] [--force] [--drain] [--json]`: makes the kernel's IPVS table match the config for every
 * managed VIP, all or nothing. Without a daemon a removed destination is deleted at once, or with `--drain` set to
 * weight 0 while it has connections (the next apply finishes it); through a daemon, the daemon drains.
 */

import type { Config } from "../config/model.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import type { ReconcileOutcome } from "../plan/reconcile.ts";
import { snapshotSaver } from "../daemon/snapshot-store.ts";
import { guardedApply } from "./_guarded-apply.ts";
import type { Plan } from "../plan/changes.ts";
import { applyDrain, drainingJson, drainingView, drainKey, type DrainingJson, type DrainOutput, type DrainRecord } from "../plan/drain.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import { readDrainState, writeDrainState } from "../system/drain-state.ts";
import { configManagedVips, writeManagedVips } from "../system/managed-vips.ts";
import { asCliError, managedVips, openIpvs } from "./_kernel.ts";
import { changeToJson, changeToLine, summary } from "../plan/render.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError, jsonFailure, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput, type Output } from "./output.ts";
import { askDaemonToReload, exitCodeOf, reportDraining, reportReload, requireSameConfig } from "./_daemon-client.ts";
import { daemonAnswers } from "../daemon/control-client.ts";
import { drainTimeoutMs } from "../daemon/draining.ts";
import { VERSION } from "./version.ts";

export default lbctlCommand({
  meta: { name: "apply", description: "Make the kernel's IPVS table match the config (one shot), or run the daemon" },
  args: {
    "dry-run": { type: "boolean", description: "Print the plan; change nothing" },
    force: { type: "boolean", description: "Apply even over a change limit" },
    json: { type: "boolean", description: "Print one JSON object" },
    drain: { type: "boolean", description: "Without a daemon: set removed backends to weight 0 while they have connections; the next apply deletes them" },
    daemon: { type: "boolean", description: "Run the long-lived controller instead (same as lbctl daemon)" },
  },
  async run({ args }) {
    // Bun counts performance.now() from the process's start: what passed before this line is start-up (loading code).
    const startedAt = performance.now();
    const out = createOutput({ debug: args.debug });
    out.log.debug(`Start-up took ${startedAt.toFixed(1)} ms`);
    if (args.daemon && (args["dry-run"] || args.force || args.json || args.drain)) {
      throw new UsageError("--daemon runs the controller; it does not combine with --dry-run, --force, --drain or --json");
    }
    if (args.daemon) {
      const { runDaemon } = await import("../daemon/run.ts");
      return runDaemon({ configFile: configPath(args), version: VERSION });
    }
    const dryRun = Boolean(args["dry-run"]);
    const json = Boolean(args.json);
    const force = Boolean(args.force);
    try {
      const path = configPath(args);
      const started = performance.now();
      const loaded = loadConfig(path);
      out.log.debug(`Config loaded in ${(performance.now() - started).toFixed(1)} ms`);
      if (!loaded.ok) throw new ConfigError(loaded.code, loaded.issues);
      const options = { path, config: loaded.config, dryRun, force, json, out, drain: Boolean(args.drain) };
      const viaDaemon = await applyThroughDaemon(options);
      if (viaDaemon !== undefined) return viaDaemon;
      return applyOnce(options);
    } catch (error) {
      const cause = error instanceof ConfigError ? error : asCliError(error);
      if (!args.json) throw cause;
      const failure = jsonFailure(cause, "connect");
      out.json({ changes: [], applied: false, error: failure.error });
      return failure.exitCode;
    }
  },
});

/** A plan of thousands of changes is summarised for people; --json always lists every change. */
const MAX_LINES = 200;

interface ApplyOptions {
  path: string;
  config: Config;
  dryRun: boolean;
  force: boolean;
  json: boolean;
  out: Output;
  drain: boolean;
}

function applyOnce({ config, dryRun, force, json, out, drain }: ApplyOptions): number {
  const opened = performance.now();
  const client = openIpvs();
  try {
    const managed = managedVips(config);
    const stateDir = config.main.system.state_dir;
    // Remember every VIP we are about to touch before touching it, so a crash mid-apply orphans nothing.
    if (!dryRun) recordVips(stateDir, managed);
    out.log.debug(`Phase open took ${(performance.now() - opened).toFixed(1)} ms`);
    const drains = oneShotDrains(stateDir, drain ? config.main.daemon.drain.timeout_seconds * 1000 : 0);
    let outcome: ReconcileOutcome;
    let snapshot: string | undefined;
    try {
      ({ outcome, snapshot } = guardedApply(
        {
          config,
          client,
          managedVips: managed,
          dryRun,
          adjust: drains.adjust,
          ...(force ? {} : { limits: config.main.daemon.change_limits }),
          onPhase: (phase, ms) => out.log.debug(`Phase ${phase} took ${ms.toFixed(1)} ms`),
        },
        { save: snapshotSaver(config), reason: "apply" },
        out,
        json,
      ));
    } catch (error) {
      throw asCliError(error);
    }
    const finishing = performance.now();
    if (outcome.kind === "applied") recordVips(stateDir, configManagedVips(config));
    const draining = outcome.kind === "applied" || outcome.kind === "planned" ? drains.commit(outcome.kind === "applied") : [];
    const code = report(outcome, { json, dryRun, out, draining, snapshot });
    out.log.debug(`Phase finish took ${(performance.now() - finishing).toFixed(1)} ms`);
    return code;
  } finally {
    client.close();
  }
}

/**
 * When a daemon runs, it owns the kernel table (and knows health-driven weights): ask it to reload instead of
 * applying behind its back. Undefined when no daemon answers.
 */
async function applyThroughDaemon({ path, config, dryRun, force, json, out, drain }: ApplyOptions): Promise<number | undefined> {
  const socket = config.main.daemon.socket;
  if (!(await daemonAnswers(socket))) return undefined;
  await requireSameConfig(socket, path);
  if (drain && drainTimeoutMs(config) === 0) out.log.warn("The daemon deletes removed backends at once (daemon.drain is off or its timeout 0): --drain does not change that");
  const reply = await askDaemonToReload(socket, { dryRun, force });
  if (json) {
    out.json({
      changes: reply.changes,
      applied: reply.result === "success",
      daemon: true,
      ...(reply.limit ? { limit: reply.limit } : {}),
      ...(reply.error ? { error: reply.error } : {}),
      ...(reply.rolled_back !== undefined ? { rolled_back: reply.rolled_back } : {}),
      ...(reply.draining?.length ? { draining: reply.draining } : {}),
      ...(reply.snapshot ? { snapshot: reply.snapshot } : {}),
    });
  } else {
    reportReload(reply, out, "Applied through the daemon");
  }
  return exitCodeOf(reply);
}

export function recordVips(stateDir: string, vips: Iterable<string>): void {
  try {
    writeManagedVips(stateDir, vips);
  } catch (error) {
    throw new CliError(`Cannot record managed VIPs in ${stateDir}: ${(error as Error).message}`);
  }
}

interface ReportOptions {
  json: boolean;
  dryRun: boolean;
  out: Output;
  draining: DrainingJson[];
  snapshot?: string | undefined;
}

export function report(outcome: ReconcileOutcome, { json, dryRun, out, draining, snapshot }: ReportOptions): number {
  const changes = outcome.plan.changes;
  const applied = outcome.kind === "applied";
  if (json) {
    const body: Record<string, unknown> = { changes: changes.map(changeToJson), applied };
    if (draining.length > 0) body.draining = draining;
    if (snapshot) body.snapshot = snapshot;
    if (outcome.kind === "limit") body.limit = outcome.limit;
    if (outcome.kind === "failed") {
      body.error = { op: outcome.execution.failed.op, service: outcome.execution.failed.service, destination: outcome.execution.failed.destination, message: outcome.execution.error.message };
      body.rolled_back = outcome.execution.rolledBack;
    }
    out.json(body);
  } else {
    const shown = changes.length > MAX_LINES ? changes.slice(0, MAX_LINES) : changes;
    for (const change of shown) out.print(changeToLine(change));
    if (shown.length < changes.length) out.print(`... and ${changes.length - shown.length} more changes (--json lists them all)`);
    if (outcome.kind === "limit") {
      const { name, limit, planned } = outcome.limit;
      out.log.error(`Refused: the plan deletes ${planned} (daemon.change_limits.${name} is ${limit}); nothing was changed. Check the config, then use --force to apply anyway`);
    } else if (outcome.kind === "failed") {
      const { failed, error, rolledBack, rollbackError } = outcome.execution;
      out.log.error(`${error.message}`);
      out.log.error(
        rolledBack
          ? `Apply failed at ${failed.op} ${failed.destination ?? failed.service}; the changes of this run were rolled back: the table is as it was`
          : `Apply failed at ${failed.op} ${failed.destination ?? failed.service} and the rollback failed too (${rollbackError?.message}): check lbctl status`,
      );
    } else if (changes.length === 0 && draining.length === 0) {
      out.log.success("The kernel matches the config: nothing to do");
    } else {
      if (changes.length > 0) out.log.success(`${dryRun ? "Plan" : "Applied"}: ${summary(changes)}`);
      reportDraining(draining, out, dryRun ? "would be left" : "left");
    }
  }
  if (outcome.kind === "limit") return ExitCode.changeLimit;
  if (outcome.kind === "failed") return ExitCode.failed;
  return ExitCode.ok;
}

/**
 * `apply --drain` without a daemon: the daemon's drain pass (plan/drain.ts) with the records kept in state_dir
 * between runs. A plain apply runs the same pass with no drain time: it deletes every removed destination at once
 * and clears the records.
 */
export function oneShotDrains(stateDir: string, timeoutMs: number) {
  let records: Map<string, DrainRecord>;
  try {
    records = new Map(readDrainState(stateDir).map((r) => [drainKey(r.service, r.destination), r]));
  } catch (error) {
    throw asCliError(error);
  }
  let result: DrainOutput | undefined;
  let kernel: readonly KernelServiceEntry[] = [];
  return {
    adjust(plan: Plan, dump: readonly KernelServiceEntry[]): Plan {
      kernel = dump;
      result = applyDrain({ plan, kernel: dump, draining: records, now: Date.now(), timeoutMs });
      return result.plan;
    },
    /** After the plan ran (or, dry, would run): the records written (when they changed) and those left draining. */
    commit(ran: boolean): DrainingJson[] {
      if (!result) return [];
      if (ran && (result.started.length > 0 || result.ended.length > 0)) {
        try {
          writeDrainState(stateDir, [...result.draining.values()]);
        } catch (error) {
          throw new CliError(`The kernel was changed, but recording the draining destinations in ${stateDir} failed: ${(error as Error).message}`);
        }
      }
      return drainingView(result.draining, kernel).map(drainingJson);
    },
  };
}
