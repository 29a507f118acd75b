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
  if (syntaxError) {
    // Later parser errors are almost always consequences of the first one: report that one only.
    const at = position(syntaxError.pos[0]);
    const line = text.split("\n")[at.line - 1] ?? "";
    const hint = /[{[].*\$\{/.test(line) ? ' (inside { } or [ ], quote a ${VAR} value: "${VAR}")' : "";
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
        const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
        if (key === "<<") {
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
    if (typeof value !== "string") return value;
    const expansion = expandEnv(value, this.env);
    if (!expansion.ok) {
      this.#issue(node, path, expansion.message);
      return value;
    }
    const variable = wholeReference(value);
    return variable !== undefined ? new EnvValue(expansion.value, variable) : expansion.value;
  }

  #issue(node: Node, path: string, message: string): void {
    this.issues.push({ file: this.file, ...this.position(node.range?.[0]), path, message });
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}
