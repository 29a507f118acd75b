/**
 * The fast path of config loading. `lbctl validate` runs from cron on every host, and the `yaml` library's first
 * parse costs tens of milliseconds of cold start; Bun's native parser costs well under one. The native parser keeps
 * no positions and accepts duplicate keys, so this path is taken only for files it can vouch for: a conservative
 * scan rejects duplicate keys, and anything it does not fully understand (anchors, tags, block scalars,
 * multi-line flow collections...) sends the file to the `yaml` library. Any problem found later also re-runs the
 * load on the slow path, which reports positions; so both paths always agree on what is valid.
 */

/** Whether `text` is plain enough for the native parser, with no duplicate keys. */
export function isPlainYaml(text: string): boolean {
  const scanner = new DuplicateKeyScanner();
  for (const rawLine of text.split("\n")) {
    if (!scanner.line(rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine)) return false;
  }
  return true;
}

/** Bun's YAML parser, or undefined when the text is not for the fast path or does not parse. */
export function parseFast(text: string): { data: unknown } | undefined {
  if (!isPlainYaml(text)) return undefined;
  try {
    return { data: Bun.YAML.parse(text) ?? null };
  } catch {
    return undefined;
  }
}

const PLAIN_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.\-/]*)\s*:(?:\s|$)/;
const QUOTED_KEY = /^("([^"\\]*)"|'([^']*)')\s*:(?:\s|$)/;

interface MappingLevel {
  indent: number;
  keys: Set<string>;
}

class DuplicateKeyScanner {
  #levels: MappingLevel[] = [];
  #started = false;

  /** Feeds one line; false means "not for the fast path". */
  line(line: string): boolean {
    if (/^\s*(#.*)?$/.test(line)) return true;
    if (line.startsWith("---") || line.startsWith("...") || line.startsWith("%")) {
      // One leading document marker is fine; anything more is a multi-document stream.
      if (line.trim() !== "---" || this.#started) return false;
      return true;
    }
    this.#started = true;
    const indentMatch = /^( *)/.exec(line)!;
    if (line[indentMatch[1]!.length] === "\t") return false;
    let column = indentMatch[1]!.length;
    let rest = stripComment(line.slice(column));
    if (rest === undefined) return false;
    // Sequence indicators: each "- " opens a new item, whose mapping (if any) starts fresh.
    while (rest === "-" || rest.startsWith("- ")) {
      this.#closeDeeperThan(column);
      const after = rest.slice(1);
      const spaces = /^ */.exec(after)![0].length;
      if (after.trim() === "") return true;
      column += 1 + spaces;
      rest = after.slice(spaces);
      this.#closeDeeperThan(column - 1);
    }
    const key = readKey(rest);
    if (key === undefined) {
      // A line that is neither a key nor an item is a scalar continuation or a flow collection: plain only
      // when it is a single-line flow collection or scalar directly in a sequence item.
      return this.#levels.length === 0 && column === 0 ? false : isSimpleValue(rest) && line.trimStart().startsWith("-");
    }
    if (!this.#addKey(column, key.name)) return false;
    return isSimpleValue(rest.slice(key.length).trim());
  }

  #closeDeeperThan(column: number): void {
    while (this.#levels.length > 0 && this.#levels.at(-1)!.indent > column) this.#levels.pop();
  }

  #addKey(column: number, name: string): boolean {
    this.#closeDeeperThan(column);
    const top = this.#levels.at(-1);
    if (top && top.indent === column) {
      if (top.keys.has(name)) return false;
      top.keys.add(name);
      return true;
    }
    this.#levels.push({ indent: column, keys: new Set([name]) });
    return true;
  }
}

function readKey(text: string): { name: string; length: number } | undefined {
  if (/^[?&*!|>%@`<]/.test(text)) return undefined;
  const plain = PLAIN_KEY.exec(text);
  if (plain) return { name: plain[1]!, length: plain[0].length };
  const quoted = QUOTED_KEY.exec(text);
  if (quoted) return { name: quoted[2] ?? quoted[3]!, length: quoted[0].length };
  return undefined;
}

/** A value the native parser reads exactly as the `yaml` library does: a one-line scalar or flow collection. */
function isSimpleValue(value: string): boolean {
  if (value === "") return true;
  if (/^[&*!|>%@`]/.test(value)) return false;
  if (value.startsWith("{") || value.startsWith("[")) return isClosedFlowWithoutDuplicates(value);
  if (value.startsWith('"')) return /^"(?:[^"\\]|\\.)*"$/.test(value);
  if (value.startsWith("'")) return /^'(?:[^']|'')*'$/.test(value);
  return !/:\s|\s#/.test(value);
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

/** The line without a trailing comment, or undefined when a quote does not close on this line. */
function stripComment(text: string): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (quote === '"' && ch === "\\") i++;
      else if (ch === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = undefined;
      }
      continue;
    }
    if ((ch === '"' || ch === "'") && (i === 0 || /[\s:,[{-]/.test(text[i - 1]!))) quote = ch;
    else if (ch === "#" && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i).trimEnd();
  }
  return quote ? undefined : text.trimEnd();
}
