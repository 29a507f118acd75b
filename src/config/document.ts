/**
 * YAML text to plain data, keeping where every value came from (line:column per key path) and expanding
 * `${NAME}` inside scalar values after parsing.
 */

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { expandEnv, wholeReference, type Environment } from "./env.ts";
import type { ConfigIssue } from "./errors.ts";

/** A scalar that was exactly `${NAME}`: it may become a number or boolean where the schema wants one. */
export class EnvValue {
  constructor(
    readonly text: string,
    readonly variable: string,
  ) {}
  toString(): string {
    return this.text;
  }
}

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  data: unknown;
  /** Where the value at `path` starts (the nearest known ancestor when the key is absent). */
  locate(path: string): Position;
  /** Where the key of `path` starts (used for unknown keys). */
  locateKey(path: string): Position;
}

export type ParseResult = { ok: true; source: YamlSource } | { ok: false; issues: ConfigIssue[] };

const MAX_ALIAS_EXPANSIONS = 1000;
const MAX_DEPTH = 64;

export function parseYamlSource(file: string, text: string, env: Environment): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number | undefined): Position => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntaxError = doc.errors[0];
  if (syntaxError?.code === "MULTIPLE_DOCS") {
    const at = position(syntaxError.pos[0]);
    const marker = /^---/.test(text.split("\n")[at.line - 1] ?? "") ? `the "---" on line ${at.line}` : `line ${at.line}`;
    const message = `a config file holds one YAML document, but a second one starts at ${marker}: remove that marker, or move what follows into a file of its own`;
    return { ok: false, issues: [{ file, ...at, path: "", message }] };
  }
  if (syntaxError) {
    // Later parser errors are almost always consequences of the first one: report that one only.
    const at = position(syntaxError.pos[0]);
    const line = text.split("\n")[at.line - 1] ?? "";
    // indexOf, not a regex with `.*`: a line of 25,000 brackets made that backtrack for seconds.
    const open = line.search(/[{[]/);
    const hint = open >= 0 && line.includes("${", open) ? ' (inside { } or [ ], quote a ${VAR} value: "${VAR}")' : "";
    return {
      ok: false,
      issues: [{ file, ...at, path: "", message: `YAML syntax error: ${firstLine(syntaxError.message)}${hint}` }],
    };
  }
  const walker = new Walker(file, doc, env, position);
  const data = doc.contents === null ? null : walker.toData(doc.contents as Node, "", 0);
  if (walker.issues.length > 0) return { ok: false, issues: walker.issues };
  const locate = (table: Map<string, Position>) => (path: string): Position => {
    for (let p = path; ; p = parentPath(p)) {
      const found = table.get(p);
      if (found) return found;
      if (p === "") return { line: 1, column: 1 };
    }
  };
  return {
    ok: true,
    source: { file, data, locate: locate(walker.values), locateKey: locate(walker.keys) },
  };
}

export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut <= 0 ? "" : path.slice(0, cut);
}

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

class Walker {
  readonly issues: ConfigIssue[] = [];
  readonly values = new Map<string, Position>();
  readonly keys = new Map<string, Position>();
  #aliases = 0;

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly env: Environment,
    private readonly position: (offset: number | undefined) => Position,
  ) {}

  toData(node: Node, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.#issue(node, path, `nesting deeper than ${MAX_DEPTH} levels`);
      return null;
    }
    if (!this.values.has(path)) this.values.set(path, this.position(node.range?.[0]));
    const tag = disallowedTag(node);
    if (tag) {
      this.#issue(node, path, `the tag ${tag} is not allowed: config values are plain strings, numbers, booleans, lists and mappings (remove the tag${tag === "!!binary" ? "; binary data goes in payload_hex/expect_hex as hex" : ""})`);
      return null;
    }
    if (isAlias(node)) {
      if (++this.#aliases > MAX_ALIAS_EXPANSIONS) {
        this.#issue(node, path, `more than ${MAX_ALIAS_EXPANSIONS} alias expansions`);
        return null;
      }
      const target = node.resolve(this.doc);
      return target ? this.toData(target, path, depth + 1) : null;
    }
    if (isScalar(node)) return this.#scalar(node.value, node, path);
    if (isSeq(node)) return node.items.map((item, i) => this.toData(item as Node, childPath(path, i), depth + 1));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        // The yaml library represents a merge key as a Symbol-valued scalar.
        const isMerge = isScalar(keyNode) && (typeof keyNode.value === "symbol" || keyNode.value === "<<");
        const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
        if (isMerge) {
          this.#merge(out, pair.value as Node, path, depth);
          continue;
        }
        if (key === undefined) {
          this.#issue(keyNode ?? node, path, "keys must be plain scalars");
          continue;
        }
        const child = childPath(path, key);
        this.keys.set(child, this.position(keyNode?.range?.[0]));
        const valueNode = pair.value as Node | null;
        if (valueNode === null) {
          this.values.set(child, this.position(keyNode?.range?.[1]));
          continue;
        }
        // `key:` with no value means "not set": the default applies (an empty list, for `backends:`).
        const value = this.toData(valueNode, child, depth + 1);
        if (value !== null) out[key] = value;
      }
      return out;
    }
    return null;
  }

  #merge(into: Record<string, unknown>, source: Node | null, path: string, depth: number): void {
    const sources = isSeq(source) ? (source.items as Node[]) : source ? [source] : [];
    for (const item of sources) {
      const merged = this.toData(item, path, depth + 1);
      if (merged && typeof merged === "object" && !Array.isArray(merged)) {
        for (const [k, v] of Object.entries(merged)) if (!(k in into)) into[k] = v;
      }
    }
  }

  #scalar(value: unknown, node: Node, path: string): unknown {
    const expanded = expandScalar(value, this.env);
    if ("error" in expanded) {
      this.#issue(node, path, expanded.error);
      return value;
    }
    return expanded.value;
  }

  #issue(node: Node, path: string, message: string): void {
    this.issues.push({ file: this.file, ...this.position(node.range?.[0]), path, message });
  }
}

