/**
 * Reading config files: regular files only, bounded in size, never blocking; and the include pattern resolved
 * relative to the main file (the walk itself is bounded in include-walk.ts).
 */

import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { inSystemTree, walkInclude } from "./include-walk.ts";

/** No config file is anywhere near this; a larger one is a mistake (or an attack) and is refused unread. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

export type ReadResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

/**
 * The file's bytes, or why it cannot be a config file. Anything but a regular file (a directory, FIFO, socket,
 * device such as /dev/zero) is refused before it is opened: opening some devices has effects, a FIFO would block
 * and /dev/zero never ends. The open is non-blocking and checked again on the descriptor (the path could be
 * swapped in between), and the read stops one byte past the bound whatever the size said.
 */
export function readConfigFile(path: string): ReadResult {
  let fd: number | undefined;
  try {
    const refused = notARegularFile(statSync(path));
    if (refused) return { ok: false, message: refused };
    // Regular files under /proc and /sys are kernel interfaces: some block on read (trace_pipe), some hold secrets.
    const kernelTree = inSystemTree(realpathSync.native(path));
    if (kernelTree && kernelTree !== "/dev") return { ok: false, message: `is inside ${kernelTree}, a kernel interface, not a config file (refused unread)` };
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const info = fstatSync(fd);
    const swapped = notARegularFile(info);
    if (swapped) return { ok: false, message: swapped };
    return readBounded(fd, info.size);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, message: "does not exist" };
    if (code === "ENOTDIR") return { ok: false, message: "does not exist (a part of its path is not a directory)" };
    if (code === "EACCES" || code === "EPERM") return { ok: false, message: "cannot be read: permission denied" };
    return { ok: false, message: `cannot be read: ${(error as Error).message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function notARegularFile(info: Stats): string | undefined {
  if (info.isFile()) {
    return info.size > MAX_CONFIG_FILE_BYTES ? `is ${info.size} bytes; config files are limited to ${MAX_CONFIG_FILE_BYTES} bytes` : undefined;
  }
  const kind = info.isDirectory()
    ? "a directory"
    : info.isFIFO()
      ? "a FIFO (named pipe)"
      : info.isSocket()
        ? "a socket"
        : info.isCharacterDevice()
          ? "a character device"
          : info.isBlockDevice()
            ? "a block device"
            : "not a regular file";
  return `is ${kind}, not a config file: config files must be regular files (refused unread)`;
}

/** Reads to the end, sized by fstat but never trusting it: a file that grows past the bound is refused. */
function readBounded(fd: number, size: number): ReadResult {
  let buffer = new Uint8Array(Math.min(size, MAX_CONFIG_FILE_BYTES) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > MAX_CONFIG_FILE_BYTES) {
        return { ok: false, message: `is more than ${MAX_CONFIG_FILE_BYTES} bytes; config files are limited to ${MAX_CONFIG_FILE_BYTES} bytes` };
      }
      const grown = new Uint8Array(Math.min(buffer.length * 2 + 4096, MAX_CONFIG_FILE_BYTES + 1));
      grown.set(buffer);
      buffer = grown;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return { ok: true, bytes: buffer.subarray(0, length) };
    length += read;
  }
}

const GLOB_CHARS = /[*?[\]{}]/;

export type IncludeResult =
  | { ok: true; files: string[] }
  /**
   * `missing`: a literal include (no glob characters) that names no file; `refused`: one inside /proc, /sys or
   * /dev, or a directory the glob must search that cannot be read; `bound`: a glob whose walk went past a bound
   * (or would search those trees).
   */
  | { ok: false; kind: "missing" | "refused" | "bound"; message: string };

/**
 * Files matched by `pattern` (relative to the main file's folder unless absolute), sorted, each once. A pattern
 * without glob characters names one file, which must exist (`exists` lets a pending write count); a glob may
 * match nothing.
 */
export function resolveInclude(mainFile: string, pattern: string, exists: (file: string) => boolean = fileExists): IncludeResult {
  const { base, rest, absolute } = splitPattern(mainFile, pattern);
  const system = inSystemTree(resolve(rest === undefined ? absolute : base));
  if (system) {
    // A named file there is refused like any file that cannot be a config file; a glob there is a bad pattern.
    return { ok: false, kind: rest === undefined ? "refused" : "bound", message: `${pattern} points inside ${system}: config files cannot live there` };
  }
  if (rest === undefined) {
    if (exists(absolute)) return { ok: true, files: [absolute] };
    return { ok: false, kind: "missing", message: `names ${absolute}, which does not exist (a pattern without * ? [ ] { } names one file, which must exist)` };
  }
  const walked = walkInclude(base, rest);
  if (!walked.ok) {
    if (walked.kind === "unreadable") return { ok: false, kind: "refused", message: `pattern ${pattern}: ${walked.message}` };
    return { ok: false, kind: "bound", message: `pattern ${pattern} ${walked.message}` };
  }
  return walked;
}

/** Whether `file` (absolute) would be matched by the include pattern, whether or not it exists yet. */
export function includeMatches(mainFile: string, pattern: string, file: string): boolean {
  const { base, rest, absolute } = splitPattern(mainFile, pattern);
  if (rest === undefined) return resolve(file) === absolute;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  const candidate = resolve(file);
  return candidate.startsWith(prefix) && new Bun.Glob(rest).match(candidate.slice(prefix.length));
}

function splitPattern(mainFile: string, pattern: string): { base: string; rest: string | undefined; absolute: string } {
  const absolute = isAbsolute(pattern) ? pattern : join(dirname(resolve(mainFile)), pattern);
  const parts = absolute.split("/");
  const firstGlob = parts.findIndex((part) => GLOB_CHARS.test(part));
  if (firstGlob < 0) return { base: dirname(absolute), rest: undefined, absolute };
  return { base: parts.slice(0, firstGlob).join("/") || "/", rest: parts.slice(firstGlob).join("/"), absolute };
}

/** Whether anything is at `path` (what it is, reading decides: a FIFO named by include is refused, not missing). */
function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
