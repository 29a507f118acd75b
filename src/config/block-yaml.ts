/**
 * The common case of the fast path, read in one pass: block mappings and sequences of one-line scalars, the shape
 * of every generated config and of most written ones. Bun's native parser took longer on a 5,000-service file
 * (1.3 MB, 70,000 lines) than the scan that vouches for it; this reader builds the data while it scans, so such a
 * file is read once instead of twice.
 *
 * It answers only for text it reads exactly as Bun's parser and the `yaml` library do (tests/config/block-yaml
 * compares all three on mutated inputs), and gives up (undefined) on anything else: nested or multi-line flow
 * collections, escapes, anchors, tags, block scalars, multi-line scalars, compact nested sequences, plain scalars
 * that another YAML version or schema could read as a number, boolean or null, tabs and control characters. The
 * caller then takes the scan and the native parser, as before; duplicate keys make it give up too.
 */

const TAB = 9;
const SPACE = 32;
const DOUBLE_QUOTE = 34;
const HASH = 35;
const SINGLE_QUOTE = 39;
const DASH = 45;
const COLON = 58;
const BACKSLASH = 92;

/** What a scalar reader returns when the text is not for this reader. */
const GIVE_UP: unique symbol = Symbol("give up");
type Scalar = string | number | boolean | null;
type Value = Scalar | unknown[] | Record<string, unknown>;

type Container = unknown[] | Record<string, unknown>;

/** The config's key names are a few dozen; a file of other names still reads, only without this shortcut. */
const MAX_KNOWN_KEYS = 32;

/**
 * `final` tells that the data holds no null and no string with a `$`: the `${NAME}` expansion and the removal of
 * null keys (document.ts) would leave it as it is.
 */
export function parseBlockYaml(text: string): { data: unknown; final: boolean } | undefined {
  const reader = new BlockReader(text);
  let start = 0;
  for (;;) {
    let end = text.indexOf("\n", start);
    const last = end < 0;
    if (last) end = text.length;
    // A CR before the line feed ends the line; a CR at the end of the text is left in, and given up on.
    const cut = !last && end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (!reader.line(start, cut)) return undefined;
    if (last) return { data: reader.root ?? null, final: reader.final && reader.pendingNull === false };
    start = end + 1;
  }
}

class BlockReader {
  readonly #text: string;
  // The open collections, innermost last, in parallel arrays (no object per collection): the column of their `-`
  // indicators or keys, the collection, and whether it is a sequence at the column of the key that holds it
  // (`key:` then `- item` below, not indented).
  readonly #indents: number[] = [];
  readonly #open: Container[] = [];
  readonly #isList: boolean[] = [];
  readonly #atKeyColumn: boolean[] = [];
  /** How many of them are open: the arrays are not shortened when collections close (only overwritten). */
  #depth = 0;
  // A `key:` or `-` with nothing after it: the next deeper line opens its collection, or its value is null.
  #pending: Container | undefined;
  #pendingKey: string | number = 0;
  #pendingIndent = 0;
  #pendingFromKey = false;
  #started = false;
  /** Key names seen so far, by length (see #keyName). */
  readonly #keysByLength: Array<string[] | undefined> = [];
  #knownKeys = 0;
  // Native searches for the common forms of a line, so that most characters are not read one call at a time (a
  // cold start runs this in the interpreter, where each charCodeAt is a call). Each only shortcuts the reading by
  // character that follows it, and stops at the line's end (a CR counts only before a line feed, as in `line`).
  // Per reader: a global or sticky expression keeps its position in `lastIndex`.
  /** The first character that is not a space. */
  readonly #notSpace = /[^ ]/g;
  /** A plain key as `keyColon` takes it, its colon, and the spaces after it. */
  readonly #plainKey = /[A-Za-z0-9_][A-Za-z0-9_.\/-]*:(?: +|(?=\r\n|\n|$))/y;
  /** A plain scalar of these characters alone up to the line's end, which `scalar` reads whole. */
  readonly #plainWord = /[A-Za-z0-9_][A-Za-z0-9_.\/-]*(?=\r\n|\n|$)/y;
  /** A quoted scalar of visible ASCII characters and spaces (no escape, no inner quote) closing at the line's end. */
  readonly #quoted = /(?:"[ !#-[\]-~]*"|'[ -&(-~]*')(?=\r\n|\n|$)/y;
  root: Container | undefined;
  /** Whether the text has a `$` at all (without one, no string value needs to be searched for it). */
  readonly #dollars: boolean;
  /** No null and no `$` so far. */
  final = true;

