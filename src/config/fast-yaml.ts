/**
 * The fast path of config loading. `lbctl validate` runs from cron on every host, and the `yaml` library's first
 * parse costs tens of milliseconds of cold start; Bun's native parser costs well under one. The native parser keeps
 * no positions and accepts duplicate keys, so this path is taken only for files it can vouch for: a conservative
 * scan rejects duplicate keys, and anything it does not fully understand (anchors, tags, block scalars,
 * multi-line flow collections...) sends the file to the `yaml` library. Any problem found later also re-runs the
 * load on the slow path, which reports positions; so both paths always agree on what is valid.
 */

import { parseBlockYaml } from "./block-yaml.ts";

/**
 * Whether `text` is plain enough for the native parser, with no duplicate keys. A config of 5,000 services is
 * 70,000 lines, scanned cold by every `lbctl` command: the scan reads character codes at offsets into the text,
 * copies nothing but key names, and keeps regular expressions for the rare lines that need them.
 */
export function isPlainYaml(text: string): boolean {
  const scanner = new DuplicateKeyScanner(text);
  let start = 0;
  for (;;) {
    let end = text.indexOf("\n", start);
    const last = end < 0;
    if (last) end = text.length;
    const cut = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    if (!scanner.line(start, cut)) return false;
    if (last) return true;
    start = end + 1;
  }
}

/**
 * The data of a text for the fast path: read in one pass when it is plain block YAML (the common case), else by
 * Bun's YAML parser; undefined when the text is not for the fast path or does not parse.
 */
export function parseFast(text: string): { data: unknown; final?: boolean } | undefined {
  const block = parseBlockYaml(text);
  if (block) return block;
  if (!isPlainYaml(text)) return undefined;
  try {
    return { data: Bun.YAML.parse(text) ?? null };
  } catch {
    return undefined;
  }
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const DOUBLE_QUOTE = 34;
const HASH = 35;
const PERCENT = 37;
const SINGLE_QUOTE = 39;
const COMMA = 44;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const BACKSLASH = 92;
const QUOTED_KEY = /^("([^"\\]*)"|'([^']*)')\s*:(?:\s|$)/;

/**
 * The keys of one mapping level: a short list searched in place (a mapping has a handful of keys, and a config of
 * thousands of services opens thousands of them), a set once it grows.
 */
class KeySet {
  static readonly #SHORT = 16;
  #list: string[] | undefined;
  #set: Set<string> | undefined;

  constructor(first: string) {
    this.#list = [first];
  }

  /** Adds `name`; false when it was there already. */
  add(name: string): boolean {
    const list = this.#list;
    if (list === undefined) {
      if (this.#set!.has(name)) return false;
      this.#set!.add(name);
      return true;
    }
    for (let i = 0; i < list.length; i++) if (list[i] === name) return false;
    list.push(name);
    if (list.length > KeySet.#SHORT) {
      this.#set = new Set(list);
      this.#list = undefined;
    }
    return true;
  }
}

interface MappingLevel {
  indent: number;
  keys: KeySet;
}

/** Reads the text line by line, by offsets into it. */
class DuplicateKeyScanner {
  readonly #text: string;
  #levels: MappingLevel[] = [];
  #started = false;

  constructor(text: string) {
    this.#text = text;
  }