const CORE_TAGS = new Set(["str", "int", "float", "bool", "null", "seq", "map"].map((name) => `tag:yaml.org,2002:${name}`));

/**
 * A tag other than the core schema's (`!!binary`, `!!set`, `!foo`...), as written; such values would reach the
 * schema as bytes, sets or unresolved text and be misdescribed ("got a mapping").
 */
function disallowedTag(node: Node): string | undefined {
  const tag = (node as { tag?: string }).tag;
  if (tag === undefined || tag === "!" || CORE_TAGS.has(tag)) return undefined;
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

/** A scalar with `${NAME}` expanded; a whole reference becomes an EnvValue. */
function expandScalar(value: unknown, env: Environment): { value: unknown } | { error: string } {
  if (typeof value !== "string") return { value };
  const expansion = expandEnv(value, env);
  if (!expansion.ok) return { error: expansion.message };
  const variable = wholeReference(value);
  return { value: variable !== undefined ? new EnvValue(expansion.value, variable) : expansion.value };
}

/**
 * A source from data the native parser produced (the fast path): same expansion and null handling as the walker
 * above, but no positions. Any problem makes the loader start over on the slow path, so positions are never needed.
 * A file of thousands of services has hundreds of thousands of values: the parser's fresh objects and arrays are
 * converted in place (the fast path takes no anchors, so nothing is shared), a value's path is spelled out only for
 * an issue, and a string without `$` is taken as it is.
 */
export function plainSource(file: string, data: unknown, env: Environment): ParseResult {
  const issues: ConfigIssue[] = [];
  const trail: Array<string | number> = [];
  const visit = (value: unknown): unknown => {
    if (typeof value === "string" && !value.includes("$")) return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        trail.push(i);
        value[i] = visit(value[i]);
        trail.pop();
      }
      return value;
    }
    if (value !== null && typeof value === "object") {
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        trail.push(key);
        const converted = visit(object[key]);
        trail.pop();
        if (key === "__proto__") {
          // What assigning it to a new object did: it sets the prototype (an object) or nothing; never a key.
          delete object[key];
          if (converted !== null && typeof converted === "object") Object.setPrototypeOf(object, converted);
        } else if (converted === null) {
          delete object[key];
        } else {
          object[key] = converted;
        }
      }
      return object;
    }
    const expanded = expandScalar(value, env);
    if ("error" in expanded) {
      issues.push({ file, line: 0, column: 0, path: trail.reduce<string>(childPath, ""), message: expanded.error });
      return value;
    }
    return expanded.value;
  };
  const converted = visit(data);
  if (issues.length > 0) return { ok: false, issues };
  return finalSource(file, converted);
}

/** A fast-path source from data that needs no conversion (no null, no `$`: `plainSource` would not change it). */
export function finalSource(file: string, data: unknown): ParseResult {
  const nowhere = (): Position => ({ line: 0, column: 0 });
  return { ok: true, source: { file, data, locate: nowhere, locateKey: nowhere } };
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}
