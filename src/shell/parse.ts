/**
 * Reads a shell line against the grammar of its mode: the command it names and its values, what may come next (`?`)
 * and what the word under the cursor may become (Tab). Keywords may be shortened to any unambiguous prefix, as in
 * router CLIs (`sh st` is `show status`). Pure: the names of services and backends are given by the caller.
 */

import { isIP } from "node:net";
import { NAME_PATTERN } from "../config/schema/primitives.ts";
import { MODE_WORDS, type Mode, type ValueSpec, type Word } from "./grammar.ts";

export interface Token {
  text: string;
  /** 0-based column of the token's first character in the line. */
  start: number;
}

/** Names the completer offers for placeholders whose values are not fixed. */
export interface Dynamic {
  services: readonly string[];
  backends: readonly string[];
}

export const NO_NAMES: Dynamic = { services: [], backends: [] };

export type Parsed =
  | { ok: true; run: string; /** The keywords, full length. */ keywords: string[]; values: string[] }
  | { ok: false; message: string; /** 1-based column of the fault. */ column: number };

export class ShellSyntaxError extends Error {
  override readonly name = "ShellSyntaxError";
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** Splits on blanks; "double" or 'single' quotes keep blanks in a value. */
export function tokenize(line: string): { tokens: Token[]; /** An open quote at the end (while typing). */ open: boolean } {
  const tokens: Token[] = [];
  let i = 0;
  let open = false;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    const start = i;
    let text = "";
    while (i < line.length && !/\s/.test(line[i]!)) {
      const ch = line[i]!;
      if (ch === '"' || ch === "'") {
        const close = line.indexOf(ch, i + 1);
        if (close < 0) {
          text += line.slice(i + 1);
          i = line.length;
          open = true;
          break;
        }
        text += line.slice(i + 1, close);
        i = close + 1;
      } else {
        text += ch;
        i++;
      }
    }
    tokens.push({ text, start });
  }
  return { tokens, open };
}

/** The words that may stand at one position, given the words before. */
interface Position {
  words: readonly Word[];
  /** The last word matched: its `run` says whether the line may end here. */
  last?: Word;
  keywords: string[];
  values: string[];
}

function walk(tokens: readonly Token[], mode: Mode): Position {
  let words = MODE_WORDS[mode];
  let last: Word | undefined;
  const keywords: string[] = [];
  const values: string[] = [];
  for (const token of tokens) {
    const word = matchWord(words, token);
    if (word.value) values.push(token.text);
    else keywords.push(word.text);
    last = word;
    words = word.next ?? [];
  }
  return last ? { words, last, keywords, values } : { words, keywords, values };
}

function matchWord(words: readonly Word[], token: Token): Word {
  const column = token.start + 1;
  if (words.length === 0) throw new ShellSyntaxError(`unexpected "${token.text}": the command ends before it`, column);
  const lower = token.text.toLowerCase();
  const keywords = words.filter((w) => !w.value);
  const exact = keywords.find((w) => w.text === lower);
  if (exact) return exact;
  const slot = words.find((w) => w.value);
  const prefixed = lower === "" ? [] : keywords.filter((w) => w.text.startsWith(lower));
  if (prefixed.length === 1 && !slot) return prefixed[0]!;
  if (slot) {
    const problem = checkValue(slot.value!, token.text);
    if (problem) throw new ShellSyntaxError(`${slot.text}: ${problem}`, column);
    return slot;
  }
  if (prefixed.length > 1) throw new ShellSyntaxError(`ambiguous "${token.text}": ${prefixed.map((w) => w.text).join(", ")}`, column);
  throw new ShellSyntaxError(`unknown word "${token.text}"; expected ${keywords.map((w) => w.text).join(", ")} (? lists them)`, column);
}

export function parseLine(line: string, mode: Mode): Parsed {
  const { tokens, open } = tokenize(line);
  if (open) return { ok: false, message: "a quote is not closed", column: line.length };
  try {
    const position = walk(tokens, mode);
    if (!position.last) return { ok: false, message: "empty line", column: 1 };
    if (!position.last.run) {
      const next = position.words.map((w) => w.text).join(", ");
      return { ok: false, message: `incomplete command; expected ${next} (? lists them)`, column: line.trimEnd().length + 1 };
    }
    return { ok: true, run: position.last.run, keywords: position.keywords, values: position.values };
  } catch (error) {
    if (error instanceof ShellSyntaxError) return { ok: false, message: error.message, column: error.column };
    throw error;
  }
}