  /** Feeds the line from `start` to `end` (its line break excluded); false means "not for the fast path". */
  line(start: number, end: number): boolean {
    const text = this.#text;
    if (isBlankOrComment(text, start, end)) return true;
    const first = text.charCodeAt(start);
    if (first === DASH || first === DOT || first === PERCENT) {
      const line = text.slice(start, end);
      if (line.startsWith("---") || line.startsWith("...") || line.startsWith("%")) {
        // One leading document marker is fine; anything more is a multi-document stream.
        if (line.trim() !== "---" || this.#started) return false;
        return true;
      }
    }
    this.#started = true;
    let rest = start;
    while (rest < end && text.charCodeAt(rest) === SPACE) rest++;
    if (rest < end && text.charCodeAt(rest) === TAB) return false;
    let column = rest - start;
    const restEnd = contentEnd(text, rest, end);
    if (restEnd < 0) return false;
    // Sequence indicators: each "- " opens a new item, whose mapping (if any) starts fresh.
    while (rest < restEnd && text.charCodeAt(rest) === DASH && (rest + 1 === restEnd || text.charCodeAt(rest + 1) === SPACE)) {
      this.#closeDeeperThan(column);
      // The content has no trailing spaces: "-" alone is the only item with nothing after it.
      if (rest + 1 === restEnd) return true;
      let spaces = 1;
      while (text.charCodeAt(rest + 1 + spaces) === SPACE) spaces++;
      column += 1 + spaces;
      rest += 1 + spaces;
      this.#closeDeeperThan(column - 1);
    }
    const colon = plainKeyColon(text, rest, restEnd);
    let name: string;
    let valueStart: number;
    if (colon >= 0) {
      name = text.slice(rest, plainKeyEnd(text, rest, restEnd));
      valueStart = colon + 1;
    } else {
      const key = readQuotedKey(text.slice(rest, restEnd));
      if (key === undefined) {
        // A line that is neither a key nor an item is a scalar continuation or a flow collection: plain only
        // when it is a single-line flow collection or scalar directly in a sequence item.
        if (this.#levels.length === 0 && column === 0) return false;
        let lineStart = start;
        while (lineStart < end && isSpace(text.charCodeAt(lineStart))) lineStart++;
        return isSimpleValue(text, rest, restEnd) && lineStart < end && text.charCodeAt(lineStart) === DASH;
      }
      name = key.name;
      valueStart = rest + key.length;
    }
    if (!this.#addKey(column, name)) return false;
    let valueEnd = restEnd;
    while (valueStart < valueEnd && isSpace(text.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isSpace(text.charCodeAt(valueEnd - 1))) valueEnd--;
    return isSimpleValue(text, valueStart, valueEnd);
  }

  #closeDeeperThan(column: number): void {
    const levels = this.#levels;
    while (levels.length > 0 && levels[levels.length - 1]!.indent > column) levels.pop();
  }

  #addKey(column: number, name: string): boolean {
    this.#closeDeeperThan(column);
    const top = this.#levels[this.#levels.length - 1];
    if (top && top.indent === column) return top.keys.add(name);
    this.#levels.push({ indent: column, keys: new KeySet(name) });
    return true;
  }
}

/** What `\s` matches in a JavaScript regular expression (and what `trim` removes). */
function isSpace(code: number): boolean {
  if (code === SPACE || (code >= TAB && code <= CR)) return true;
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** What `.` does not match in a JavaScript regular expression. */
function isLineTerminator(code: number): boolean {
  return code === LF || code === CR || code === 0x2028 || code === 0x2029;
}

/** `/^\s*(#.*)?$/` on `text` from `start` to `end`: nothing but spaces, or spaces then a comment. */
function isBlankOrComment(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  if (i === end) return true;
  if (text.charCodeAt(i) !== HASH) return false;
  for (i++; i < end; i++) if (isLineTerminator(text.charCodeAt(i))) return false;
  return true;
}

/** `[A-Za-z0-9_]` */
function isKeyStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
}

/** `[A-Za-z0-9_.\-/]` */
function isKeyChar(code: number): boolean {
  return isKeyStart(code) || code === DOT || code === DASH || code === 47;
}

/**
 * `/^[A-Za-z0-9_][A-Za-z0-9_.\-/]*\s*:(?:\s|$)/` on `text` from `start` to `end`, without the regular expression:
 * where the colon is when a plain key starts there, -1 otherwise.
 */
function plainKeyColon(text: string, start: number, end: number): number {
  if (start >= end || !isKeyStart(text.charCodeAt(start))) return -1;
  let colon = plainKeyEnd(text, start, end);
  while (colon < end && isSpace(text.charCodeAt(colon))) colon++;
  if (colon >= end || text.charCodeAt(colon) !== COLON) return -1;
  return colon + 1 === end || isSpace(text.charCodeAt(colon + 1)) ? colon : -1;
}

/** The end of the name of a plain key that starts at `start`. */
function plainKeyEnd(text: string, start: number, end: number): number {
  let at = start + 1;
  while (at < end && isKeyChar(text.charCodeAt(at))) at++;
  return at;
}

function readQuotedKey(text: string): { name: string; length: number } | undefined {
  if (/^[?&*!|>%@`<]/.test(text)) return undefined;
  const quoted = QUOTED_KEY.exec(text);
  if (quoted) return { name: quoted[2] ?? quoted[3]!, length: quoted[0].length };
  return undefined;
}

/**
 * A value (`text` from `start` to `end`) the native parser reads exactly as the `yaml` library does: a one-line
 * scalar or flow collection.
 */
function isSimpleValue(text: string, start: number, end: number): boolean {
  if (start >= end) return true;
  const first = text.charCodeAt(start);
  // & * ! | > % @ `
  if (first === 38 || first === 42 || first === 33 || first === 124 || first === 62 || first === PERCENT || first === 64 || first === 96) {
    return false;
  }
  if (first === 123 || first === 91) return isClosedFlowWithoutDuplicates(text.slice(start, end));
  if (first === DOUBLE_QUOTE) return isDoubleQuoted(text, start, end);
  if (first === SINGLE_QUOTE) return /^'(?:[^']|'')*'$/.test(text.slice(start, end));
  return !hasColonSpaceOrSpaceHash(text, start, end);
}

/** `/^"(?:[^"\\]|\\.)*"$/` on `text` from `start` (a double quote) to `end`. */
function isDoubleQuoted(text: string, start: number, end: number): boolean {
  for (let i = start + 1; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === DOUBLE_QUOTE) return i === end - 1;
    if (code === BACKSLASH) {
      if (i + 1 >= end || isLineTerminator(text.charCodeAt(i + 1))) return false;
      i++;
    }
  }
  return false;
}

/** `/:\s|\s#/`: a key indicator or a comment inside a plain scalar. */
function hasColonSpaceOrSpaceHash(text: string, start: number, end: number): boolean {
  for (let i = start; i + 1 < end; i++) {
    const code = text.charCodeAt(i);
    if (code === COLON ? isSpace(text.charCodeAt(i + 1)) : isSpace(code) && text.charCodeAt(i + 1) === HASH) return true;
  }
  return false;
}

/** A flow collection that closes on this line, with no repeated key in any of its mappings. */
function isClosedFlowWithoutDuplicates(text: string): boolean {
  const stack: Array<{ kind: "{" | "["; keys: Set<string> }> = [];
  let token = "";
  const flushKey = (): boolean => {
    const top = stack.at(-1);
    const name = token.trim().replace(/^(["'])(.*)\1$/, "$2");
    token = "";
    if (!top || top.kind !== "{") return true;
    if (name === "" || /^[?&*!<]/.test(name) || top.keys.has(name)) return false;
    top.keys.add(name);
    return true;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = ch === '"' ? findDoubleQuoteEnd(text, i) : text.indexOf("'", i + 1);
      if (end < 0) return false;
      token += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (ch === "{" || ch === "[") {
      stack.push({ kind: ch, keys: new Set() });
      token = "";
    } else if (ch === "}" || ch === "]") {
      const top = stack.pop();
      if (!top || (ch === "}" ? top.kind !== "{" : top.kind !== "[")) return false;
      token = "";
      if (stack.length === 0) return text.slice(i + 1).trim() === "";
    } else if (ch === ":" && stack.at(-1)?.kind === "{" && /[\s,{}\]]/.test(text[i + 1] ?? " ")) {
      if (!flushKey()) return false;
    } else if (ch === ",") {
      token = "";
    } else if ((ch === "&" || ch === "*" || ch === "!") && token.trim() === "") {
      return false;
    } else {
      token += ch;
    }
  }
  return false;
}

function findDoubleQuoteEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * Where the content of `text` from `start` to `end` ends: before a trailing comment and the spaces before it, or
 * before the line's trailing spaces; -1 when a quote does not close on the line.
 */
function contentEnd(text: string, start: number, end: number): number {
  let quote = 0;
  let stop = end;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (quote !== 0) {
      if (quote === DOUBLE_QUOTE && code === BACKSLASH) i++;
      else if (code === quote) {
        if (quote === SINGLE_QUOTE && i + 1 < end && text.charCodeAt(i + 1) === SINGLE_QUOTE) i++;
        else quote = 0;
      }
      continue;
    }
    if ((code === DOUBLE_QUOTE || code === SINGLE_QUOTE) && (i === start || opensQuote(text.charCodeAt(i - 1)))) quote = code;
    else if (code === HASH && (i === start || isSpace(text.charCodeAt(i - 1)))) {
      stop = i;
      break;
    }
  }
  if (quote !== 0) return -1;
  while (stop > start && isSpace(text.charCodeAt(stop - 1))) stop--;
  return stop;
}

/** `[\s:,[{-]`: what may stand before a quote that opens a quoted scalar. */
function opensQuote(code: number): boolean {
  return isSpace(code) || code === COLON || code === COMMA || code === 91 || code === 123 || code === DASH;
}
