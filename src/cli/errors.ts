import { ConfigError } from "../config/errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** An error meant for the operator: one sentence naming what is at fault, and the exit code it implies. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failed,
    readonly code: string = "E_FAILED",
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage, "E_USAGE");
  }
}

/**
 * What a `--json` command prints as its `error` when it fails before it has a result, and the exit code that goes
 * with it: scripts get one object on stdout whatever happened (spec/cli.md), never an empty stdout.
 */
export function jsonFailure(error: unknown, op: string): { error: { op: string; message: string }; exitCode: number } {
  if (error instanceof ConfigError) {
    return { error: { op: "load-config", message: error.message }, exitCode: error.code === "unreadable" ? ExitCode.usage : ExitCode.failed };
  }
  if (error instanceof CliError) return { error: { op, message: error.message }, exitCode: error.exitCode };
  return { error: { op, message: error instanceof Error ? error.message : String(error) }, exitCode: ExitCode.failed };
}
