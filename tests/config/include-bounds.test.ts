/**
 * Issue 11 §2: include patterns. Absolute patterns stay allowed, every walk is bounded (depth, entries, never
 * /proc, /sys or /dev) with a clear error past the bound, symlinked directories are followed at most once, a
 * literal include must name an existing file, and `include` must be a string.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { walkInclude } from "../../src/config/include-walk.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, MINIMAL_MAIN, oneService, type ConfigTree } from "../support/config-tree.ts";
import { lbctlCommandLine, runLbctl } from "../support/run-lbctl.ts";

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

const service = (name: string, port: number) => oneService(`ports: [${port}]\nbackends: [{ address: 10.0.0.1 }]`, name);

describe("symlinks", () => {
  test("a loop config.d/sub/up -> .. loads every file once (no service is a duplicate of itself)", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d/**/*.yaml\n`, services: { "a.yaml": service("a", 80), "sub/b.yaml": service("b", 81) } });
    symlinkSync("..", tree.path("config.d/sub/up"));
    const result = loadConfig(tree.main, { env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.services.map((s) => s.name)).toEqual(["a", "b"]);
    expect(result.config.files).toEqual([tree.main, tree.path("config.d/a.yaml"), tree.path("config.d/sub/b.yaml")]);
  });

  test("a symlinked directory is followed (once), and the files keep the path they were reached by", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d/*/*.yaml\n` });
    tree.write("available/web/w.yaml", service("w", 80));
    symlinkSync(tree.path("available/web"), tree.path("config.d/web"));
    symlinkSync(tree.path("available/web"), tree.path("config.d/web-again"));
    const result = loadConfig(tree.main, { env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.files).toEqual([tree.main, tree.path("config.d/web/w.yaml")]);
  });

  test("two links to one file load it once", () => {
    tree = configTree({ services: { "a.yaml": service("a", 80) } });
    symlinkSync(tree.path("config.d/a.yaml"), tree.path("config.d/b.yaml"));
    const result = loadConfig(tree.main, { env: {} });
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["a"]);
  });

  test("a dangling link is no file", () => {
    tree = configTree({ services: { "a.yaml": service("a", 80) } });
    symlinkSync(tree.path("nowhere.yaml"), tree.path("config.d/b.yaml"));
    const result = loadConfig(tree.main, { env: {} });
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["a"]);
  });
});

