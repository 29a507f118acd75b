/**
 * The directory walk behind `include` globs, bounded: a pattern such as `/**\/*.yaml` must fail clearly instead of
 * walking the whole machine. Bounds: the depth below the pattern's fixed part, the number of directory entries
 * read, never into /proc, /sys or /dev (their files are not config and reading some has side effects), and every
 * directory entered once (by device and inode), so a symlink loop cannot load a file twice or walk forever.
 */

import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { join } from "node:path";

export const INCLUDE_MAX_DEPTH = 16;
export const INCLUDE_MAX_ENTRIES = 20_000;
const SYSTEM_TREES = ["/proc", "/sys", "/dev"];

export interface WalkLimits {
  maxDepth: number;
  maxEntries: number;
}

/** `bound`: past a bound (or into /proc, /sys, /dev); `unreadable`: a directory to search could not be read. */
export type WalkResult = { ok: true; files: string[] } | { ok: false; kind: "bound" | "unreadable"; message: string };

/** Whether `path` (absolute, resolved) is inside /proc, /sys or /dev. */
export function inSystemTree(path: string): string | undefined {
  return SYSTEM_TREES.find((root) => path === root || path.startsWith(`${root}/`));
}

/**
 * Files under `base` whose path relative to it matches `rest` (a glob), sorted. Whatever matches is returned,
 * directories and other non-regular files too, so that reading refuses them by name (exit 2, as Go's Glob then
 * ReadFile did) instead of skipping them silently.
 */
export function walkInclude(base: string, rest: string, limits: WalkLimits = { maxDepth: INCLUDE_MAX_DEPTH, maxEntries: INCLUDE_MAX_ENTRIES }): WalkResult {
  let root: string;
  try {
    root = realpathSync(base);
  } catch {
    return { ok: true, files: [] }; // a pattern whose fixed part does not exist matches nothing
  }
  const system = inSystemTree(root);
  if (system) return { ok: false, kind: "bound", message: `would search ${base}, inside ${system}: config files cannot live there` };
  return new Walk(base, root, rest, limits).run();
}

class Walk {
  readonly #glob: Bun.Glob;
  /** Per-level matchers for directory names, up to the first `**` (a brace holding `/` disables them). */
  readonly #levels: Bun.Glob[];
  readonly #maxDepth: number;
  /** A `**` (or a brace holding `/`) can match at any depth: the depth bound applies, with an error past it. */
  readonly #unbounded: boolean;
  readonly #dotFiles: boolean;
  readonly #seen = new Set<string>();
  readonly #files: string[] = [];
  #entries = 0;

  constructor(
    readonly base: string,
    readonly root: string,
    readonly pattern: string,
    readonly limits: WalkLimits,
  ) {
    this.#glob = new Bun.Glob(pattern);
    const segments = pattern.split("/");
    const globstar = segments.findIndex((segment) => segment.includes("**"));
    const braceSpansSlash = /\{[^}]*\/[^}]*\}/.test(pattern);
    this.#levels = braceSpansSlash ? [] : segments.slice(0, globstar < 0 ? segments.length : globstar).map((s) => new Bun.Glob(s));
    this.#unbounded = globstar >= 0 || braceSpansSlash;
    this.#maxDepth = this.#unbounded ? limits.maxDepth : segments.length;
    this.#dotFiles = pattern.startsWith(".") || pattern.includes("/.");
  }

  run(): WalkResult {
    try {
      this.#enter(this.base, this.root, statSync(this.root), "", 0);
    } catch (error) {
      if (error instanceof WalkStop) return { ok: false, kind: error.kind, message: error.message };
      throw error;
    }
    return { ok: true, files: this.#files.sort() };
  }

  /** `dir` is the path as reached (through links, as the user sees it); `real` is where it really is. */
  #enter(dir: string, real: string, info: Stats, relative: string, depth: number): void {
    const identity = `${info.dev}:${info.ino}`;
    if (this.#seen.has(identity)) return; // a symlinked directory already walked (or a loop back to an ancestor)
    this.#seen.add(identity);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return; // removed while we walked: nothing there to load
      // A directory that may hold service files but cannot be read must not look like one holding none: an apply
      // of that would delete every service it defines.
      throw new WalkStop("unreadable", `cannot read the directory ${dir}: ${code === "EACCES" || code === "EPERM" ? "permission denied" : (error as Error).message}`);
    }
    this.#entries += entries.length;
    if (this.#entries > this.limits.maxEntries) {
      throw new WalkStop("bound", `read more than ${this.limits.maxEntries} directory entries under ${this.base}: narrow the pattern (e.g. /etc/lbctl/config.d/*.yaml)`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".") && !this.#dotFiles) continue;
      const path = join(dir, entry.name);
      const childRelative = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const plain = !entry.isSymbolicLink() && (entry.isDirectory() || entry.isFile());
      const target = plain ? { real: join(real, entry.name), info: undefined } : followed(path);
      if (!target) continue; // a dangling link is no file
      const isDirectory = target.info ? target.info.isDirectory() : entry.isDirectory();
      const matches = depth + 1 <= this.#maxDepth && this.#glob.match(childRelative);
      if (matches) this.#file(path, target.info);
      if (isDirectory) this.#directory(path, target.real, target.info, childRelative, depth + 1, entry.name);
    }
  }

  #directory(path: string, real: string, known: Stats | undefined, relative: string, depth: number, name: string): void {
    const level = this.#levels[depth - 1];
    if (level && !level.match(name)) return;
    if (depth >= this.#maxDepth) {
      // Nothing below can match a pattern of fixed depth; below a `**`, the bound is an error, not a silent cut.
      if (this.#unbounded) {
        throw new WalkStop("bound", `goes deeper than ${this.limits.maxDepth} directories below ${this.base} (at ${path}): narrow the pattern`);
      }
      return;
    }
    if (inSystemTree(real)) return; // `/**` passes by /proc, /sys and /dev, never into them
    const info = known ?? safeStat(path);
    if (info) this.#enter(path, real, info, relative, depth);
  }

  #file(path: string, known: Stats | undefined): void {
    const info = known ?? safeStat(path);
    const identity = info ? `file ${info.dev}:${info.ino}` : `path ${path}`;
    if (this.#seen.has(identity)) return; // the same file reached through a second link loads once
    this.#seen.add(identity);
    this.#files.push(path);
  }
}

class WalkStop extends Error {
  constructor(
    readonly kind: "bound" | "unreadable",
    message: string,
  ) {
    super(message);
  }
}

function followed(path: string): { real: string; info: Stats } | undefined {
  try {
    return { real: realpathSync(path), info: statSync(path) };
  } catch {
    return undefined;
  }
}

function safeStat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
