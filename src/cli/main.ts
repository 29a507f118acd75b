#!/usr/bin/env bun
/**
 * lbctl entry point. It finds the command on the command line (each loads lazily, from its own file), runs it, turns
 * what it throws into a message and an exit code (spec/cli.md), and is the one exit path: the process ends only
 * once stdout and stderr are written out (written.ts).
 */

import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { printable } from "../config/printable.ts";
import { commonArgs } from "./common.ts";
import { CliError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { VERSION } from "./version.ts";
import { trackWrites } from "./written.ts";

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
    snapshot: () => load(import("./snapshot.ts")),
    convert: () => load(import("./convert.ts")),
    shell: () => load(import("./shell.ts")),
    edit: () => load(import("./edit.ts")),
    completion: () => load(import("./completion.ts")),
    __complete: () => import("./completion.ts").then((m) => m.completeCommand),
    backend: () => load(import("./backend.ts")),
  },
});

/** The command named on the command line, found by following its words down the subcommands. */
interface Resolved {
  command: CommandDef;
  /** The command words, e.g. ["lbctl", "setup", "frr"]. */
  names: string[];
  /** The arguments without the command words: flags given before the command word count too. */
  args: string[];
  /** A word that names no subcommand where one was expected. */
  unknown?: string;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`lbctl ${VERSION}\n`);
    return ExitCode.ok;
  }
  let name = "lbctl";
  try {
    const resolved = await resolveCommand(argv);
    name = resolved.names.join(" ");
    if (argv.includes("--help") || argv.includes("-h")) {
      process.stdout.write(`${await usage(resolved, process.stdout)}\n`);
      return ExitCode.ok;
    }
    if (resolved.unknown !== undefined) {
      process.stderr.write(`${name}: unknown command "${printable(resolved.unknown)}"; see ${name} --help\n`);
      return ExitCode.usage;
    }
    const subCommands = await resolveValue(resolved.command.subCommands);
    if (subCommands) {
      // `lbctl` alone on a terminal is the shell; from a script it stays a usage error (scripts say `lbctl shell`).
      if (resolved.names.length === 1 && process.stdin.isTTY) resolved.command = (await resolveValue(subCommands.shell as CommandDef))!;
      else {
        process.stderr.write(`${await usage(resolved, process.stderr)}\n\n${name}: name a command (${Object.keys(subCommands).filter((word) => !word.startsWith("_")).join(", ")}); see ${name} --help\n`);
        return ExitCode.usage;
      }
    }
    const { result } = await runCommand(resolved.command, { rawArgs: resolved.args, data: { root } });
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (error) {
    return report(error, debug, name);
  }
}

/** Error messages may span lines (a daemon's list of config errors): lines kept, the rest escaped, a runaway cut. */
const LAID_OUT = { newlines: "keep", max: 100_000 } as const;

/** Prints what went wrong for the operator; `name` is the command that ran (`lbctl setup frr`), for the help hint. */
function report(error: unknown, debug: boolean, name: string): number {
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return error.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
  }
  if (error instanceof CliError) {
    const hint = error instanceof UsageError && !error.message.includes("--help") ? `; see ${name} --help` : "";
    process.stderr.write(`lbctl: ${printable(error.message, LAID_OUT)}${hint}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "CLIError") {
    // citty's own argument errors ("Missing required argument: --output-dir"): said as lbctl's, with lbctl's help.
    process.stderr.write(`lbctl: ${printable(stripAnsi(error.message)).replace(/\.$/, "")}; see ${name} --help\n`);
    return ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lbctl: ${printable(message, LAID_OUT)}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failed;
}

/**
 * Follows the positional words down nested subcommands (`lbctl setup frr`), skipping the value of a flag that takes
 * one (`--config PATH`). Stops at the first command without subcommands: later words are its own arguments.
 */
async function resolveCommand(argv: string[]): Promise<Resolved> {
  let command = root as CommandDef;
  const names = ["lbctl"];
  const commandWords = new Set<number>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      if (!arg.includes("=") && takesValue(arg, (await resolveValue(command.args)) ?? {})) i++;
      continue;
    }
    const subCommands = await resolveValue(command.subCommands);
    if (!subCommands) break;
    const entry = subCommands[arg];
    const next = entry ? await resolveValue(entry) : undefined;
    if (!next) return { command, names, args: argv, unknown: arg };
    command = next;
    names.push(arg);
    commandWords.add(i);
  }
  return { command, names, args: argv.filter((_, i) => !commandWords.has(i)) };
}

function takesValue(flag: string, args: Record<string, { type?: string; alias?: string | string[] }>): boolean {
  const name = flag.replace(/^--?/, "");
  return Object.entries(args).some(([key, def]) => (def.type === "string" || def.type === "enum") && (key === name || [def.alias ?? []].flat().includes(name)));
}

/** citty's usage text, titled with the full command (`lbctl setup frr`, where citty would say `setup frr`). */
async function usage(resolved: Resolved, stream: NodeJS.WriteStream): Promise<string> {
  const parentName = resolved.names.slice(0, -1).join(" ");
  const parent = parentName ? defineCommand({ meta: { name: parentName } }) : undefined;
  const text = await renderUsage(resolved.command, parent);
  return stream.isTTY && !process.env.NO_COLOR ? text : stripAnsi(text);
}

async function resolveValue<T>(value: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function stripAnsi(text: string): string {
  // biome-ignore lint: the escape character is the point
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

if (import.meta.main) {
  const written = trackWrites([process.stdout, process.stderr]);
  const exit = (code: number) => written.settled().then(() => process.exit(code));
  main(process.argv.slice(2)).then(exit, (error) => {
    process.stderr.write(`lbctl: ${printable(error instanceof Error ? error.message : String(error))}\n`);
    return exit(ExitCode.failed);
  });
}
