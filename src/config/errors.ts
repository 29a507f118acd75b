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

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const key = issue.path ? ` ${issue.path}:` : "";
  return `${where}:${key} ${issue.message}`;
}
