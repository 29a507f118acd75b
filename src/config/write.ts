/**
 * Writes one service file, validated first against the whole configuration as it would be with the file in place,
 * then replaced atomically: an invalid file is never written and a crash never leaves a torn one.
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../system/atomic-file.ts";
import type { Environment } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { includeMatches } from "./files.ts";
import { loadConfig } from "./load.ts";

export interface WriteServiceFileOptions {
  /** The main file whose configuration the new file joins. */
  mainFile: string;
  env?: Environment;
}

/** Validates and writes `text` to `path`; throws `ConfigError` (and writes nothing) when the result would be invalid. */
export function writeServiceFile(path: string, text: string, options: WriteServiceFileOptions): { notices: ConfigIssue[] } {
  const target = resolve(path);
  const overlay = new Map([[target, text]]);
  const result = loadConfig(options.mainFile, { env: options.env ?? process.env, overlay });
  if (!result.ok) throw new ConfigError(result.code, result.issues);
  if (!result.config.files.includes(target)) {
    const main = result.config.main;
    if (!includeMatches(options.mainFile, main.include, target)) {
      throw new ConfigError("invalid", [
        { file: target, line: 0, column: 0, path: "", message: `${target} is not matched by include "${main.include}" of ${options.mainFile}, so lbctl would never load it` },
      ]);
    }
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  writeFileAtomic(target, text, { mode: 0o644 });
  return { notices: result.notices };
}

/** YAML text of a service file holding `services`, with an optional comment header (one `#` line per line). */
export function renderServiceFile(services: readonly Record<string, unknown>[], header?: string): string {
  const comment = header ? `${header.split("\n").map((line) => `# ${line}`.trimEnd()).join("\n")}\n\n` : "";
  return comment + stringify({ services }, { lineWidth: 0 });
}