  constructor(text: string) {
    this.#text = text;
    this.#dollars = text.includes("$");
  }

  /** Whether a `key:` or `-` at the end still waits for its collection (its value is then null). */
  get pendingNull(): boolean {
    return this.#pending !== undefined;
  }

  /** Reads the line from `start` to `end` (its line break excluded); false means "not for this reader". */
  line(start: number, end: number): boolean {
    const text = this.#text;
    const notSpace = this.#notSpace;
    notSpace.lastIndex = start;
    const found = notSpace.test(text) ? notSpace.lastIndex - 1 : end;
    const at = found < end ? found : end;
    if (at === end) return true;
    const first = text.charCodeAt(at);
    if (first === HASH) return isPlainComment(text, at, end);
    if (at === start && !this.#started && text.startsWith("---", start)) {
      // One leading document marker, alone on its line.
      this.#started = true;
      return onlySpaces(text, start + 3, end);
    }
    this.#started = true;
    const column = at - start;
    if (first === DASH && (at + 1 === end || text.charCodeAt(at + 1) === SPACE)) return this.#item(column, at, start, end);
    const colon = this.#keyColon(at, end);
    if (colon < 0) return false;
    const map = this.#enter(column, false);
    return map !== undefined && this.#entry(map as Record<string, unknown>, column, at, colon, end);
  }

  /** `keyColon`, with the native search first; `#valueAt` is then where the spaces after the colon end. */
  #keyColon(at: number, end: number): number {
    const plainKey = this.#plainKey;
    plainKey.lastIndex = at;
    if (!plainKey.test(this.#text)) {
      this.#valueAt = -1;
      return keyColon(this.#text, at, end);
    }
    const valueAt = plainKey.lastIndex;
    this.#valueAt = valueAt < end ? valueAt : end;
    return this.#text.indexOf(":", at);
  }

  /** Where the value after the last key found by `#keyColon` starts, when its search found it (-1 otherwise). */
  #valueAt = -1;

  /** `scalar`, with native searches first for a whole-line plain word or a simple quoted scalar. */
  #scalar(start: number, end: number): Value | typeof GIVE_UP {
    const text = this.#text;
    const plainWord = this.#plainWord;
    plainWord.lastIndex = start;
    if (plainWord.test(text) && plainWord.lastIndex === end) return plainScalar(text.slice(start, end));
    const quoted = this.#quoted;
    quoted.lastIndex = start;
    if (quoted.test(text) && quoted.lastIndex === end) return text.slice(start + 1, end - 1);
    return scalar(text, start, end);
  }

