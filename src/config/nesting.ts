/**
 * A cheap scan of how deeply a YAML text nests, run before either parser sees it: both parse recursively, and a
 * 200 KB file of 100,000 nested `[` (or `- - - ...`) cost minutes of CPU before failing with a stack overflow.
 * One pass, no allocation per character. It counts block collections by indentation and compact indicators
 * (`- `, `? `) and flow collections by `[`/`{` outside quotes, comments and block scalars; it may overcount a
 * level on odd layouts (no real config comes near the limit) and never sees less nesting than a parser would
 * build from what it skips.
 */

/** Collections nested deeper than this are refused (docs/configuration.md); real configs nest about 6 deep. */
export const MAX_NESTING_DEPTH = 64;

export interface TooDeep {
  line: number;
  column: number;
}

export function findTooDeep(text: string, limit = MAX_NESTING_DEPTH): TooDeep | undefined {
  if (tooShortToNest(text, limit)) return undefined;
  return new NestingScan(limit).run(text);
}

/**
 * Whether the scan below cannot find anything, known from line lengths and bracket counts alone (a 5,000-service file
 * of 65,000 short lines is then not walked character by character). Its block levels sit at strictly increasing
 * columns, each before the end of the line that opened it, so there are fewer of them than the longest line has
 * characters; its flow levels are no more than the text has `[` and `{`.
 */
function tooShortToNest(text: string, limit: number): boolean {
  let brackets = 0;
  for (const open of ["[", "{"]) {
    for (let at = text.indexOf(open); at >= 0 && brackets < limit; at = text.indexOf(open, at + 1)) brackets++;
  }
  const longest = limit - brackets; // the longest line allowed: its levels plus every bracket stay within the limit
  if (longest <= 0) return false;
  // A line longer than that, found by one native search (a line break or the start, then that many characters).
  return !new RegExp(`(?:^|\\n)[^\\n]{${longest + 1}}`).test(text);
}

class NestingScan {
  /** Indentation columns of the open block collections. */
  readonly #blocks: number[] = [];
  #flow = 0;
  /** An open quoted scalar continuing on the next line. */
  #quote: '"' | "'" | undefined;
  /** Inside a block scalar: lines indented deeper than this (or blank) are its text. */
  #blockScalarParent: number | undefined;
  #line = "";
  #lineNumber = 0;

  constructor(readonly limit: number) {}

  run(text: string): TooDeep | undefined {
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      this.#line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
      this.#lineNumber++;
      const column = this.#scanLine();
      if (column !== undefined) return { line: this.#lineNumber, column: column + 1 };
      start = end + 1;
    }
    return undefined;
  }

