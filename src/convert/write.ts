/** The shell that writes converted service files: all or nothing refused up front, each file atomic. */

import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { ConvertError } from "./issues.ts";

export interface PlannedFile {
  path: string;
  text: string;
}

export function plannedPath(dir: string, name: string): string {
  return resolve(join(dir, `${name}.yaml`));
}

/** Refuses to overwrite (without force) before writing anything, then writes each file atomically. */
export function writeServiceFiles(dir: string, files: readonly PlannedFile[], force: boolean): void {
  if (!force) {
    const existing = files.filter((f) => existsSync(f.path)).map((f) => f.path);
    if (existing.length > 0) throw new ConvertError("conflict", `${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}; nothing written (use --force to overwrite)`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new ConvertError("unreadable", `${dir}: cannot create the output folder (${error instanceof Error ? error.message : String(error)})`);
  }
  for (const file of files) writeFileAtomic(file.path, file.text);
}
