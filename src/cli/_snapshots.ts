/** What the snapshot subcommands share: loading the config, and reading a snapshot file back. */

import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { parseSnapshot, type Snapshot } from "../plan/snapshot.ts";
import { readSnapshotText } from "../system/snapshots.ts";
import { asCliError } from "./_kernel.ts";
import { CliError, jsonFailure } from "./errors.ts";
import type { Output } from "./output.ts";

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

/**
 * Runs a snapshot command; with `--json` a failure still prints one object (`shape` plus `error`, as apply --json
 * does) and returns the exit code that goes with it, so a script never reads an empty stdout.
 */
export async function withJsonFailure(json: boolean, out: Output, op: string, shape: object, body: () => number | Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!json) throw error;
    const failure = jsonFailure(error instanceof ConfigError ? error : asCliError(error), op);
    out.json({ ...shape, error: failure.error });
    return failure.exitCode;
  }
}
