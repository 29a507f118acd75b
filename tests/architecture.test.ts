/**
 * The source tree's shape, checked on every run: dependencies between src/ folders point inward (a folder imports
 * only folders of a lower layer), and no module imports itself back through a cycle, type-only imports included.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/**
 * Each folder's layer, innermost first. The pure core sits low (the netlink codec, the config model, the planner and
 * the health state machine); the shells that wire it to the world sit high; a folder may import only lower layers.
 */
const LAYERS: Record<string, number> = {
  ipvs: 0,
  config: 1,
  plan: 2,
  health: 2,
  system: 2,
  k8s: 2,
  convert: 3,
  controlplane: 3,
  observability: 3,
  shell: 3,
  daemon: 4,
  cli: 5,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative imports of a file, static, dynamic and re-exports, type-only ones included. */
export function importsOf(text: string): string[] {
  const specifiers = new Set<string>();
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const pattern of [/\bfrom\s+["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /^\s*import\s+["']([^"']+)["']/gm]) {
    for (const match of code.matchAll(pattern)) if (match[1]!.startsWith(".")) specifiers.add(match[1]!);
  }
  return [...specifiers];
}

const files = sourceFiles(SRC);
const graph = new Map<string, string[]>();
for (const file of files) {
  const targets = importsOf(readFileSync(file, "utf8"))
    .map((specifier) => resolve(dirname(file), specifier))
    .filter((target) => target.startsWith(`${SRC}/`) && target.endsWith(".ts"));
  graph.set(file, targets);
}

const folderOf = (file: string) => relative(SRC, file).split("/")[0]!;
const show = (file: string) => relative(SRC, file);

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (let member = stack.pop()!; ; member = stack.pop()!) {
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("architecture", () => {
  test("the import scanner finds every kind of relative import, and the cycle finder finds cycles", () => {
    const text = `import type { A } from "./a.ts";\nimport {\n  b,\n} from "../b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport "./e.ts";\n// import { no } from "./commented.ts";\nimport { x } from "yaml";`;
    expect(importsOf(text).sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts"]);
    const edges = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["d"]], ["e", ["a"]]]);
    expect(cycles(edges)).toEqual([["a", "b", "c"], ["d"]]);
    expect(graph.size).toBeGreaterThan(100);
  });

  test("every src/ folder has a layer", () => {
    const folders = new Set(files.map(folderOf).filter((folder) => !folder.endsWith(".ts")));
    expect([...folders].filter((folder) => LAYERS[folder] === undefined)).toEqual([]);
  });

  test("imports between folders point inward", () => {
    const outward: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (from === to) continue;
        if (!(LAYERS[to]! < LAYERS[from]!)) outward.push(`${show(file)} → ${show(target)} (${from} is layer ${LAYERS[from]}, ${to} is layer ${LAYERS[to]})`);
      }
    }
    expect(outward).toEqual([]);
  });

  test("no import cycles", () => {
    expect(cycles(graph).map((cycle) => cycle.map(show).join(" ↔ "))).toEqual([]);
  });
});
