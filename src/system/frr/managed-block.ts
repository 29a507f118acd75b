/**
 * Finding and replacing the managed block in a file that is otherwise the operator's: every byte outside the
 * markers is kept as it was. Pure.
 */

import { BEGIN_MARKER, END_MARKER, FrrConfigError } from "./block.ts";

interface BlockSpan {
  /** Offset of the begin marker's line and of the first byte after the end marker's line. */
  start: number;
  end: number;
}

/** The managed block of `text` (markers included), undefined when there is none; throws on broken markers. */
export function findManagedBlock(text: string, file: string): BlockSpan | undefined {
  const begins: number[] = [];
  const ends: number[] = [];
  let offset = 0;
  let lineNumber = 0;
  const lineOf = new Map<number, number>();
  for (const line of text.split("\n")) {
    lineNumber++;
    lineOf.set(offset, lineNumber);
    const trimmed = line.replace(/\r$/, "").trimEnd();
    if (trimmed === BEGIN_MARKER) begins.push(offset);
    else if (trimmed === END_MARKER) ends.push(offset);
    offset += line.length + 1;
  }
  if (begins.length === 0 && ends.length === 0) return undefined;
  if (begins.length > 1 || ends.length > 1) {
    throw new FrrConfigError(`${file} has ${begins.length} begin and ${ends.length} end markers of the lbctl block: keep one of each ("${BEGIN_MARKER}" ... "${END_MARKER}")`);
  }
  const begin = begins[0];
  const end = ends[0];
  if (begin === undefined) throw new FrrConfigError(`${file}: line ${lineOf.get(end!)} has "${END_MARKER}" without "${BEGIN_MARKER}" before it`);
  if (end === undefined) throw new FrrConfigError(`${file}: line ${lineOf.get(begin)} has "${BEGIN_MARKER}" without "${END_MARKER}" after it`);
  if (end < begin) throw new FrrConfigError(`${file}: "${END_MARKER}" (line ${lineOf.get(end)}) comes before "${BEGIN_MARKER}" (line ${lineOf.get(begin)})`);
  const newline = text.indexOf("\n", end);
  return { start: begin, end: newline === -1 ? text.length : newline + 1 };
}

/** The managed block as found in `text`, or undefined. */
export function currentBlock(text: string, file: string): string | undefined {
  const span = findManagedBlock(text, file);
  if (!span) return undefined;
  const block = text.slice(span.start, span.end);
  return block.endsWith("\n") ? block : `${block}\n`;
}

/** `text` with its managed block replaced by `block` (which ends with a newline), or with `block` appended. */
export function replaceManagedBlock(text: string, block: string, file: string): string {
  const span = findManagedBlock(text, file);
  if (span) return text.slice(0, span.start) + block + text.slice(span.end);
  if (text === "") return block;
  return `${text}${text.endsWith("\n") ? "" : "\n"}${block}`;
}