/** A value as typed, checked against its kind; the message when it cannot be one. */
export function checkValue(spec: ValueSpec, text: string): string | undefined {
  switch (spec.kind) {
    case "integer": {
      if (!/^\d+$/.test(text)) return `"${text}" is not a whole number`;
      const n = Number(text);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return `${n} is outside ${spec.min}-${spec.max}`;
      return undefined;
    }
    case "boolean":
    case "choice":
      return spec.choices?.includes(text.toLowerCase()) ? undefined : `"${text}" is not one of ${spec.choices?.join(", ")}`;
    case "ip":
      return isIP(text) ? undefined : `"${text}" is not an IP address`;
    case "name":
      return NAME_PATTERN.test(text) ? undefined : `"${text}" is not a service name (1-64 characters of A-Z a-z 0-9 _ . -)`;
    case "range":
      return parseRange(text) ? undefined : `"${text}" is not a range A-B of ports 1-65535 with A <= B`;
    case "ports":
      return text.split(",").every((part) => parseRange(part)) ? undefined : `"${text}" is not a list of ports and A-B ranges (80,443,8000-8010)`;
    case "backend":
      return parseBackend(text) ? undefined : `"${text}" is not ADDR or ADDR:PORT (IPv6 as [ADDR]:PORT)`;
    case "text":
      return text === "" ? "a value is needed" : undefined;
  }
}

export function parseRange(text: string): { start: number; end: number } | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2] ?? match[1]);
  return start >= 1 && end <= 65535 && start <= end ? { start, end } : undefined;
}

/** `10.0.0.1`, `10.0.0.1:8080`, `2001:db8::1`, `[2001:db8::1]:8080`; port 0 = the service port. */
export function parseBackend(text: string): { address: string; port: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? withPort(bracketed[1]!, bracketed[2]) : undefined;
  if (isIP(text)) return { address: text, port: 0 };
  const v4 = /^([^:]+):(\d{1,5})$/.exec(text);
  return v4 && isIP(v4[1]!) === 4 ? withPort(v4[1]!, v4[2]) : undefined;
}

function withPort(address: string, port: string | undefined): { address: string; port: number } | undefined {
  const n = port === undefined ? 0 : Number(port);
  return n <= 65535 ? { address, port: n } : undefined;
}

export interface HelpEntry {
  word: string;
  help: string;
}

/** What `?` shows for the line typed before it: the words that may come next (or that the last word may become). */
export function helpFor(line: string, mode: Mode, names: Dynamic = NO_NAMES): HelpEntry[] {
  const { tokens } = tokenize(line);
  const partial = /\s$/.test(line) || tokens.length === 0 ? "" : tokens.pop()!.text.toLowerCase();
  const position = walk(tokens, mode);
  const entries: HelpEntry[] = [];
  for (const word of position.words) {
    if (word.value) {
      entries.push({ word: word.text, help: word.help });
      // Fixed choices are listed in full; names (services, backends) only once a prefix narrows them.
      const list = valueCandidates(word.value, names);
      for (const candidate of list) if ((partial || word.value.choices) && candidate.startsWith(partial)) entries.push({ word: candidate, help: "" });
    } else if (word.text.startsWith(partial)) entries.push({ word: word.text, help: word.help });
  }
  if (partial === "" && position.last?.run) entries.push({ word: "<cr>", help: "Run the command" });
  return entries;
}

/** Tab: what the word under the cursor (the line's end) may become; one candidate gets its trailing blank. */
export function completeLine(line: string, mode: Mode, names: Dynamic = NO_NAMES): { candidates: string[]; partial: string } {
  const { tokens } = tokenize(line);
  const partial = /\s$/.test(line) || tokens.length === 0 ? "" : tokens.pop()!.text;
  let position: Position;
  try {
    position = walk(tokens, mode);
  } catch {
    return { candidates: [], partial };
  }
  const lower = partial.toLowerCase();
  const candidates = new Set<string>();
  for (const word of position.words) {
    if (!word.value) {
      if (word.text.startsWith(lower)) candidates.add(word.text);
    } else for (const candidate of valueCandidates(word.value, names)) if (candidate.startsWith(partial)) candidates.add(candidate);
  }
  const list = [...candidates].sort();
  return { candidates: list.length === 1 ? [`${list[0]} `] : list, partial };
}

function valueCandidates(spec: ValueSpec, names: Dynamic): readonly string[] {
  if (spec.choices) return spec.choices;
  if (spec.source === "services") return names.services;
  if (spec.source === "backends") return names.backends;
  return [];
}

/** The help table as lines: words padded to one column. */
export function formatHelp(entries: readonly HelpEntry[]): string[] {
  const width = Math.max(0, ...entries.map((e) => e.word.length));
  return entries.map((e) => (e.help ? `  ${e.word.padEnd(width)}  ${e.help}` : `  ${e.word}`));
}
