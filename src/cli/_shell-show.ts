/** The read-only `show` commands of the shell's root mode (`show status` and `show stats` run lbctl status itself). */

import { readFileSync } from "node:fs";
import { configuredVips, serviceVip, type Config } from "../config/model.ts";
import type { ReloadReply } from "../daemon/control-api.ts";
import { daemonAnswers, daemonRequest } from "../daemon/control-client.ts";
import type { StatusView } from "../plan/status.ts";
import { servicesInFiles } from "../shell/file-edits.ts";
import { serviceYaml } from "../shell/pending.ts";
import type { Printer } from "./_config-commit.ts";
import { askDaemonToReload } from "./_daemon-client.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

export function showServices(config: Config, print: Printer): number {
  if (config.services.length === 0) print.info("No services.");
  const rows = config.services.map((s) => [
    s.name,
    s.protocol,
    serviceVip(config.main, s),
    portsText(s),
    s.scheduler,
    `${s.backends.length} backend${s.backends.length === 1 ? "" : "s"}`,
    s.health.enabled ? `health ${s.health.type}` : "no health checks",
    s.source.file,
  ]);
  for (const line of table(rows)) print.info(line);
  return ExitCode.ok;
}

export function showService(config: Config, name: string, print: Printer): number {
  const origin = servicesInFiles(serviceTexts(config.files.slice(1))).get(name);
  if (!origin) throw new CliError(`No service ${name}`);
  print.info(`# ${origin.file}, services[${origin.index}]`);
  for (const text of serviceYaml(origin.raw)) print.info(text);
  return ExitCode.ok;
}

export function showBackends(config: Config, print: Printer): number {
  const rows = config.services.flatMap((s) => s.backends.map((b) => [s.name, b.port ? `${b.address}:${b.port}` : b.address, `weight ${b.weight}`]));
  if (rows.length === 0) print.info("No backends.");
  for (const line of table(rows)) print.info(line);
  return ExitCode.ok;
}

export function showVips(config: Config, print: Printer): number {
  for (const vip of configuredVips(config)) {
    const names = config.services.filter((s) => serviceVip(config.main, s) === vip).map((s) => s.name);
    print.info(`${vip}  ${names.join(", ")}`);
  }
  if (config.services.length === 0) print.info(`${config.main.network.frontend.vip}  (no services)`);
  return ExitCode.ok;
}

export function showConfig(config: Config, print: Printer): number {
  for (const file of config.files) {
    print.info(`# ${file}`);
    print.info(readFileSync(file, "utf8").trimEnd());
  }
  return ExitCode.ok;
}

/** What a reload would change in the kernel: the daemon's dry run of the files on disk. */
export async function showDiff(config: Config, print: Printer): Promise<number> {
  const socket = config.main.daemon.socket;
  if (!(await daemonAnswers(socket))) throw new CliError(`No daemon answers on ${socket}: lbctl apply --dry-run shows what the files would change in the kernel`);
  const reply: ReloadReply = await askDaemonToReload(socket, { dryRun: true });
  if (reply.result === "failure") throw new CliError(`The daemon cannot load the files: ${reply.message}`);
  if (reply.changes.length === 0) print.info("The kernel matches the files: a reload would change nothing.");
  for (const change of reply.changes) print.info(`${String(change.op)} ${String(change.service)}${change.destination ? ` ${String(change.destination)}` : ""}`);
  if (reply.result === "refused") print.info(`A reload would be refused: ${reply.message}`);
  return ExitCode.ok;
}

export async function showHealth(config: Config, print: Printer): Promise<number> {
  const socket = config.main.daemon.socket;
  const reply = (await daemonAnswers(socket)) ? await daemonRequest<StatusView>(socket, "GET", "/v1/status").catch(() => undefined) : undefined;
  if (!reply || reply.status !== 200) {
    const checked = config.services.filter((s) => s.health.enabled).map((s) => s.name);
    print.info(`No daemon answers on ${socket}: health is known only to the daemon. Checks are enabled for: ${checked.join(", ") || "no service"}.`);
    return ExitCode.ok;
  }
  const rows = reply.body.services.flatMap((s) => s.destinations.map((d) => [s.name ?? s.service, d.backend ?? d.destination, d.health, `weight ${d.weight ?? "-"}/${d.configured_weight ?? "-"}`]));
  if (rows.length === 0) print.info("No backends.");
  for (const line of table(rows)) print.info(line);
  return ExitCode.ok;
}

function portsText(service: Config["services"][number]): string {
  return [...service.ports, ...service.port_ranges].map((r) => (r.start === r.end ? String(r.start) : `${r.start}-${r.end}`)).join(",") || "-";
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => r[col]!.length))) ?? [];
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  "));
}

/** The text of each file that can be read (one that vanished since the load is left out). */
export function serviceTexts(files: readonly string[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const file of files) {
    try {
      texts.set(file, readFileSync(file, "utf8"));
    } catch {
      // a file that vanished since the load: the commit's validation reports the config as it is then
    }
  }
  return texts;
}
