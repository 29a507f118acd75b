/** What a conversion reports: warnings (something not carried over, or approximated) and errors (nothing written). */

/** A place in the input: the file as the user named it (or as `nginx -T` recorded it), 1-based line and column. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

/** Something the converter could not carry over exactly; `directive` is the directive at fault. */
export interface ConvertWarning {
  file: string;
  line: number;
  directive: string;
  /** One sentence: what was found and what happens to it. */
  message: string;
  /** Why, and what to do instead: shown indented under the message. */
  detail?: string[];
}

export type ConvertErrorCode =
  /** The input is not valid nginx/keepalived syntax, or an include cannot be followed. */
  | "syntax"
  /** The input (or an included file) cannot be read: exit 2. */
  | "unreadable"
  /** Two input blocks claim the same (protocol, VIP, port), or an output file collides. */
  | "conflict"
  /** The input was read but holds nothing lbctl can program. */
  | "nothing";

/** A located error meant for the operator: `file:line:column: message`. */
export class ConvertError extends Error {
  override readonly name = "ConvertError";
  constructor(
    readonly code: ConvertErrorCode,
    message: string,
    readonly location?: Location,
  ) {
    super(message);
  }

  /** The one line printed for the operator. */
  describe(): string {
    const at = this.location;
    return at ? `${at.file}:${at.line}:${at.column}: ${this.message}` : this.message;
  }
}

/** The roadmap's warning style: a headline naming file and line, then the why and the suggestion indented. */
export function formatWarning(warning: ConvertWarning): string {
  const lines = [`⚠ WARNING: ${warning.message} (${warning.file}:${warning.line}, ${warning.directive})`];
  for (const line of warning.detail ?? []) lines.push(`  ${line}`);
  return lines.join("\n");
}

/** Warnings in the order of the input: by file (as nginx reads them), then line. */
export function inSourceOrder(warnings: ConvertWarning[], files: readonly string[]): ConvertWarning[] {
  const rank = new Map(files.map((file, i) => [file, i]));
  return warnings
    .map((warning, i) => ({ warning, i }))
    .sort((a, b) => (rank.get(a.warning.file) ?? 0) - (rank.get(b.warning.file) ?? 0) || a.warning.line - b.warning.line || a.i - b.i)
    .map((x) => x.warning);
}
