/** Reading config files: bounded in size, and the include glob resolved relative to the main file. */

import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** No config file is anywhere near this; a larger one is a mistake (or an attack) and is refused unread. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

export type ReadResult = { ok: true; text: string } | { ok: false; message: string };

export function readConfigFile(path: string): ReadResult {
  try {
    const info = statSync(path);
    if (info.isDirectory()) return { ok: false, message: "is a directory, not a config file" };
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      return { ok: false, message: `is ${info.size} bytes; config files are limited to ${MAX_CONFIG_FILE_BYTES} bytes` };
    }
    return { ok: true, text: readFileSync(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, message: "does not exist" };
    if (code === "EACCES" || code === "EPERM") return { ok: false, message: "cannot be read: permission denied" };
    return { ok: false, message: `cannot be read: ${(error as Error).message}` };
  }
}

const GLOB_CHARS = /[*?[\]{}]/;

/** Files matched by `pattern` (relative to the main file's folder unless absolute), sorted, regular files only. */
export function resolveInclude(mainFile: string, pattern: string): string[] {
  const { base, rest, absolute } = splitPattern(mainFile, pattern);
  if (rest === undefined) return isFile(absolute) ? [absolute] : [];
  let matches: string[];
  try {
    matches = [...new Bun.Glob(rest).scanSync({ cwd: base, onlyFiles: true, absolute: true, dot: false, followSymlinks: true })];
  } catch {
    return [];
  }
  return matches.sort();
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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
