/** Exit codes of every command (spec/cli.md). */
export const ExitCode = {
  ok: 0,
  /** The command ran and failed: invalid config, kernel refused, peer unreachable. */
  failed: 1,
  /** Usage error, or a config file that does not exist or cannot be read. */
  usage: 2,
  /** `apply` refused because a change limit would be exceeded. */
  changeLimit: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