  /** A sequence item: `-` alone, `- scalar`, or `- key: ...` (a mapping that starts on the item's line). */
  #item(column: number, at: number, start: number, end: number): boolean {
    const text = this.#text;
    const list = this.#enter(column, true) as unknown[] | undefined;
    if (list === undefined) return false;
    let next = at + 1;
    while (next < end && text.charCodeAt(next) === SPACE) next++;
    if (next === end || text.charCodeAt(next) === HASH) {
      if (next < end && !isPlainComment(text, next, end)) return false;
      list[list.length] = null;
      this.#wait(list, list.length - 1, column, false);
      return true;
    }
    const code = text.charCodeAt(next);
    if (code === DASH && (next + 1 === end || text.charCodeAt(next + 1) === SPACE)) return false;
    const colon = this.#keyColon(next, end);
    if (colon >= 0) {
      const map: Record<string, unknown> = {};
      list[list.length] = map;
      const itemColumn = next - start;
      this.#push(itemColumn, map, false, false);
      return this.#entry(map, itemColumn, next, colon, end);
    }
    const value = this.#scalar(next, end);
    if (value === GIVE_UP) return false;
    list[list.length] = value;
    this.#check(value);
    return true;
  }

  /** `key: value` or `key:` at `column`, in `map`; the key's colon is at `colon`. */
  #entry(map: Record<string, unknown>, column: number, at: number, colon: number, end: number): boolean {
    const text = this.#text;
    const valueAt = this.#valueAt;
    const name = this.#keyName(at, colon);
    // A key read before is an own property; a name found on Object.prototype is asked about (few files have one).
    if (name === undefined || (map[name] !== undefined && Object.hasOwn(map, name))) return false;
    let next = valueAt;
    if (next < 0) {
      next = colon + 1;
      while (next < end && text.charCodeAt(next) === SPACE) next++;
    }
    if (next === end || text.charCodeAt(next) === HASH) {
      if (next < end && !isPlainComment(text, next, end)) return false;
      map[name] = null;
      this.#wait(map, name, column, true);
      return true;
    }
    const value = this.#scalar(next, end);
    if (value === GIVE_UP) return false;
    map[name] = value;
    this.#check(value);
    return true;
  }

  /**
   * The key from `at` to `colon`, undefined when it is not a plain string. A config repeats a few key names
   * thousands of times: each is sliced and checked once, then found among the names seen so far.
   */
  #keyName(at: number, colon: number): string | undefined {
    const text = this.#text;
    const length = colon - at;
    const known = this.#keysByLength[length];
    if (known !== undefined) {
      for (let i = 0; i < known.length; i++) {
        const name = known[i]!;
        if (text.startsWith(name, at)) return name;
      }
    }
    const name = text.slice(at, colon);
    if (plainScalar(name) !== name || name === "__proto__") return undefined;
    if (this.#knownKeys < MAX_KNOWN_KEYS) {
      this.#knownKeys++;
      if (known === undefined) this.#keysByLength[length] = [name];
      else known.push(name);
    }
    return name;
  }

  #wait(container: Container, key: string | number, indent: number, fromKey: boolean): void {
    this.#pending = container;
    this.#pendingKey = key;
    this.#pendingIndent = indent;
    this.#pendingFromKey = fromKey;
  }

  /**
   * The collection a line at `column` belongs to (a sequence for an item, a mapping for a key): a new one for a
   * pending `key:` or `-`, the root, or an open one at that column; undefined when the layout is not plain.
   */
  #enter(column: number, item: boolean): Container | undefined {
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      const atKeyColumn = item && this.#pendingFromKey && column === this.#pendingIndent;
      if (column > this.#pendingIndent || atKeyColumn) {
        const opened = item ? [] : {};
        (pending as Record<string | number, unknown>)[this.#pendingKey] = opened;
        this.#push(column, opened, item, atKeyColumn);
        return opened;
      }
      this.final = false; // its value stays null
    }
    const indents = this.#indents;
    let depth = this.#depth;
    if (depth === 0) {
      if (column !== 0 || this.root !== undefined) return undefined;
      const opened = item ? [] : {};
      this.root = opened;
      this.#push(column, opened, item, false);
      return opened;
    }
    while (indents[depth - 1]! > column || (indents[depth - 1] === column && this.#atKeyColumn[depth - 1] && !item)) {
      depth--;
      if (depth === 0) return undefined;
    }
    this.#depth = depth;
    if (indents[depth - 1] !== column) return undefined;
    return this.#isList[depth - 1] === item ? this.#open[depth - 1] : undefined;
  }

  /** Notes a value that the expansion or the null removal would change (flow collections are not looked into). */
  #check(value: unknown): void {
    if (typeof value === "string" ? this.#dollars && value.includes("$") : value === null || typeof value === "object") this.final = false;
  }

  #push(column: number, container: Container, isList: boolean, atKeyColumn: boolean): void {
    // Appended by index: the same as push, without a call per array where the code is not compiled yet.
    const depth = this.#depth;
    this.#depth = depth + 1;
    this.#indents[depth] = column;
    this.#open[depth] = container;
    this.#isList[depth] = isList;
    this.#atKeyColumn[depth] = atKeyColumn;
  }
}

