/**
 * A service file before it is written: its text, and its check against the whole configuration as it would be with
 * the file in place. Writing it is the system's job (system/service-file.ts: atomically, after this check).
 */

import { resolve } from "node:path";
import { stringify } from "yaml";
import type { Environment } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { includeMatches } from "./files.ts";
import { loadConfig } from "./load.ts";

export interface WriteServiceFileOptions {
  /** The main file whose configuration the new file joins. */
  mainFile: string;
  env?: Environment;
}

/** Validates `text` as the service file `path`; throws `ConfigError` when the configuration would be invalid with it. */
export function checkServiceFile(path: string, text: string, options: WriteServiceFileOptions): { notices: ConfigIssue[] } {
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
  return { notices: result.notices };
}

/** YAML text of a service file holding `services`, with an optional comment header (one `#` line per line). */
export function renderServiceFile(services: readonly Record<string, unknown>[], header?: string): string {
  const comment = header ? `${header.split("\n").map((line) => `# ${line}`.trimEnd()).join("\n")}\n\n` : "";
  return comment + stringify({ services }, { lineWidth: 0 });
}