  /** The column where the limit is passed, if it is on this line. */
  #scanLine(): number | undefined {
    const line = this.#line;
    const indent = leadingSpaces(line);
    if (this.#blockScalarParent !== undefined) {
      if (indent === line.length || indent > this.#blockScalarParent) return undefined;
      this.#blockScalarParent = undefined;
    }
    let pos = 0;
    if (this.#quote) {
      const end = quoteEnd(line, -1, this.#quote);
      if (end < 0) return undefined;
      this.#quote = undefined;
      pos = end + 1;
      return this.#flow > 0 ? this.#scanFlow(pos) : undefined;
    }
    if (this.#flow > 0) return this.#scanFlow(0);
    if (indent === line.length || line[indent] === "#") return undefined;
    if (/^(---|\.\.\.)(\s|$)/.test(line)) {
      this.#blocks.length = 0; // a new document starts from nothing
      pos = 3;
    } else {
      while (this.#blocks.length > 0 && this.#blocks.at(-1)! > indent) this.#blocks.pop();
      if (this.#blocks.length === 0 || this.#blocks.at(-1)! < indent) this.#blocks.push(indent);
      if (this.#blocks.length > this.limit) return indent;
      pos = indent;
    }
    return this.#scanNode(pos);
  }

  /** A block node starting at `pos`: compact collections, then a key, a flow collection, quotes or a block scalar. */
  #scanNode(start: number): number | undefined {
    const line = this.#line;
    let pos = skipSpaces(line, start);
    for (;;) {
      // `- - x` and `? x` open a collection per indicator, at the column of what follows it (after a key or an
      // anchor too: invalid YAML, but a parser still builds it before it says so).
      for (let before = -1; before !== pos; ) {
        before = pos;
        pos = skipProperties(line, pos);
        while ((line[pos] === "-" || line[pos] === "?" || line[pos] === ":") && (pos + 1 === line.length || line[pos + 1] === " ")) {
          const next = skipSpaces(line, pos + 1);
          if (next >= line.length || line[next] === "#") return undefined;
          if (this.#blocks.length === 0 || this.#blocks.at(-1)! < next) this.#blocks.push(next);
          if (this.#blocks.length > this.limit) return next;
          pos = next;
        }
      }
      const ch = line[pos];
      if (ch === "[" || ch === "{") return this.#scanFlow(pos);
      if (ch === "|" || ch === ">") {
        this.#blockScalarParent = this.#blocks.at(-1) ?? -1;
        return undefined;
      }
      let keyEnd: number;
      if (ch === '"' || ch === "'") {
        const end = quoteEnd(line, pos, ch);
        if (end < 0) {
          this.#quote = ch;
          return undefined;
        }
        keyEnd = end + 1;
      } else {
        keyEnd = pos;
      }
      // A key (`name:` followed by a space or the end): its value, if on this line, is another node. A key after
      // a key (`a: b: c`, invalid) is a mapping inside the first one's value.
      const colon = findKeyColon(line, keyEnd);
      if (colon < 0) return undefined;
      if (this.#blocks.length === 0 || this.#blocks.at(-1)! < pos) this.#blocks.push(pos);
      if (this.#blocks.length > this.limit) return pos;
      pos = skipSpaces(line, colon + 1);
      if (pos >= line.length || line[pos] === "#") return undefined;
    }
  }

  /** Flow collections from `start` to the end of the line (they may continue on the next lines). */
  #scanFlow(start: number): number | undefined {
    const line = this.#line;
    let tokenStart = true; // at a place where a quoted scalar may begin
    for (let pos = start; pos < line.length; pos++) {
      const ch = line[pos]!;
      if (ch === "[" || ch === "{") {
        this.#flow++;
        if (this.#blocks.length + this.#flow > this.limit) return pos;
        tokenStart = true;
      } else if (ch === "]" || ch === "}") {
        this.#flow = Math.max(0, this.#flow - 1);
        if (this.#flow === 0) return undefined; // what follows a closed flow collection on its line is no deeper
        tokenStart = false;
      } else if ((ch === '"' || ch === "'") && tokenStart) {
        const end = quoteEnd(line, pos, ch);
        if (end < 0) {
          this.#quote = ch;
          return undefined;
        }
        pos = end;
        tokenStart = false;
      } else if (ch === "#" && (pos === 0 || line[pos - 1] === " " || line[pos - 1] === "\t")) {
        return undefined;
      } else if (ch === "," || ch === ":") {
        tokenStart = true;
      } else if (ch !== " " && ch !== "\t") {
        tokenStart = false;
      }
    }
    return undefined;
  }
}

function leadingSpaces(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === " " || line[pos] === "\t") pos++;
  return pos;
}

/** Past `&anchor` and `!tag` properties. */
function skipProperties(line: string, pos: number): number {
  while (line[pos] === "&" || line[pos] === "!") {
    while (pos < line.length && line[pos] !== " ") pos++;
    pos = skipSpaces(line, pos);
  }
  return pos;
}

/** Index of the quote closing the one at `open` (-1 when it does not close on this line). */
function quoteEnd(line: string, open: number, quote: '"' | "'"): number {
  for (let i = open + 1; i < line.length; i++) {
    const ch = line[i];
    if (quote === '"' && ch === "\\") i++;
    else if (ch === quote) {
      if (quote === "'" && line[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

/** The `:` ending a plain key that starts at `from` (a colon followed by a space or the end), or -1. */
function findKeyColon(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    const ch = line[i];
    if (ch === "#" && (i === 0 || line[i - 1] === " ")) return -1;
    if (ch === ":" && (i + 1 === line.length || line[i + 1] === " " || line[i + 1] === "\t")) return i;
  }
  return -1;
}
