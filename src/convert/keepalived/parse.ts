/**
 * keepalived.conf as a tree of located directives: one directive per line (its words), `{ }` opening and closing
 * blocks (also written on their own line), `#` and `!` comments, double-quoted words, `include` with globs relative
 * to the including file's folder. Pure: files come from an injected SourceReader.
 */

import { expandGlob, hasGlob } from "../glob.ts";
import { ConvertError, type Location } from "../issues.ts";
import { type IncludeState, readIncluded, type SourceReader } from "../source.ts";

export interface KDirective extends Location {
  name: string;
  args: string[];
  block?: KDirective[];
}

export interface KeepalivedConfig {
  main: string;
  files: string[];
  directives: KDirective[];
}

export const MAX_NESTING = 200;

interface Word {
  text: string;
  line: number;
  column: number;
  brace: boolean;
}

type State = IncludeState;

export function parseKeepalived(reader: SourceReader, main: string): KeepalivedConfig {
  const state: State = { reader, files: [], bytes: 0, stack: [] };
  const directives: KDirective[] = [];
  parseFile(state, main, directives, 0, undefined);
  return { main, files: state.files, directives };
}

function parseFile(state: State, file: string, into: KDirective[], depth: number, includedAt: Location | undefined): void {
  readIncluded(state, file, includedAt, (text) => parseText(state, file, text, into, depth));
}

function lineWords(text: string, line: number, file: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t" || ch === "\r") {
      i++;
      continue;
    }
    if (ch === "#" || ch === "!") break;
    if (ch === "{" || ch === "}") {
      words.push({ text: ch, line, column: i + 1, brace: true });
      i++;
      continue;
    }
    const start = i;
    if (ch === '"') {
      const close = text.indexOf('"', i + 1);
      if (close === -1) throw new ConvertError("syntax", 'unterminated quoted string, expecting a closing "', { file, line, column: i + 1 });
      words.push({ text: text.slice(i + 1, close), line, column: start + 1, brace: false });
      i = close + 1;
      continue;
    }
    while (i < text.length && !" \t\r{}".includes(text[i]!)) i++;
    words.push({ text: text.slice(start, i), line, column: start + 1, brace: false });
  }
  return words;
}

function parseText(state: State, file: string, text: string, top: KDirective[], baseDepth: number): void {
  const blocks: Array<{ children: KDirective[]; opener?: KDirective }> = [{ children: top }];
  const lines = text.split("\n");
  let last: KDirective | undefined;
  for (let n = 0; n < lines.length; n++) {
    const words = lineWords(lines[n]!, n + 1, file);
    let current: KDirective | undefined;
    for (const word of words) {
      const frame = blocks[blocks.length - 1]!;
      if (word.brace && word.text === "{") {
        const opener = current ?? last;
        if (!opener || opener.block) throw new ConvertError("syntax", 'unexpected "{", expecting a keyword before it', { file, line: word.line, column: word.column });
        if (baseDepth + blocks.length > MAX_NESTING) throw new ConvertError("syntax", `blocks nested deeper than ${MAX_NESTING} levels`, { file, line: word.line, column: word.column });
        opener.block = [];
        blocks.push({ children: opener.block, opener });
        current = undefined;
        last = undefined;
        continue;
      }
      if (word.brace) {
        if (!frame.opener) throw new ConvertError("syntax", 'unexpected "}": no block is open here', { file, line: word.line, column: word.column });
        blocks.pop();
        current = undefined;
        last = undefined;
        continue;
      }
      if (current) {
        current.args.push(word.text);
        continue;
      }
      current = { name: word.text, args: [], file, line: word.line, column: word.column };
      if (current.name !== "include") frame.children.push(current);
    }
    if (current?.name === "include") {
      includeFiles(state, current, blocks[blocks.length - 1]!.children, baseDepth + blocks.length - 1);
      current = undefined;
    }
    last = current;
  }
  const open = blocks[blocks.length - 1]!.opener;
  if (open) throw new ConvertError("syntax", `unexpected end of file, expecting "}" to close "${open.name}" opened at ${open.line}:${open.column}`, { file, line: lines.length, column: 1 });
}

function includeFiles(state: State, directive: KDirective, into: KDirective[], depth: number): void {
  if (directive.args.length !== 1) throw new ConvertError("syntax", `include needs one file or pattern, got ${directive.args.length}`, { file: directive.file, line: directive.line, column: directive.column });
  const arg = directive.args[0]!;
  const folder = directive.file.includes("/") ? directive.file.slice(0, directive.file.lastIndexOf("/")) || "/" : ".";
  const pattern = arg.startsWith("/") ? arg : folder === "." ? arg : `${folder.replace(/\/$/, "")}/${arg}`;
  const paths = hasGlob(pattern) ? expandGlob(pattern, state.reader) : [pattern];
  const at = { file: directive.file, line: directive.line, column: directive.column };
  for (const path of paths) parseFile(state, path, into, depth, at);
}