/** `[A-Za-z0-9_]` */
function isKeyStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
}

/** `[A-Za-z0-9_.\-/]` */
function isKeyChar(code: number): boolean {
  return isKeyStart(code) || code === 46 || code === DASH || code === 47;
}

/** Where the colon of a plain key that starts at `start` is (`name:` then a space or the end), -1 otherwise. */
function keyColon(text: string, start: number, end: number): number {
  if (!isKeyStart(text.charCodeAt(start))) return -1;
  let at = start + 1;
  while (at < end && isKeyChar(text.charCodeAt(at))) at++;
  if (at >= end || text.charCodeAt(at) !== COLON) return -1;
  return at + 1 === end || text.charCodeAt(at + 1) === SPACE ? at : -1;
}

/**
 * Characters this reader does not take in a line: control characters, what some readers take for a space or a line
 * break, and surrogates (a lone one is read differently by each parser; characters beyond the BMP are rare here).
 */
function isUnplainChar(code: number): boolean {
  if (code >= SPACE && code < 0x7f) return false;
  return code < SPACE || code <= 0xa0 || code === 0x2028 || code === 0x2029 || code === 0xfeff || (code >= 0xd800 && code <= 0xdfff);
}

/** A comment from `hash` to `end`: tabs allowed, no other control character or line separator. */
function isPlainComment(text: string, hash: number, end: number): boolean {
  for (let i = hash + 1; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code !== TAB && isUnplainChar(code)) return false;
  }
  return true;
}

function onlySpaces(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) !== SPACE) return false;
  return true;
}

/** After a quoted scalar that closed at `close`: only spaces, then the end or a comment. */
function restIsEmpty(text: string, close: number, end: number): boolean {
  let at = close + 1;
  while (at < end && text.charCodeAt(at) === SPACE) at++;
  return at === end || (at > close + 1 && text.charCodeAt(at) === HASH && isPlainComment(text, at, end));
}

/** The one-line scalar or flow collection from `start` (not a space) to the end of the line or its comment. */
function scalar(text: string, start: number, end: number): Value | typeof GIVE_UP {
  const first = text.charCodeAt(start);
  if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
    let doubled = false;
    for (let i = start + 1; i < end; i++) {
      const code = text.charCodeAt(i);
      if (isUnplainChar(code) || (code === BACKSLASH && first === DOUBLE_QUOTE)) return GIVE_UP;
      if (code !== first) continue;
      if (first === SINGLE_QUOTE && i + 1 < end && text.charCodeAt(i + 1) === SINGLE_QUOTE) {
        doubled = true;
        i++;
        continue;
      }
      if (!restIsEmpty(text, i, end)) return GIVE_UP;
      const inside = text.slice(start + 1, i);
      return doubled ? inside.replaceAll("''", "'") : inside;
    }
    return GIVE_UP;
  }
  if (first === 91 || first === 123) return flow(text, start, end);
  let stop = end;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (isUnplainChar(code)) return GIVE_UP;
    if (code === HASH && text.charCodeAt(i - 1) === SPACE) {
      if (!isPlainComment(text, i, end)) return GIVE_UP;
      stop = i;
      break;
    }
    if (code === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) return GIVE_UP;
    // The scan before this reader took such a quote for an opening one: left to the path that scan chose.
    if ((code === DOUBLE_QUOTE || code === SINGLE_QUOTE) && opensQuote(text.charCodeAt(i - 1))) return GIVE_UP;
  }
  while (text.charCodeAt(stop - 1) === SPACE) stop--;
  return plainScalar(text.slice(start, stop));
}

