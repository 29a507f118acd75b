/**
 * What must hold for every input, however broken: `validate --json` exits 0, 1 or 2, prints one JSON object whose
 * verdict matches the exit code, and every error is located (a file of the config, a line inside it, a message);
 * the in-process and the binary answers agree; time and memory stay bounded.
 */

export const TIME_LIMIT_MS = 1000;
export const MEMORY_LIMIT_BYTES = 512 * 1024 * 1024;

export interface Report {
  valid: boolean;
  errors: { file: string; line: number; column: number; path: string; message: string }[];
  services: number | null;
}

/** Every violation of the report's own properties, as sentences; empty when the report is sound. */
export function reportProblems(exitCode: number, report: Report, fileLines: ReadonlyMap<string, number>): string[] {
  const problems: string[] = [];
  if (![0, 1, 2].includes(exitCode)) problems.push(`exit code ${exitCode} is not 0, 1 or 2`);
  if (report.valid !== (exitCode === 0)) problems.push(`valid is ${report.valid} but the exit code is ${exitCode}`);
  if (!report.valid && report.errors.length === 0) problems.push("invalid without any error");
  if (report.valid && report.errors.length > 0) problems.push("valid with errors");
  for (const error of report.errors) {
    const where = `${error.file}:${error.line}:${error.column} ${error.path}`;
    if (typeof error.message !== "string" || error.message.trim() === "") problems.push(`${where}: an error without a message`);
    if (typeof error.file !== "string" || error.file === "") problems.push(`an error without a file: ${error.message}`);
    if (!Number.isInteger(error.line) || !Number.isInteger(error.column) || error.line < 0 || error.column < 0) problems.push(`${where}: line/column not a position`);
    if (error.line === 0 && error.column !== 0) problems.push(`${where}: a column without a line`);
    if (error.path && error.line === 0 && fileLines.has(error.file)) problems.push(`${where}: an error on a key with no line: ${error.message}`);
    const lines = fileLines.get(error.file);
    if (lines !== undefined && error.line > lines + 1) problems.push(`${where}: line ${error.line} is past the end of the file (${lines} lines)`);
    if (/\n/.test(error.message)) problems.push(`${where}: a message of several lines`);
    if (/^(TypeError|RangeError|ReferenceError|SyntaxError)\b|Maximum call stack|undefined is not|is not a function|Cannot read propert/.test(error.message)) {
      problems.push(`${where}: an internal error reached the user: ${error.message.slice(0, 200)}`);
    }
  }
  return problems;
}
