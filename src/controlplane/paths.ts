/**
 * The path rules of a replicated file (spec/controlplane.md "Path rules"), minus the symlink rule, which needs the
 * disk (see replica-store.ts). Pure: the include matcher is passed in.
 */

import { posix } from "node:path";

export const MAX_PATH_BYTES = 4096;

/** Whether a path relative to the main file's folder is matched by the include pattern. */
export type IncludeMatcher = (relativePath: string) => boolean;

// C0 controls, DEL and C1 controls; NUL is among them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `path` breaks a rule, or undefined when it keeps them all. */
export function pathProblem(path: unknown, matches: IncludeMatcher): string | undefined {
  if (typeof path !== "string") return "a path must be a string";
  if (path === "") return "empty path";
  if (Buffer.byteLength(path, "utf8") > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  if (!path.isWellFormed()) return "not valid UTF-8 (a lone surrogate)";
  if (CONTROL.test(path)) return "contains NUL or a control character";
  if (path.includes("\\")) return "contains a backslash";
  if (path.normalize("NFC") !== path) return "not in Unicode normal form C (another spelling of some name)";
  if (path.startsWith("/")) return "absolute path";
  for (const segment of path.split("/")) {
    if (segment === "") return "empty segment (// or a trailing /)";
    if (segment === "." || segment === "..") return `"${segment}" segment`;
  }
  if (posix.normalize(path) !== path) return "not in normal form";
  if (!matches(path)) return "not matched by the include pattern";
  return undefined;
}
