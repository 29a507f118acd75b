#!/usr/bin/env bun
/**
 * lbctl entry point. Commands load lazily (one file each); this is the only place that calls process.exit, and
 * the one place that turns errors into exit codes (spec/cli.md).
 */

import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { commandOutcome, commonArgs } from "./common.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

export { VERSION };

const load = <T>(module: Promise<{ default: T }>) => module.then((m) => m.default);

export const root = defineCommand({
  meta: { name: "lbctl", version: VERSION, description: "LibraFlux load balancer: declarative YAML to Linux IPVS" },
  args: commonArgs,
  subCommands: {
    validate: () => load(import("./validate.ts")),
    schema: () => load(import("./schema.ts")),
    apply: () => load(import("./apply.ts")),
    status: () => load(import("./status.ts")),
    disable: () => load(import("./disable.ts")),
    daemon: () => load(import("./daemon.ts")),
    reload: () => load(import("./reload.ts")),
    doctor: () => load(import("./doctor.ts")),
    setup: () => load(import("./setup.ts")),
    convert: () => load(import("./convert.ts")),
  },
});

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`lbctl ${VERSION}\n`);
    return ExitCode.ok;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${plainUnlessTerminal(await renderUsage(...(await resolveForHelp(argv))), process.stdout)}\n`);
    return ExitCode.ok;
  }
  if (argv.filter((arg) => !arg.startsWith("-")).length === 0) {
    process.stderr.write(`${plainUnlessTerminal(await renderUsage(root), process.stderr)}\n\nNo command given: see lbctl --help\n`);
    return ExitCode.usage;
  }
  try {
    await runCommand(root, { rawArgs: argv });
    return commandOutcome.exitCode ?? ExitCode.ok;
  } catch (error) {
    return report(error, debug);
  }
}

function report(error: unknown, debug: boolean): number {
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return error.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
  }
  if (error instanceof CliError) {
    process.stderr.write(`lbctl: ${error.message}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "CLIError") {
    process.stderr.write(`lbctl: ${stripAnsi(error.message)}; see lbctl --help\n`);
    return ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lbctl: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failed;
}

/** The command `--help` is about: follows positional words down nested subcommands (`lbctl setup frr --help`). */
async function resolveForHelp(argv: string[]): Promise<[CommandDef, CommandDef?]> {
  let command = root as CommandDef;
  let parent: CommandDef | undefined;
  for (const word of argv.filter((arg) => !arg.startsWith("-"))) {
    const resolved = await resolveValue(command.subCommands);
    const entry = resolved?.[word];
    if (!entry) break;
    const next = await resolveValue(entry);
    if (!next) break;
    parent = command;
    command = next;
  }
  return parent ? [command, parent] : [command];
}

async function resolveValue<T>(value: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function plainUnlessTerminal(text: string, stream: NodeJS.WriteStream): string {
  return stream.isTTY && !process.env.NO_COLOR ? text : stripAnsi(text);
}

function stripAnsi(text: string): string {
  // biome-ignore lint: the escape character is the point
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`lbctl: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(ExitCode.failed);
    },
  );
}
