/**
 * Issue 11 §2: a main or included file that is not a regular file is refused unread with exit 2 (a FIFO must not
 * hang, /dev/zero must not be read), and nesting beyond the documented limit is refused before parsing.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { loadConfig } from "../../src/config/load.ts";
import { findTooDeep, MAX_NESTING_DEPTH } from "../../src/config/nesting.ts";
import { configTree, MINIMAL_MAIN, oneService, type ConfigTree } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

let tree: ConfigTree | undefined;
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
  tree?.remove();
  tree = undefined;
});

function mkfifo(path: string): string {
  const made = spawnSync("mkfifo", [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr}`);
  return path;
}

async function listenUnix(path: string): Promise<string> {
  server = createServer();
  await new Promise<void>((resolve, reject) => server!.once("error", reject).listen(path, resolve));
  return path;
}

describe("a main file that is not a regular file: exit 2 at once, never read", () => {
  const cases: Array<[kind: string, make: (t: ConfigTree) => Promise<string> | string, said: string]> = [
    ["/dev/zero", () => "/dev/zero", "is a character device"],
    ["a FIFO", (t) => mkfifo(t.path("fifo.yaml")), "is a FIFO (named pipe)"],
    ["a socket", (t) => listenUnix(t.path("sock.yaml")), "is a socket"],
    ["a directory", (t) => t.path("config.d"), "is a directory"],
  ];
  for (const [kind, make, said] of cases) {
    test(kind, async () => {
      tree = configTree();
      const path = await make(tree);
      const started = performance.now();
      const run = await runLbctl(["validate", "--config", path]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toContain(said);
      expect(run.stderr).toContain("regular files");
      // Reading /dev/zero grew to gigabytes and a FIFO hung forever; a refusal is a process start and a stat.
      expect(performance.now() - started).toBeLessThan(15_000);
    }, 20_000);
  }
});

describe("an included file that is not a regular file: exit 2, named", () => {
  test("a FIFO matched by the include glob", async () => {
    tree = configTree({ services: { "a.yaml": oneService("ports: [80]\nbackends: [{ address: 10.0.0.1 }]") } });
    const fifo = mkfifo(tree.path("config.d/b.yaml"));
    const run = await runLbctl(["validate", "--config", tree.main]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`${fifo}: the file is a FIFO (named pipe)`);
  }, 20_000);

  test("a socket matched by the include glob", async () => {
    tree = configTree();
    const socket = await listenUnix(tree.path("config.d/s.yaml"));
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]).toMatchObject({ file: socket, message: expect.stringContaining("is a socket") });
  });

  test("a literal include naming /dev/zero", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: /dev/zero\n` });
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.main, path: "include", line: 5 });
    expect(!result.ok && result.issues[0]!.message).toContain("inside /dev");
  });

  test("a link to a regular file under /proc (a kernel interface) is refused unread", () => {
    tree = configTree();
    symlinkSync("/proc/self/environ", tree.path("config.d/env.yaml"));
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.path("config.d/env.yaml"), message: expect.stringContaining("is inside /proc") });
  });

  test("a directory matched by the include glob (config.d/old.yaml/), directly or through a link", async () => {
    tree = configTree({ services: { "a.yaml": oneService("ports: [80]\nbackends: [{ address: 10.0.0.1 }]") } });
    tree.write("config.d/old.yaml/web.yaml", oneService("ports: [81]\nbackends: [{ address: 10.0.0.2 }]", "old"));
    const run = await runLbctl(["validate", "--config", tree.main]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`${tree.path("config.d/old.yaml")}: the file is a directory`);
    tree.remove();
    tree = configTree({ services: { "a.yaml": oneService("ports: [80]\nbackends: [{ address: 10.0.0.1 }]") } });
    tree.write("elsewhere/web.yaml", "services: []\n");
    symlinkSync(tree.path("elsewhere"), tree.path("config.d/linked.yaml"));
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.path("config.d/linked.yaml"), message: expect.stringContaining("is a directory") });
  });

  test("a literal include naming a directory", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d\n` });
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.path("config.d"), message: expect.stringContaining("is a directory") });
  });
});

describe("nesting deeper than the limit is refused before parsing, in milliseconds", () => {
  const deep = 100_000;
  const shapes: Array<[name: string, text: string, line: number]> = [
    ["a flow list 100,000 levels deep", `${MINIMAL_MAIN}x: ${"[".repeat(deep)}${"]".repeat(deep)}\n`, 5],
    ["flow mappings 100,000 levels deep", `${MINIMAL_MAIN}x: ${"{a: ".repeat(deep)}${"}".repeat(deep)}\n`, 5],
    ["a block list 100,000 levels deep on one line", `${MINIMAL_MAIN}x:\n  ${"- ".repeat(deep)}y\n`, 6],
    ["block lists nested by indentation", `${MINIMAL_MAIN}x:\n${Array.from({ length: 200 }, (_, i) => `${" ".repeat(2 + 2 * i)}-\n`).join("")}`, 5 + MAX_NESTING_DEPTH],
    ["a flow list opened over many lines", `${MINIMAL_MAIN}x:\n${"  [\n".repeat(deep)}`, 5 + MAX_NESTING_DEPTH],
  ];
  for (const [name, text, line] of shapes) {
    test(name, () => {
      tree = configTree({ main: text });
      const started = performance.now();
      const result = loadConfig(tree.main, { env: {} });
      const elapsed = performance.now() - started;
      if (result.ok) throw new Error("expected a refusal");
      expect(result.code).toBe("invalid");
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.file).toBe(tree.main);
      // The scan may count one level more than a parser on some layouts (documented): never less.
      expect([line - 1, line]).toContain(result.issues[0]!.line);
      expect(result.issues[0]!.message).toContain(`more than ${MAX_NESTING_DEPTH} levels deep`);
      // 100,000 levels cost 115 s of CPU before; the scan is one pass over 200 KB. Generous for a loaded machine.
      expect(elapsed).toBeLessThan(2_000);
    });
  }

  test("a service file is scanned too, and the message names it", () => {
    tree = configTree({ services: { "deep.yaml": `services: ${"[".repeat(deep)}\n` } });
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.path("config.d/deep.yaml"), line: 1 });
  });

  test("nesting up to the limit is accepted by the scan, and brackets in quotes, comments and block scalars do not count", () => {
    const atLimit = `x: ${"[".repeat(MAX_NESTING_DEPTH - 1)}${"]".repeat(MAX_NESTING_DEPTH - 1)}\n`;
    expect(findTooDeep(atLimit)).toBeUndefined();
    expect(findTooDeep(`x: ${"[".repeat(MAX_NESTING_DEPTH)}\n`)).toEqual({ line: 1, column: 3 + MAX_NESTING_DEPTH });
    const many = "[".repeat(3 * MAX_NESTING_DEPTH);
    const harmless = [
      `a: "${many}"`,
      `b: '${many}'`,
      `c: [x, "${many}", '${many}']`,
      `# ${many}`,
      `d: text ${many}`,
      "e: |",
      `  ${many}`,
      `  ${many}`,
      "f: >-",
      `    ${many}`,
      `g: "starts here`,
      `  ${many} and ends" # ${many}`,
    ].join("\n");
    expect(findTooDeep(harmless)).toBeUndefined();
  });

  test("short lines cannot nest past the limit: a list nested by indentation is refused once one line gets long enough", () => {
    // Line i is i spaces and "-": one level each, MAX_NESTING_DEPTH + 1 characters on the first line too deep.
    const nested = (levels: number) => Array.from({ length: levels }, (_, i) => `${" ".repeat(i)}-\n`).join("");
    expect(findTooDeep(nested(MAX_NESTING_DEPTH))).toBeUndefined();
    expect(findTooDeep(nested(MAX_NESTING_DEPTH + 1))).toEqual({ line: MAX_NESTING_DEPTH + 1, column: MAX_NESTING_DEPTH + 1 });
    // Brackets count against the length lines may have: every line here is shorter than the limit, but a flow list
    // opened over short lines takes the levels past it.
    const flowOverShortLines = `${nested(MAX_NESTING_DEPTH - 5)}${" ".repeat(MAX_NESTING_DEPTH - 5)}- [\n${"[\n".repeat(10)}`;
    expect(Math.max(...flowOverShortLines.split("\n").map((line) => line.length))).toBeLessThan(MAX_NESTING_DEPTH);
    expect(findTooDeep(flowOverShortLines)).toEqual({ line: MAX_NESTING_DEPTH - 1, column: 1 });
  });
});
