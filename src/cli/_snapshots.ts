/** What the snapshot subcommands share: loading the config, and reading a snapshot file back. */

import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { parseSnapshot, type Snapshot } from "../plan/snapshot.ts";
import { readSnapshotText } from "../system/snapshots.ts";
import { asCliError } from "./_kernel.ts";
import { CliError } from "./errors.ts";

export function loadMainConfig(path: string): Config {
  const loaded = loadConfig(path);
  if (!loaded.ok) throw new ConfigError(loaded.code, loaded.issues);
  return loaded.config;
}

/** A snapshot by id (or `latest`), checked: a file that is not one is an error naming it. */
export function readSnapshot(stateDir: string, id: string): Snapshot {
  let file: ReturnType<typeof readSnapshotText>;
  try {
    file = readSnapshotText(stateDir, id);
  } catch (error) {
    throw asCliError(error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.text);
  } catch {
    throw new CliError(`${file.path} is not valid JSON`, 1, "E_SNAPSHOT");
  }
  try {
    return parseSnapshot(parsed, file.path);
  } catch (error) {
    throw new CliError((error as Error).message, 1, "E_SNAPSHOT");
  }
}
