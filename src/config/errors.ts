import { printable } from "./printable.ts";

/** A problem with one place of one config file, as `validate --json` reports it. */
export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file. */
  line: number;
  column: number;
  /** Key path inside the file, e.g. `services[0].backends[1].weight`; empty for the whole file. */
  path: string;
  message: string;
}

/**
 * `unreadable`: a file that does not exist or cannot be read (exit 2).
 * `invalid`: the files were read but are not a valid configuration (exit 1).
 */
export type ConfigErrorCode = "unreadable" | "invalid";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly code: ConfigErrorCode,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map(formatIssue).join("\n"));
  }
}

/**
 * One line for a terminal or a log: `file:line:column: key: message`. File names, keys and messages carry input
 * (a key or a service name can hold escape sequences, a value can be a megabyte), so each part is escaped and cut.
 */
export function formatIssue(issue: ConfigIssue): string {
  const file = printable(issue.file);
  const where = issue.line > 0 ? `${file}:${issue.line}:${issue.column}` : file;
  const key = issue.path ? ` ${printable(issue.path)}:` : "";
  return `${where}:${key} ${printable(issue.message)}`;
}
