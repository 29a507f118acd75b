/** What every command shares: the global flags, the config path, and strict flag checking. */

import { defineCommand, type ArgsDef, type CommandContext, type CommandDef } from "citty";
import { UsageError } from "./errors.ts";

export const DEFAULT_CONFIG_PATH = "/etc/lbctl/config.yaml";

export const commonArgs = {
  config: {
    type: "string",
    description: `Main config file (default: $LBCTL_CONFIG, else ${DEFAULT_CONFIG_PATH})`,
    valueHint: "PATH",
  },
  debug: { type: "boolean", description: "Verbose output and stack traces" },
} as const satisfies ArgsDef;

export function configPath(args: { config?: string | undefined }): string {
  return args.config || process.env.LBCTL_CONFIG || DEFAULT_CONFIG_PATH;
}

/**
 * citty accepts flags it does not know; for a tool that changes the kernel, `apply --dryrun` must not apply.
 * This rejects any flag or extra positional the command does not declare.
 */
export function rejectUnknownArgs(rawArgs: readonly string[], args: ArgsDef): void {
  const known = new Set<string>(["help", "h"]);
  const booleans = new Set<string>();
  let positionals = 0;
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      positionals++;
      continue;
    }
    for (const alias of [name, kebab(name), ...toArray("alias" in def ? def.alias : undefined)]) {
      known.add(alias);
      if (def.type === "boolean") booleans.add(alias);
    }
  }
  let seenPositionals = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") {
      if (++seenPositionals > positionals) throw new UsageError(`Unexpected argument "${arg}"`);
      continue;
    }
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    const bare = name.startsWith("no-") && booleans.has(name.slice(3)) ? name.slice(3) : name;
    if (!known.has(bare)) throw new UsageError(`Unknown option "${arg.split("=")[0]}"`);
    if (!booleans.has(bare) && !arg.includes("=")) {
      if (rawArgs[i + 1] === undefined) throw new UsageError(`Option --${bare} needs a value`);
      i++;
    }
  }
}

type CommonArgs = typeof commonArgs;

export interface LbctlCommandDef<A extends ArgsDef> extends Omit<CommandDef<A & CommonArgs>, "args" | "run"> {
  args?: A;
  /** Returns the exit code; main.ts runs the command and exits with it. */
  run?: (context: CommandContext<A & CommonArgs>) => number | Promise<number>;
}

/** `defineCommand` with the common flags added and unknown flags rejected before `run`. */
export function lbctlCommand<const A extends ArgsDef>(def: LbctlCommandDef<A>): CommandDef<A & CommonArgs> {
  const args = { ...commonArgs, ...def.args } as A & CommonArgs;
  return defineCommand<A & CommonArgs>({
    ...def,
    args,
    setup(context) {
      if (!def.subCommands) rejectUnknownArgs(context.rawArgs, args);
      return def.setup?.(context);
    },
  });
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