/**
 * A flow sequence or mapping of scalars that closes on its line (`[80, "8000-8010"]`, `{ port: 0 }`); nested
 * collections, empty entries, a trailing comma, keys without values and escapes are given up on.
 */
function flow(text: string, start: number, end: number): unknown[] | Record<string, unknown> | typeof GIVE_UP {
  const mapping = text.charCodeAt(start) === 123;
  const close = mapping ? 125 : 93;
  const list: unknown[] = [];
  const map: Record<string, unknown> = {};
  let at = skipSpaces(text, start + 1, end);
  if (at < end && text.charCodeAt(at) === close) return restIsEmpty(text, at, end) ? (mapping ? map : list) : GIVE_UP;
  for (;;) {
    let name = "";
    if (mapping) {
      const colon = keyColon(text, at, end);
      if (colon < 0) return GIVE_UP;
      name = text.slice(at, colon);
      if (plainScalar(name) !== name || name === "__proto__" || Object.hasOwn(map, name)) return GIVE_UP;
      at = skipSpaces(text, colon + 1, end);
    }
    const item = flowScalar(text, at, end);
    if (item === undefined) return GIVE_UP;
    if (mapping) map[name] = item.value;
    else list.push(item.value);
    at = skipSpaces(text, item.next, end);
    if (at >= end) return GIVE_UP;
    const code = text.charCodeAt(at);
    if (code === close) return restIsEmpty(text, at, end) ? (mapping ? map : list) : GIVE_UP;
    if (code !== 44) return GIVE_UP;
    at = skipSpaces(text, at + 1, end);
  }
}

/** A scalar inside a flow collection, and where it ends; undefined when it is not for this reader. */
function flowScalar(text: string, start: number, end: number): { value: Scalar; next: number } | undefined {
  if (start >= end) return undefined;
  const first = text.charCodeAt(start);
  if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
    for (let i = start + 1; i < end; i++) {
      const code = text.charCodeAt(i);
      if (isUnplainChar(code) || code === BACKSLASH) return undefined;
      if (code === first) {
        // A doubled single quote is left to the native parser here.
        if (i + 1 < end && text.charCodeAt(i + 1) === first) return undefined;
        return { value: text.slice(start + 1, i), next: i + 1 };
      }
    }
    return undefined;
  }
  let stop = start;
  while (stop < end) {
    const code = text.charCodeAt(stop);
    if (code === 44 || code === 93 || code === 125) break;
    if (isUnplainChar(code) || code === 91 || code === 123 || code === HASH || code === COLON || code === DOUBLE_QUOTE || code === SINGLE_QUOTE) {
      return undefined;
    }
    stop++;
  }
  let last = stop;
  while (last > start && text.charCodeAt(last - 1) === SPACE) last--;
  if (last === start) return undefined;
  const value = plainScalar(text.slice(start, last));
  return value === GIVE_UP ? undefined : { value, next: stop };
}

/** `[ :,[{-]`: what the scan takes to stand before an opening quote. */
function opensQuote(code: number): boolean {
  return code === SPACE || code === COLON || code === 44 || code === 91 || code === 123 || code === DASH;
}

function skipSpaces(text: string, start: number, end: number): number {
  let at = start;
  while (at < end && text.charCodeAt(at) === SPACE) at++;
  return at;
}

/** `[-?:,[\]{}#&*!|>'"%@\`~.+]`: indicators that start something other than a plain string, and starts of numbers, null and special floats. */
function isSpecialStart(code: number): boolean {
  switch (code) {
    case 45: case 63: case 58: case 44: case 91: case 93: case 123: case 125: case 35: case 38: case 42: case 33:
    case 124: case 62: case 39: case 34: case 37: case 64: case 96: case 126: case 46: case 43:
      return true;
    default:
      return false;
  }
}