describe("bounds", () => {
  function deepTree(t: ConfigTree, depth: number): void {
    let dir = t.path("walk");
    for (let level = 0; level < depth; level++) {
      dir = join(dir, `d${level}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "x.yaml"), "");
    }
  }

  test("a ** walk deeper than the bound is an error, not a silent cut", () => {
    tree = configTree();
    deepTree(tree, 6);
    const within = walkInclude(tree.path("walk"), "**/*.yaml", { maxDepth: 10, maxEntries: 1000 });
    expect(within.ok && within.files.map((f) => f.slice(tree!.path("walk").length))).toEqual([
      "/d0/d1/d2/d3/d4/d5/x.yaml",
      "/d0/d1/d2/d3/d4/x.yaml",
      "/d0/d1/d2/d3/x.yaml",
      "/d0/d1/d2/x.yaml",
      "/d0/d1/x.yaml",
      "/d0/x.yaml",
    ]);
    const walked = walkInclude(tree.path("walk"), "**/*.yaml", { maxDepth: 3, maxEntries: 1000 });
    expect(walked).toEqual({ ok: false, kind: "bound", message: expect.stringContaining("goes deeper than 3 directories below") });
  });

  test("more directory entries than the bound is an error", () => {
    tree = configTree();
    for (let i = 0; i < 30; i++) tree.write(`walk/f${i}.yaml`, "");
    expect(walkInclude(tree.path("walk"), "*.yaml", { maxDepth: 10, maxEntries: 30 })).toMatchObject({ ok: true });
    expect(walkInclude(tree.path("walk"), "*.yaml", { maxDepth: 10, maxEntries: 29 })).toEqual({
      ok: false,
      kind: "bound",
      message: expect.stringContaining("read more than 29 directory entries"),
    });
  });

  test("a pattern of fixed depth reads only the directories it can match", () => {
    tree = configTree();
    for (let i = 0; i < 20; i++) tree.write(`walk/other${i}/deep/x.yaml`, "");
    tree.write("walk/wanted/deep/x.yaml", "");
    // 21 entries at the top, one directory entered below it, one file: far under a bound of 25.
    const walked = walkInclude(tree.path("walk"), "wanted/*/x.yaml", { maxDepth: 10, maxEntries: 25 });
    expect(walked).toEqual({ ok: true, files: [tree.path("walk/wanted/deep/x.yaml")] });
  });

  test("`/**/*.yaml` stops at the bound with a clear error, in seconds", async () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: /**/*.yaml\n` });
    const started = performance.now();
    const run = await runLbctl(["validate", "--config", tree.main]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${tree.main}:5:10: include: pattern /**/*.yaml`);
    expect(run.stderr).toMatch(/read more than \d+ directory entries under \/|goes deeper than \d+ directories below \//);
    expect(performance.now() - started).toBeLessThan(20_000); // it walked /sys for 30 s+ before
  }, 30_000);

  for (const root of ["/proc", "/sys", "/dev"]) {
    test(`a glob inside ${root} is refused without walking it`, () => {
      tree = configTree({ main: `${MINIMAL_MAIN}include: ${root}/**/*.yaml\n` });
      const result = loadConfig(tree.main, { env: {} });
      expect(!result.ok && result.code).toBe("invalid");
      expect(!result.ok && result.issues[0]).toMatchObject({ path: "include", line: 5, message: expect.stringContaining(`inside ${root}`) });
    });
  }

  test("absolute patterns stay allowed", () => {
    tree = configTree();
    tree.write("etc/lbctl/config.d/a.yaml", service("a", 80));
    tree.write("config.yaml", `${MINIMAL_MAIN}include: ${tree.path("etc/lbctl/config.d")}/*.yaml\n`);
    const result = loadConfig(tree.main, { env: {} });
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["a"]);
  });
});

test("a directory the glob must search but cannot read is an error (exit 2), not a config without services", () => {
  tree = configTree({ services: { "a.yaml": service("a", 80) } });
  chmodSync(tree.dir, 0o755);
  chmodSync(tree.main, 0o644);
  chmodSync(tree.path("config.d"), 0o700);
  // Root reads every directory: run as nobody then (the tree is root's); anyone else is refused as they are.
  const asUnprivileged = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  const [command, ...args] = [...asUnprivileged, ...lbctlCommandLine(), "validate", "--config", tree.main];
  const run = spawnSync(command!, args, { env: { ...process.env, NO_COLOR: "1" } });
  expect(run.stderr.toString()).toContain(`cannot read the directory ${tree.path("config.d")}: permission denied`);
  expect(run.status).toBe(2);
}, 20_000);

describe("literal includes and the type of include", () => {
  test("a literal include naming a missing file is an error (exit 2), not a valid config with 0 services", async () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d/services.yaml\n` });
    const run = await runLbctl(["validate", "--config", tree.main]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`${tree.main}:5:10: include: names ${tree.path("config.d/services.yaml")}, which does not exist`);
  }, 20_000);

  test("a literal include naming an existing file loads it", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d/services.yaml\n`, services: { "services.yaml": service("a", 80) } });
    const result = loadConfig(tree.main, { env: {} });
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["a"]);
  });

  test("a literal include that a pending write creates counts as existing", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}include: config.d/services.yaml\n` });
    const result = loadConfig(tree.main, { env: {}, overlay: new Map([[tree.path("config.d/services.yaml"), service("a", 80)]]) });
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["a"]);
  });

  for (const [value, said] of [
    ["5", "got the number 5"],
    ["true", "got the boolean true"],
    ["[a.yaml, b.yaml]", "got a list"],
    ["{ a: b }", "got a mapping"],
  ] as const) {
    test(`include: ${value} is a type error`, () => {
      tree = configTree({ main: `${MINIMAL_MAIN}include: ${value}\n` });
      const result = loadConfig(tree.main, { env: {} });
      expect(!result.ok && result.code).toBe("invalid");
      expect(!result.ok && result.issues[0]).toMatchObject({ file: tree.main, line: 5, column: 10, path: "include" });
      expect(!result.ok && result.issues[0]!.message).toBe(`must be a file name or glob pattern as a string (e.g. config.d/*.yaml), got ${said.slice(4)}`);
    });
  }
});
