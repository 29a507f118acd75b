/**
 * Writes one service file, validated first against the whole configuration as it would be with the file in place
 * (config/write.ts), then replaced atomically: an invalid file is never written and a crash never leaves a torn one.
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ConfigIssue } from "../config/errors.ts";
import { checkServiceFile, type WriteServiceFileOptions } from "../config/write.ts";
import { writeFileAtomic } from "./atomic-file.ts";

/** Validates and writes `text` to `path`; throws `ConfigError` (and writes nothing) when the result would be invalid. */
export function writeServiceFile(path: string, text: string, options: WriteServiceFileOptions): { notices: ConfigIssue[] } {
  const checked = checkServiceFile(path, text, options);
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  writeFileAtomic(target, text, { mode: 0o644 });
  return checked;
}