/**
 * Words that one YAML version or another reads as a boolean, null or special float (`yes`, `off`, `.inf`...):
 * only the YAML 1.2 core forms below are taken, the others are left to the native parser.
 */
const DOUBTFUL_WORDS = new Set(["y", "yes", "n", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity"]);
const CORE_WORDS = new Map<string, boolean | null>([
  ["true", true],
  ["True", true],
  ["TRUE", true],
  ["false", false],
  ["False", false],
  ["FALSE", false],
  ["null", null],
  ["Null", null],
  ["NULL", null],
]);

/** Decimal groups joined by single dots, three or more (an IPv4 address), and decimal digits alone. */
const DOTTED_DECIMALS = /^[0-9]+(?:\.[0-9]+){2,}$/;
const DECIMAL = /^[0-9]+$/;
const NUMBER_LIKE_STRING = /^(?:[0-9]+(?:\.[0-9]+){2,}|[0-9]+-[0-9]+)$/;
const IPV6_LIKE = /^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/;
const HEX_LETTER = /[a-fA-F]/;

/** `[0-9a-fA-FxXoObB._:+\-]`: the characters of numbers in any YAML version (hex, octal, binary, sexagesimal). */
function isNumberChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 97 && code <= 102) ||
    (code >= 65 && code <= 70) ||
    code === 120 ||
    code === 88 ||
    code === 111 ||
    code === 79 ||
    code === 98 ||
    code === 66 ||
    code === 46 ||
    code === 95 ||
    code === COLON ||
    code === 43 ||
    code === DASH
  );
}

/**
 * A plain scalar's value: a string, a decimal integer without a leading zero, or a YAML 1.2 core boolean or null;
 * GIVE_UP for whatever readers could disagree on.
 */
function plainScalar(token: string): Scalar | typeof GIVE_UP {
  const first = token.charCodeAt(0);
  if (isSpecialStart(first)) return GIVE_UP;
  if (first >= 48 && first <= 57) {
    // The longer common forms, found by native searches first: what the reading below gives them.
    if (token.length > 3) {
      if (DOTTED_DECIMALS.test(token)) return token;
      if (DECIMAL.test(token)) return token.length <= 15 && (first !== 48 || token.length === 1) ? Number(token) : GIVE_UP;
    }
    let digits = true;
    // Digits in groups of one or more, separated by single dots (an IPv4 address is the common case).
    let dots = 0;
    let dotted = true;
    for (let i = 1; i < token.length; i++) {
      const code = token.charCodeAt(i);
      if (code < 48 || code > 57) {
        if (!isNumberChar(code)) return token;
        digits = false;
        if (code === 46 && token.charCodeAt(i - 1) !== 46) dots++;
        else dotted = false;
      }
    }
    if (digits) return token.length <= 15 && (first !== 48 || token.length === 1) ? Number(token) : GIVE_UP;
    if (dotted && dots >= 2 && token.charCodeAt(token.length - 1) !== 46) return token;
    // An IPv4 address, a port range "A-B" and an IPv6 address with `::` or a hex letter are numbers in no YAML
    // version (sexagesimal numbers have decimal digits between their colons); other number-like text is left out.
    return NUMBER_LIKE_STRING.test(token) || (IPV6_LIKE.test(token) && (token.includes("::") || HEX_LETTER.test(token))) ? token : GIVE_UP;
  }
  // y n o t f i, either case: the first letters of the doubtful words.
  const letter = first | 0x20;
  if (token.length <= 8 && (letter === 121 || letter === 110 || letter === 111 || letter === 116 || letter === 102 || letter === 105)) {
    const lower = token.toLowerCase();
    if (DOUBTFUL_WORDS.has(lower)) {
      const core = CORE_WORDS.get(token);
      return core === undefined ? GIVE_UP : core;
    }
  }
  return token;
}
