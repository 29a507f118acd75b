/**
 * nginx's configuration tokens, as ngx_conf_read_token reads them: words separated by blanks, `;`, `{` and `}`
 * ending or opening directives at a word's start, `#` comments at a word's start, single and double quotes with
 * backslash escapes, `${name}` inside a word, and a quoted word that must be followed by a blank, `;` or `{`.
 * Positions are 1-based; a column counts UTF-16 code units of the line, as editors do.
 */

import { ConvertError } from "../issues.ts";

export type Token =
  | { kind: "word"; value: string; quoted: boolean; line: number; column: number }
  | { kind: ";" | "{" | "}" | "eof"; line: number; column: number };

const isBlank = (ch: string) => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";

export class NginxLexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
    readonly file: string,
  ) {}

  private error(message: string, line = this.line, column = this.pos - this.lineStart + 1): ConvertError {
    return new ConvertError("syntax", message, { file: this.file, line, column });
  }

  private advance(): string {
    const ch = this.text[this.pos++]!;
    if (ch === "\n") {
      this.line++;
      this.lineStart = this.pos;
    }
    return ch;
  }

  next(): Token {
    const text = this.text;
    // Blanks and comments before the token.
    while (this.pos < text.length) {
      const ch = text.charCodeAt(this.pos);
      if (ch === 10) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (ch === 32 || ch === 9 || ch === 13) this.pos++;
      else if (ch === 35 /* # */) {
        const end = text.indexOf("\n", this.pos);
        this.pos = end === -1 ? text.length : end;
      } else break;
    }
    const line = this.line;
    const column = this.pos - this.lineStart + 1;
    if (this.pos >= text.length) return { kind: "eof", line, column };
    const ch = text[this.pos]!;
    if (ch === ";" || ch === "{" || ch === "}") {
      this.pos++;
      return { kind: ch, line, column };
    }
    if (ch === '"' || ch === "'") return this.quoted(ch, line, column);
    return this.bare(line, column);
  }

  private quoted(quote: string, line: number, column: number): Token {
    const text = this.text;
    this.pos++;
    const start = this.pos;
    for (;;) {
      if (this.pos >= text.length) throw this.error(`unexpected end of file in the ${quote === '"' ? "double" : "single"}-quoted string opened at ${line}:${column}, expecting ${quote}`, line, column);
      const ch = this.advance();
      if (ch === "\\" && this.pos < text.length) this.advance();
      else if (ch === quote) break;
    }
    const value = unescape(text.slice(start, this.pos - 1));
    const after = text[this.pos];
    // nginx also lets ")" follow (`if ($a = "b")`); it then starts the next word.
    if (after !== undefined && !isBlank(after) && after !== ";" && after !== "{" && after !== ")") {
      throw this.error(`unexpected "${after}" after the quoted string opened at ${line}:${column}, expecting a blank, ";" or "{"`);
    }
    return { kind: "word", value, quoted: true, line, column };
  }

  private bare(line: number, column: number): Token {
    const text = this.text;
    const start = this.pos;
    let variable = false;
    let escaped = false;
    let pos = this.pos;
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      if (code === 123 /* { */ && variable) {
        variable = false;
        pos++;
        continue;
      }
      variable = false;
      if (code === 92 /* \ */) {
        escaped = true;
        // An escaped newline still counts as a line.
        if (text.charCodeAt(pos + 1) === 10) {
          this.line++;
          this.lineStart = pos + 2;
        }
        pos += 2;
        continue;
      }
      if (code === 36 /* $ */) {
        variable = true;
        pos++;
        continue;
      }
      if (code === 32 || code === 9 || code === 13 || code === 10 || code === 59 /* ; */ || code === 123 /* { */) break;
      pos++;
    }
    this.pos = Math.min(pos, text.length);
    const raw = text.slice(start, this.pos);
    return { kind: "word", value: escaped ? unescape(raw) : raw, quoted: false, line, column };
  }

  /**
   * The body of a `*_by_lua_block { ... }` after its `{`, read as Lua (strings, long brackets and comments may hold
   * braces) up to the matching `}`; returned as opaque text.
   */
  luaBlock(openLine: number, openColumn: number): string {
    const text = this.text;
    const start = this.pos;
    let depth = 1;
    while (this.pos < text.length) {
      const ch = this.advance();
      if (ch === "{") depth++;
      else if (ch === "}") {
        if (--depth === 0) return text.slice(start, this.pos - 1);
      } else if (ch === '"' || ch === "'") {
        while (this.pos < text.length) {
          const inner = this.advance();
          if (inner === "\\" && this.pos < text.length) this.advance();
          else if (inner === ch || inner === "\n") break;
        }
      } else if (ch === "[" && this.longBracket()) {
        continue;
      } else if (ch === "-" && text[this.pos] === "-") {
        this.pos++;
        if (text[this.pos] === "[" && (this.pos++, this.longBracket())) continue;
        while (this.pos < text.length && text[this.pos] !== "\n") this.pos++;
      }
    }
    throw this.error(`unexpected end of file in the Lua block opened at ${openLine}:${openColumn}, expecting "}"`, openLine, openColumn);
  }

  /** After a `[`: skips a Lua long bracket `[==[ ... ]==]` if one starts here. */
  private longBracket(): boolean {
    const text = this.text;
    let level = 0;
    while (text[this.pos + level] === "=") level++;
    if (text[this.pos + level] !== "[") return false;
    const close = `]${"=".repeat(level)}]`;
    const end = text.indexOf(close, this.pos + level + 1);
    const stop = end === -1 ? text.length : end + close.length;
    while (this.pos < stop) this.advance();
    return true;
  }
}

/** nginx's unescaping of a word: \" \' \\ become the character, \t \r \n control characters; other pairs stay. */
function unescape(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== "\\" || i + 1 >= raw.length) {
      out += ch;
      continue;
    }
    const next = raw[i + 1]!;
    if (next === '"' || next === "'" || next === "\\") out += next;
    else if (next === "t") out += "\t";
    else if (next === "r") out += "\r";
    else if (next === "n") out += "\n";
    else out += `\\${next}`;
    i++;
  }
  return out;
}
