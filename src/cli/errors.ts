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
